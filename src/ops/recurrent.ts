/**
 * Recurrent layers: rnn, gru and lstm over a whole sequence. Each is one
 * operator (legalized to one kernel that loops over the time steps), so a
 * sequence of any length — symbolic included — imports to one call rather
 * than a copy of the cell per step.
 *
 * Layout (time-major, as ONNX's layout 0): data [T, B, I]; weights
 * [D, G·H, I + H], each gate row the input weights then the recurrence
 * weights (ONNX's W and R side by side); bias [D, 2·G·H] (the input biases,
 * then the recurrence biases; lstm: then the peepholes, [D, 2·G·H + 3·H]);
 * seq_lens [B]; init [D, B, H], the initial hidden state (lstm: [2, D, B, H],
 * the hidden state then the cell state). D is 2 for bidirectional, else 1,
 * G the gates per cell (rnn 1, gru 3 in the order z r h, lstm 4 in the
 * order i o f c). Results: Y [T, D, B, H] (zero past a batch's length),
 * Y_h [D, B, H] (lstm also Y_c) — the state after each batch's last step.
 * The parameters come packed so that the kernel has few buffers: WebGPU
 * guarantees only 8 per kernel.
 *
 * `activations` names each direction's functions in turn (rnn: f; gru: f,
 * g; lstm: f, g, h), `activation_alpha` / `activation_beta` give one value
 * per function (empty: every function's default), `clip` bounds the gates'
 * inputs.
 */
import { z } from 'zod';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { argText, fmtExpr, int, outTensor, provablyDifferent, requireDtype, requireRank, sameDtype } from './shape.ts';
import { tupleSI, type TensorStructInfo } from '../ir/graph/struct-info.ts';
import { isFloat, isInt } from '../ir/dtype.ts';
import { add, mul, type PrimExpr } from '../ir/prim/expr.ts';

/** The activation functions a recurrent cell may use, with the parameters each reads. */
export const RECURRENT_ACTIVATIONS: Readonly<Record<string, { readonly alpha?: number; readonly beta?: number }>> = {
  relu: {},
  tanh: {},
  sigmoid: {},
  affine: { alpha: 1, beta: 0 },
  leaky_relu: { alpha: 0.01 },
  thresholded_relu: { alpha: 1 },
  scaled_tanh: { alpha: 1, beta: 1 },
  hard_sigmoid: { alpha: 0.2, beta: 0.5 },
  elu: { alpha: 1 },
  softsign: {},
  softplus: {},
};

export interface RecurrentCell {
  readonly op: 'rnn' | 'gru' | 'lstm';
  readonly gates: number;
  /** Activation functions per direction. */
  readonly funcs: number;
  readonly defaults: readonly string[];
}

export const CELLS: Readonly<Record<RecurrentCell['op'], RecurrentCell>> = {
  rnn: { op: 'rnn', gates: 1, funcs: 1, defaults: ['tanh'] },
  gru: { op: 'gru', gates: 3, funcs: 2, defaults: ['sigmoid', 'tanh'] },
  lstm: { op: 'lstm', gates: 4, funcs: 3, defaults: ['sigmoid', 'tanh', 'tanh'] },
};

export function directions(direction: string): number {
  return direction === 'bidirectional' ? 2 : 1;
}

const common = {
  direction: A.choice(['forward', 'reverse', 'bidirectional'], 'forward'),
  activations: z.array(z.string()).nullable().default(null),
  activation_alpha: z.array(z.number()).default([]),
  activation_beta: z.array(z.number()).default([]),
  clip: z.number().positive().nullable().default(null),
};

interface Attrs {
  readonly direction: string;
  readonly activations: readonly string[] | null;
  readonly activation_alpha: readonly number[];
  readonly activation_beta: readonly number[];
}

/** The activation functions of every direction in turn: the given ones, or the cell's defaults. */
export function activationsOf(cell: RecurrentCell, attrs: Attrs): string[] {
  const d = directions(attrs.direction);
  return attrs.activations ? [...attrs.activations] : Array.from({ length: d }, () => cell.defaults).flat();
}

function checkActivations(ctx: InferContext, cell: RecurrentCell, attrs: Attrs): void {
  const acts = activationsOf(cell, attrs);
  const want = cell.funcs * directions(attrs.direction);
  if (acts.length !== want)
    ctx.shapeError(`expected ${want} activations for a ${attrs.direction} ${cell.op}, found ${acts.length}`);
  for (const a of acts) {
    if (!(a in RECURRENT_ACTIVATIONS))
      ctx.shapeError(`unknown activation '${a}' (expected one of ${Object.keys(RECURRENT_ACTIVATIONS).join(', ')})`);
  }
  for (const [name, list] of [
    ['activation_alpha', attrs.activation_alpha],
    ['activation_beta', attrs.activation_beta],
  ] as const) {
    if (list.length !== 0 && list.length !== want)
      ctx.shapeError(`expected ${name} to be empty or have ${want} values, found ${list.length}`);
  }
}

/** Checks one argument's dims against what they must be. */
function requireDims(ctx: InferContext, name: string, t: TensorStructInfo, dims: readonly PrimExpr[]): void {
  requireRank(ctx, name, t, dims.length);
  if (!t.shape) return;
  dims.forEach((d, i) => {
    const have = t.shape![i]!;
    if (provablyDifferent(ctx.analyzer, have, d)) {
      ctx.shapeError(`dim ${i} of ${argText(name, t)} is ${fmtExpr(have)}, expected ${fmtExpr(ctx.analyzer.simplify(d))}`);
    }
  });
}

function inferRecurrent(cell: RecurrentCell, args: RecurrentArgs, attrs: Attrs, ctx: InferContext) {
  checkActivations(ctx, cell, attrs);
  const { data, weights, bias, seq_lens, init } = args;
  const dtype = sameDtype(ctx, [
    ['data', data],
    ['weights', weights],
    ['bias', bias],
    ['init', init],
  ]);
  requireDtype(ctx, 'data', data, isFloat, 'a float');
  requireDtype(ctx, 'seq_lens', seq_lens, isInt, 'an integer');
  const lstm = cell.op === 'lstm';
  requireRank(ctx, 'data', data, 3);
  requireRank(ctx, 'init', init, lstm ? 4 : 3);
  const states = Array.from({ length: lstm ? 2 : 1 }, () => outTensor(3, dtype, data));
  if (!data.shape || !init.shape) return tupleSI([outTensor(4, dtype, data), ...states]);
  const [T, B, I] = data.shape as [PrimExpr, PrimExpr, PrimExpr];
  const H = init.shape[init.shape.length - 1]!;
  const D = int(directions(attrs.direction));
  const GH = mul(H, cell.gates);
  requireDims(ctx, 'weights', weights, [D, GH, add(I, H)]);
  requireDims(ctx, 'bias', bias, [D, lstm ? add(mul(GH, 2), mul(H, 3)) : mul(GH, 2)]);
  requireDims(ctx, 'seq_lens', seq_lens, [B]);
  requireDims(ctx, 'init', init, lstm ? [int(2), D, B, H] : [D, B, H]);
  const state = outTensor([D, B, H], dtype, data);
  return tupleSI([outTensor([T, D, B, H], dtype, data), ...states.map(() => state)]);
}

const ARGS = [
  { name: 'data', kind: 'tensor' },
  { name: 'weights', kind: 'tensor' },
  { name: 'bias', kind: 'tensor' },
  { name: 'seq_lens', kind: 'tensor' },
  { name: 'init', kind: 'tensor' },
] as const;

interface RecurrentArgs {
  readonly data: TensorStructInfo;
  readonly weights: TensorStructInfo;
  readonly bias: TensorStructInfo;
  readonly seq_lens: TensorStructInfo;
  readonly init: TensorStructInfo;
}

defineOp({
  name: 'rnn',
  args: ARGS,
  attrs: z.object(common),
  infer: (args, attrs, ctx) => inferRecurrent(CELLS.rnn, args, attrs, ctx),
});

defineOp({
  name: 'gru',
  args: ARGS,
  attrs: z.object({ ...common, linear_before_reset: A.flag(false) }),
  infer: (args, attrs, ctx) => inferRecurrent(CELLS.gru, args, attrs, ctx),
});

defineOp({
  name: 'lstm',
  args: ARGS,
  attrs: z.object({ ...common, input_forget: A.flag(false) }),
  infer: (args, attrs, ctx) => inferRecurrent(CELLS.lstm, args, attrs, ctx),
});
