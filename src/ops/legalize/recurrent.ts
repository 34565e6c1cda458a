/**
 * Legalizations of rnn, gru and lstm: one hand-written kernel per call that
 * walks each batch's sequence step by step (the steps depend on each other
 * through the state, so time is a serial loop inside the kernel, whatever
 * the sequence length). Each direction is its own loop nest, with its
 * activations and its order of steps written in.
 *
 * Per batch b and step s < seq_lens[b] (the time t = s forward, len-1-s in
 * reverse), each hidden unit's gates are dot products of its weight rows
 * with x_t and the previous hidden state, which is Y at the previous step
 * (the initial state at the first): Y holds every step's state, so the
 * kernel needs no scratch state but the cell state, kept in Y_c. gru
 * without linear_before_reset needs r ⊙ h over all units before any h gate;
 * it stages that in Y_h, written with the final state at the end. Y's steps
 * past a batch's length are zero. No global scratch: on WebGPU each would
 * be one more of the 8 storage buffers a kernel is guaranteed.
 */
import type { Tensor } from '../../ir/builder/te.ts';
import type { DataType } from '../../ir/dtype.ts';
import {
  add,
  call,
  castIfNeeded,
  div,
  eq,
  gt,
  intImm,
  load,
  lt,
  max,
  min,
  mul,
  type PrimExpr,
  type PrimVar,
  primVar,
  select,
  sub,
} from '../../ir/prim/expr.ts';
import { type Buffer, buffer } from '../../ir/tir/buffer.ts';
import { allocate, forLoop, ifThenElse, letStmt, seq, type Stmt, store } from '../../ir/tir/stmt.ts';
import { activationsOf, CELLS, directions, RECURRENT_ACTIVATIONS, type RecurrentCell } from '../recurrent.ts';
import { lit } from './common.ts';
import { defineLegalization, type HandWritten, type LegalizeCall } from './registry.ts';

const I64 = 'int64';
const int = (v: number): PrimExpr => intImm(v, I64);

type Activation = (x: PrimExpr) => PrimExpr;

/** ONNX's activation functions of recurrent cells, with their parameters. */
function activation(name: string, alpha: number, beta: number): Activation {
  const c = (v: number, x: PrimExpr): PrimExpr => lit(v, x.dtype);
  switch (name) {
    case 'relu':
      return (x) => max(x, c(0, x));
    case 'tanh':
      return (x) => call('tanh', [x]);
    case 'sigmoid':
      return (x) => call('sigmoid', [x]);
    case 'affine':
      return (x) => add(mul(c(alpha, x), x), c(beta, x));
    case 'leaky_relu':
      return (x) => select(lt(x, c(0, x)), mul(c(alpha, x), x), x);
    case 'thresholded_relu':
      return (x) => select(gt(x, c(alpha, x)), x, c(0, x));
    case 'scaled_tanh':
      return (x) => mul(c(alpha, x), call('tanh', [mul(c(beta, x), x)]));
    case 'hard_sigmoid':
      return (x) => max(c(0, x), min(c(1, x), add(mul(c(alpha, x), x), c(beta, x))));
    case 'elu':
      return (x) => select(lt(x, c(0, x)), mul(c(alpha, x), sub(call('exp', [x]), c(1, x))), x);
    case 'softsign':
      return (x) => div(x, add(c(1, x), call('abs', [x])));
    case 'softplus':
      return (x) => call('log', [add(c(1, x), call('exp', [x]))]);
    default:
      throw new Error(`unknown recurrent activation '${name}' (the operator's inference checks them)`);
  }
}

/** The activations of direction `d`, in the cell's order (f, g, h). */
function directionActivations(c: LegalizeCall, cell: RecurrentCell, d: number): Activation[] {
  const names = activationsOf(cell, {
    direction: c.attr<string>('direction'),
    activations: c.optionalAttr<string[]>('activations') ?? null,
    activation_alpha: [],
    activation_beta: [],
  });
  const alphas = c.attr<number[]>('activation_alpha');
  const betas = c.attr<number[]>('activation_beta');
  return Array.from({ length: cell.funcs }, (_, k) => {
    const i = d * cell.funcs + k;
    const name = names[i]!;
    const defaults = RECURRENT_ACTIVATIONS[name]!;
    return activation(name, alphas[i] ?? defaults.alpha ?? 0, betas[i] ?? defaults.beta ?? 0);
  });
}

function forRange(name: string, extent: PrimExpr, body: (k: PrimVar) => Stmt): Stmt {
  const k = primVar(name, extent.dtype);
  return forLoop(k, intImm(0, extent.dtype), extent, body(k));
}

function bind(name: string, value: PrimExpr, body: (v: PrimVar) => Stmt): Stmt {
  const v = primVar(name, value.dtype);
  return letStmt(v, value, body(v));
}

interface Kernel {
  readonly cell: RecurrentCell;
  readonly x: Tensor;
  /** [D, G·H, I + H]: each gate row's input weights, then its recurrence weights. */
  readonly w: Tensor;
  readonly bias: Tensor;
  readonly lens: Tensor;
  readonly init: Tensor;
  readonly y: Buffer;
  readonly yh: Buffer;
  readonly yc?: Buffer;
  /** The current unit's gate inputs (local: one per gate, and gru's h·R_h part). */
  readonly pre: Buffer;
  readonly H: PrimExpr;
  readonly I: PrimExpr;
  readonly T: PrimExpr;
  readonly dtype: DataType;
  readonly clip: number | undefined;
  readonly linearBeforeReset: boolean;
  readonly inputForget: boolean;
}

/** Where one step of one batch of one direction is. */
interface At {
  readonly d: PrimExpr;
  readonly b: PrimExpr;
  readonly t: PrimExpr;
  /** The previous hidden state's unit k. */
  readonly hPrev: (k: PrimExpr) => PrimExpr;
  readonly acts: readonly Activation[];
}

/** The initial hidden state's unit (lstm's init stacks the hidden state on the cell state). */
function initH(k: Kernel, d: PrimExpr, b: PrimExpr, j: PrimExpr): PrimExpr {
  return k.cell.op === 'lstm' ? k.init.at(int(0), d, b, j) : k.init.at(d, b, j);
}

/** `pre[slot] = init + Σ terms`, each term a sum over its own range. */
function accumulate(
  k: Kernel,
  slot: number,
  init: PrimExpr,
  terms: readonly (readonly [PrimExpr, (i: PrimVar) => PrimExpr])[],
): Stmt {
  return seq([
    store(k.pre, [slot], init),
    ...terms.map(([extent, term]) => forRange('k', extent, (i) => store(k.pre, [slot], add(load(k.pre, [slot]), term(i))))),
  ]);
}

/** Gate `gate`'s input part for unit j: x_t · W[row] + Wb[row]. */
function inputPart(k: Kernel, at: At, row: PrimExpr): readonly [PrimExpr, (i: PrimVar) => PrimExpr] {
  return [k.I, (i) => mul(k.x.at(at.t, at.b, i), k.w.at(at.d, row, i))];
}

/** Its recurrence part: h · R[row], h read through `h`. */
function recurrencePart(
  k: Kernel,
  at: At,
  row: PrimExpr,
  h: (i: PrimExpr) => PrimExpr,
): readonly [PrimExpr, (i: PrimVar) => PrimExpr] {
  return [k.H, (i) => mul(h(i), k.w.at(at.d, row, add(k.I, i)))];
}

/** pre[slot] = the whole input of gate `gate` for unit j: both products and both biases. */
function gateInput(k: Kernel, at: At, slot: number, gate: number, j: PrimExpr): Stmt {
  const row = add(mul(k.H, gate), j);
  const biases = add(k.bias.at(at.d, row), k.bias.at(at.d, add(mul(k.H, k.cell.gates), row)));
  return accumulate(k, slot, biases, [inputPart(k, at, row), recurrencePart(k, at, row, at.hPrev)]);
}

/** One step: every unit's gates and new state. */
function step(k: Kernel, at: At): Stmt {
  const { H } = k;
  const clip = (e: PrimExpr): PrimExpr => (k.clip === undefined ? e : min(max(e, lit(-k.clip, k.dtype)), lit(k.clip, k.dtype)));
  const one = lit(1, k.dtype);
  const pre = (slot: number): PrimExpr => load(k.pre, [slot]);
  const emit = (j: PrimExpr, h: PrimExpr): Stmt => store(k.y, [at.t, at.d, at.b, j], h);
  const unit = (body: (j: PrimVar) => Stmt): Stmt => forRange('j', H, body);
  switch (k.cell.op) {
    case 'rnn':
      return unit((j) => seq([gateInput(k, at, 0, 0, j), emit(j, at.acts[0]!(clip(pre(0))))]));
    case 'gru': {
      const [f, g] = at.acts as [Activation, Activation];
      const GH = mul(H, 3);
      const hRow = (j: PrimExpr): PrimExpr => add(mul(H, 2), j);
      const newState = (j: PrimVar, hh: PrimExpr): Stmt =>
        bind('z', f(clip(pre(0))), (z) => bind('hh', hh, (h) => emit(j, add(mul(sub(one, z), h), mul(z, at.hPrev(j))))));
      if (k.linearBeforeReset) {
        // h̃ = g(x·W_h + Wb_h + r ⊙ (h·R_h + Rb_h)).
        return unit((j) =>
          seq([
            gateInput(k, at, 0, 0, j),
            gateInput(k, at, 1, 1, j),
            accumulate(k, 2, k.bias.at(at.d, hRow(j)), [inputPart(k, at, hRow(j))]),
            accumulate(k, 3, k.bias.at(at.d, add(GH, hRow(j))), [recurrencePart(k, at, hRow(j), at.hPrev)]),
            newState(j, g(clip(add(pre(2), mul(f(clip(pre(1))), pre(3)))))),
          ]),
        );
      }
      // h̃ = g(x·W_h + Wb_h + (r ⊙ h)·R_h + Rb_h): r ⊙ h of every unit first, staged in Y_h.
      const rh = (i: PrimExpr): PrimExpr => load(k.yh, [at.d, at.b, i]);
      return seq([
        unit((j) => seq([gateInput(k, at, 1, 1, j), store(k.yh, [at.d, at.b, j], mul(f(clip(pre(1))), at.hPrev(j)))])),
        unit((j) =>
          seq([
            gateInput(k, at, 0, 0, j),
            accumulate(k, 2, add(k.bias.at(at.d, hRow(j)), k.bias.at(at.d, add(GH, hRow(j)))), [
              inputPart(k, at, hRow(j)),
              recurrencePart(k, at, hRow(j), rh),
            ]),
            newState(j, g(clip(pre(2)))),
          ]),
        ),
      ]);
    }
    case 'lstm': {
      const [f, g, h] = at.acts as [Activation, Activation, Activation];
      const yc = k.yc!;
      // Peepholes follow the biases, in the order i o f.
      const peep = (gate: number, j: PrimExpr): PrimExpr => k.bias.at(at.d, add(mul(H, 8 + gate), j));
      // Gate rows: i o f c.
      return unit((j) =>
        seq([
          ...[0, 1, 2, 3].map((gate) => gateInput(k, at, gate, gate, j)),
          bind('c_prev', load(yc, [at.d, at.b, j]), (cPrev) =>
            bind('i', f(clip(add(pre(0), mul(peep(0, j), cPrev)))), (i) =>
              bind('f', k.inputForget ? sub(one, i) : f(clip(add(pre(2), mul(peep(2, j), cPrev)))), (fg) =>
                bind('c_new', add(mul(fg, cPrev), mul(i, g(clip(pre(3))))), (c) =>
                  bind('o', f(clip(add(pre(1), mul(peep(1, j), c)))), (o) =>
                    seq([store(yc, [at.d, at.b, j], c), emit(j, mul(o, h(c)))]),
                  ),
                ),
              ),
            ),
          ),
        ]),
      );
    }
  }
}

/** Direction `d`'s loop nest: every batch's sequence, then its final state. */
function directionNest(k: Kernel, d: number, reverse: boolean, acts: readonly Activation[]): Stmt {
  const D = int(d);
  const { T, H } = k;
  const B = k.x.shape[1]!;
  const b = primVar('b', B.dtype);
  // Batches are independent: the loop over them is parallel (threads on wasm; js and WGSL run it in
  // order), each iteration with its own gate scratch.
  const perBatch = bind('len', max(int(0), min(castIfNeeded(I64, k.lens.at(b)), T)), (len) =>
    seq([
      ...(k.yc ? [forRange('j', H, (j) => store(k.yc!, [D, b, j], k.init.at(int(1), D, b, j)))] : []),
      forRange('s', T, (s) =>
        ifThenElse(
          lt(s, len),
          bind('t', reverse ? sub(sub(len, 1), s) : s, (t) =>
            // The previous step's time; clamped at the first step, which reads the initial state instead.
            bind('t_prev', reverse ? min(add(t, 1), sub(T, 1)) : max(sub(t, 1), int(0)), (tp) => {
              const hPrev = (i: PrimExpr): PrimExpr => select(eq(s, int(0)), initH(k, D, b, i), load(k.y, [tp, D, b, i]));
              return step(k, { d: D, b, t, hPrev, acts });
            }),
          ),
          forRange('j', H, (j) => store(k.y, [s, D, b, j], lit(0, k.dtype))),
        ),
      ),
      bind('t_last', reverse ? int(0) : max(sub(len, 1), int(0)), (last) =>
        forRange('j', H, (j) => store(k.yh, [D, b, j], select(gt(len, int(0)), load(k.y, [last, D, b, j]), initH(k, D, b, j)))),
      ),
    ]),
  );
  return forLoop(b, intImm(0, B.dtype), B, allocate(k.pre, perBatch), { forKind: 'parallel' });
}

function legalizeRecurrent(c: LegalizeCall, cell: RecurrentCell): HandWritten {
  const x = c.tensor('data');
  const init = c.tensor('init');
  const dtype = x.dtype;
  const H = init.shape[init.shape.length - 1]!;
  const direction = c.attr<string>('direction');
  const lstm = cell.op === 'lstm';
  const k: Omit<Kernel, 'pre'> = {
    cell,
    x,
    w: c.tensor('weights'),
    bias: c.tensor('bias'),
    lens: c.tensor('seq_lens'),
    init,
    y: buffer(`T_${cell.op}_y`, c.outShape(0), dtype),
    yh: buffer(`T_${cell.op}_y_h`, c.outShape(1), dtype),
    ...(lstm ? { yc: buffer(`T_${cell.op}_y_c`, c.outShape(2), dtype) } : {}),
    H,
    I: x.shape[2]!,
    T: x.shape[0]!,
    dtype,
    clip: c.optionalAttr<number>('clip'),
    linearBeforeReset: cell.op === 'gru' && c.attr<boolean>('linear_before_reset'),
    inputForget: lstm && c.attr<boolean>('input_forget'),
  };
  // Each direction allocates its own gate scratch: one buffer allocated in two places would not survive the text format.
  const nests = Array.from({ length: directions(direction) }, (_, d) =>
    directionNest(
      { ...k, pre: buffer('rnn_gates', [cell.gates + 1], dtype, { scope: 'local' }) },
      d,
      direction === 'reverse' || d === 1,
      directionActivations(c, cell, d),
    ),
  );
  return { kind: 'tir', outputs: [k.y, k.yh, ...(k.yc ? [k.yc] : [])], body: seq(nests) };
}

defineLegalization('rnn', (c) => legalizeRecurrent(c, CELLS.rnn));
defineLegalization('gru', (c) => legalizeRecurrent(c, CELLS.gru));
defineLegalization('lstm', (c) => legalizeRecurrent(c, CELLS.lstm));
