/**
 * RNN, GRU and LSTM: each node becomes one Kiln rnn / gru / lstm call, a
 * kernel that loops over the time steps (never a copy of the cell per
 * step). The optional inputs ONNX leaves out are filled in here (zero
 * biases, states and peepholes; every sequence at full length), and the
 * batch-major layout 1 is transposed to and from Kiln's time-major one.
 */
import type { AttrMap, AttrValue } from '../../../../ir/attrs.ts';
import { cast, mul, type PrimExpr } from '../../../../ir/prim/expr.ts';
import { fmtExpr } from '../../../../ops/shape.ts';
import { CELLS, RECURRENT_ACTIVATIONS, type RecurrentCell } from '../../../../ops/recurrent.ts';
import type { NodeContext } from '../../context.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { castTo, idx, requested } from './common.ts';

/** ONNX's activation names (any case) → Kiln's. */
const ACTIVATION_NAMES: Readonly<Record<string, string>> = {
  relu: 'relu',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  affine: 'affine',
  leakyrelu: 'leaky_relu',
  thresholdedrelu: 'thresholded_relu',
  scaledtanh: 'scaled_tanh',
  hardsigmoid: 'hard_sigmoid',
  elu: 'elu',
  softsign: 'softsign',
  softplus: 'softplus',
};

/**
 * The activations with one alpha and one beta each: ONNX lists the
 * parameters of only the functions that take them, in the functions' order;
 * a function past the end of the list takes its default.
 */
function activations(ctx: NodeContext, cell: RecurrentCell, dirs: number): AttrMap {
  const given = ctx.attr.strings('activations', []);
  if (given.length === 0) return {};
  // A single direction's list serves both directions of a bidirectional node.
  const list = given.length === cell.funcs && dirs === 2 ? [...given, ...given] : given;
  if (list.length !== cell.funcs * dirs) {
    return ctx.fail(`expected ${cell.funcs * dirs} activations, found ${given.length} (${given.join(', ')})`);
  }
  const names = list.map((a) => {
    const name = ACTIVATION_NAMES[a.toLowerCase()];
    return name ?? ctx.fail(`activation '${a}' is not supported`);
  });
  const alphas = ctx.attr.floats('activation_alpha', []);
  const betas = ctx.attr.floats('activation_beta', []);
  let nextAlpha = 0;
  let nextBeta = 0;
  const alpha: number[] = [];
  const beta: number[] = [];
  for (const n of names) {
    const def = RECURRENT_ACTIVATIONS[n]!;
    alpha.push(def.alpha === undefined ? 0 : (alphas[nextAlpha++] ?? def.alpha));
    beta.push(def.beta === undefined ? 0 : (betas[nextBeta++] ?? def.beta));
  }
  return { activations: names, activation_alpha: alpha, activation_beta: beta };
}

function permute(ctx: NodeContext, v: Value, axes: readonly number[]): Value {
  return ctx.op('permute_dims', [v], { axes: [...axes] });
}

function zeros(ctx: NodeContext, dims: readonly PrimExpr[]): Value {
  return ctx.op('zeros', [ctx.shapeArg(dims)], { dtype: ctx.dtype(0) });
}

/** `parts` joined along `axis`. */
function concat(ctx: NodeContext, parts: readonly Value[], axis: number): Value {
  if (parts.length === 1) return parts[0]!;
  return ctx.op('concat', [{ kind: 'tuple', fields: parts.map((p) => ctx.materialize(p).expr) }], { axis });
}

function convertRecurrent(ctx: NodeContext, cell: RecurrentCell): (Value | undefined)[] {
  const direction = ctx.attr.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) return ctx.fail(`direction '${direction}' is not supported`);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const batchMajor = ctx.opset >= 14 && ctx.attr.int('layout', 0) === 1;
  const dtype = ctx.dtype(0);
  if (ctx.rank(0) !== 3) return ctx.fail(`X has rank ${ctx.rank(0)}, expected 3`);
  if (ctx.rank(2) !== 3) return ctx.fail(`R has rank ${ctx.rank(2)}, expected 3`);
  const x = batchMajor ? permute(ctx, ctx.input(0), [1, 0, 2]) : ctx.input(0);
  const [T, B] = batchMajor ? [ctx.shape(0)[1]!, ctx.shape(0)[0]!] : [ctx.shape(0)[0]!, ctx.shape(0)[1]!];
  const H = ctx.shape(2)[2]!;
  const D = idx(dirs);
  const lstm = cell.op === 'lstm';
  const param = (i: number): Value => castTo(ctx, ctx.input(i), dtype);
  // W and R are joined before Kiln's operator sees them: their dims are checked here, by their ONNX names.
  const GH = ctx.simplify(mul(H, cell.gates));
  for (const [i, name, last] of [
    [1, 'W', ctx.shape(0)[2]!],
    [2, 'R', H],
  ] as const) {
    const want = [D, GH, last];
    const have = ctx.shape(i);
    if (have.length !== 3 || have.some((d, k) => !ctx.analyzer.proveEqual(d, want[k]!))) {
      return ctx.fail(
        `${name} has shape [${have.map(fmtExpr).join(', ')}], expected [${want.map(fmtExpr).join(', ')}] (directions, ${cell.gates} gates × hidden ${fmtExpr(H)}, ${i === 1 ? 'input' : 'hidden'} size)`,
      );
    }
  }
  const stateDims = [D, B, H];
  const state = (i: number): Value => {
    if (!ctx.has(i)) return zeros(ctx, stateDims);
    return batchMajor ? permute(ctx, param(i), [1, 0, 2]) : param(i);
  };
  // Kiln's operators take the parameters packed (see ops/recurrent.ts).
  const weights = concat(ctx, [param(1), param(2)], 2);
  const biases = ctx.has(3) ? param(3) : zeros(ctx, [D, ctx.simplify(mul(H, 2 * cell.gates))]);
  const peepholes = ctx.has(7) ? param(7) : zeros(ctx, [D, ctx.simplify(mul(H, 3))]);
  const bias = lstm ? concat(ctx, [biases, peepholes], 1) : biases;
  const lens = ctx.has(4) ? ctx.input(4) : ctx.op('full', [ctx.shapeArg([B]), ctx.primArg(cast('int32', T))], { dtype: 'int32' });
  const stacked = (i: number): Value => ctx.op('reshape', [state(i), ctx.shapeArg([idx(1), ...stateDims])]);
  const init = !lstm
    ? state(5)
    : !ctx.has(5) && !ctx.has(6)
      ? zeros(ctx, [idx(2), ...stateDims])
      : concat(ctx, [stacked(5), stacked(6)], 0);
  const attrs: Record<string, AttrValue> = {
    direction,
    ...activations(ctx, cell, dirs),
    ...(ctx.attr.has('clip') ? { clip: ctx.attr.float('clip') } : {}),
  };
  if (lstm) attrs['input_forget'] = ctx.attr.int('input_forget', 0) !== 0;
  if (cell.op === 'gru') attrs['linear_before_reset'] = ctx.attr.int('linear_before_reset', 0) !== 0;
  const outs = ctx.opTuple(cell.op, [x, weights, bias, lens, init], attrs);
  // Layout 1: Y is [B, T, D, H], the states [B, D, H].
  return outs.map((o, i) => {
    if (!requested(ctx, i)) return undefined;
    if (!batchMajor) return o;
    return permute(ctx, o, i === 0 ? [2, 0, 1, 3] : [1, 0, 2]);
  });
}

defineConverter('RNN', (ctx) => convertRecurrent(ctx, CELLS.rnn));
defineConverter('GRU', (ctx) => convertRecurrent(ctx, CELLS.gru));
defineConverter('LSTM', (ctx) => convertRecurrent(ctx, CELLS.lstm));
