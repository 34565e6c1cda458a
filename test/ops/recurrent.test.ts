/**
 * rnn, gru and lstm: shape inference and its errors, and the legalized
 * kernel (run by the js code generator) against a float64 reference of
 * ONNX's equations written out here, over every direction, short sequence
 * lengths, clip, input_forget, both gru variants and parameterized
 * activations, with symbolic sequence length and batch.
 */
import { describe, expect, it } from 'vitest';
import type { AttrMap } from '../../src/ir/attrs.ts';
import { primVar } from '../../src/ir/prim/expr.ts';
import { structuralEqual, structuralHash } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { opHooks } from '../../src/ops/index.ts';
import { expectClose, randomRef, ref, type RefTensor, runOp, tensorArg } from '../helpers/run-op.ts';
import { expectTensor, infer, n, run, show, T } from './helpers.ts';

const s = primVar('s');

describe('the text format', () => {
  it('prints a call with its activations and clip and parses it back to an equal module with the same hash', () => {
    const text = `func main(x: Tensor[(s, n, 3), f32], w: Tensor[(2, 20, 8), f32], bias: Tensor[(2, 55), f32], lens: Tensor[(n,), i32], init: Tensor[(2, 2, n, 5), f32]) -> Tuple[Tensor[(s, 2, n, 5), f32], Tensor[(2, n, 5), f32], Tensor[(2, n, 5), f32]] {
  gv = lstm(x, w, bias, lens, init, direction="bidirectional", activations=["sigmoid", "elu", "tanh", "hard_sigmoid", "tanh", "softsign"], activation_alpha=[0.0, 0.5, 0.0, 0.25, 0.0, 0.0], activation_beta=[0.0, 0.0, 0.0, 0.75, 0.0, 0.0], clip=3.5, input_forget=true)
  return gv
}`;
    const m = parseModule(text, { ...opHooks });
    const printed = printModule(m);
    expect(printed).toContain('activations=["sigmoid", "elu", "tanh", "hard_sigmoid", "tanh", "softsign"]');
    const again = parseModule(printed, { ...opHooks });
    expect(structuralEqual(again, m)).toBe(true);
    expect(structuralHash(again)).toBe(structuralHash(m));
    const other = parseModule(text.replace('clip=3.5', 'clip=3.25'), { ...opHooks });
    expect(structuralHash(other)).not.toBe(structuralHash(m));
  });
});

describe('inference', () => {
  it('gives Y [T, D, B, H] and the final states [D, B, H]', () => {
    expect(
      show(
        infer('lstm', [T([s, n, 8]), T([2, 64, 24]), T([2, 176]), T([n], 'int32'), T([2, 2, n, 16])], {
          direction: 'bidirectional',
        }),
      ),
    ).toBe('[float32(s, 2, n, 16), float32(2, n, 16), float32(2, n, 16)]');
    expect(show(infer('gru', [T([s, n, 8]), T([1, 36, 20]), T([1, 72]), T([n], 'int64'), T([1, n, 12])]))).toBe(
      '[float32(s, 1, n, 12), float32(1, n, 12)]',
    );
    const { out, an } = run('rnn', [T([s, n, 3]), T([1, 5, 8]), T([1, 10]), T([n], 'int32'), T([1, n, 5])], {
      direction: 'reverse',
    });
    if (out.kind !== 'tuple') throw new Error('expected a tuple');
    expectTensor(out.fields[1]!, [1, n, 5], 'float32', an);
  });

  it('rejects weights that do not fit the state, the wrong number of activations and unknown ones', () => {
    expect(() => infer('gru', [T([s, n, 8]), T([1, 36, 19]), T([1, 72]), T([n], 'int32'), T([1, n, 12])])).toThrow(
      /gru: dim 2 of argument 'weights' of shape \(1, 36, 19\) is 19, expected 20/,
    );
    expect(() =>
      infer('rnn', [T([s, n, 8]), T([2, 4, 12]), T([2, 8]), T([n], 'int32'), T([2, n, 4])], {
        direction: 'bidirectional',
        activations: ['tanh'],
      }),
    ).toThrow(/rnn: expected 2 activations for a bidirectional rnn, found 1/);
    expect(() =>
      infer('rnn', [T([s, n, 8]), T([1, 4, 12]), T([1, 8]), T([n], 'int32'), T([1, n, 4])], { activations: ['gelu'] }),
    ).toThrow(/rnn: unknown activation 'gelu'/);
    expect(() => infer('lstm', [T([s, n, 8]), T([1, 16, 12]), T([1, 32]), T([n], 'int32'), T([2, 1, n, 4])])).toThrow(
      /lstm: dim 1 of argument 'bias' of shape \(1, 32\) is 32, expected 44/,
    );
    expect(() => infer('rnn', [T([s, n, 8]), T([1, 4, 12]), T([1, 8]), T([n], 'float32'), T([1, n, 4])])).toThrow(
      /rnn: argument 'seq_lens' has dtype float32, expected an integer/,
    );
  });
});

// --- the float64 reference ----------------------------------------------------------------

type Fn = (x: number) => number;
const ACT: Record<string, (alpha: number, beta: number) => Fn> = {
  tanh: () => Math.tanh,
  sigmoid: () => (x) => 1 / (1 + Math.exp(-x)),
  relu: () => (x) => Math.max(x, 0),
  leaky_relu: (a) => (x) => (x < 0 ? a * x : x),
  hard_sigmoid: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)),
  scaled_tanh: (a, b) => (x) => a * Math.tanh(b * x),
  affine: (a, b) => (x) => a * x + b,
  thresholded_relu: (a) => (x) => (x > a ? x : 0),
  elu: (a) => (x) => (x < 0 ? a * (Math.exp(x) - 1) : x),
  softsign: () => (x) => x / (1 + Math.abs(x)),
  softplus: () => (x) => Math.log(1 + Math.exp(x)),
};

interface Case {
  readonly op: 'rnn' | 'gru' | 'lstm';
  readonly T: number;
  readonly B: number;
  readonly I: number;
  readonly H: number;
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly lens?: readonly number[];
  readonly attrs?: AttrMap;
  readonly acts?: readonly (readonly [string, number, number])[];
}

const GATES = { rnn: 1, gru: 3, lstm: 4 } as const;
const DEFAULT_ACTS = { rnn: ['tanh'], gru: ['sigmoid', 'tanh'], lstm: ['sigmoid', 'tanh', 'tanh'] } as const;

/** ONNX's equations, step by step, in float64: [Y, Y_h, (Y_c)]. */
function reference(
  c: Case,
  x: RefTensor,
  w: RefTensor,
  bias: RefTensor,
  init: RefTensor,
  lens: readonly number[],
): Float64Array[] {
  const { T: steps, B, I, H, op } = c;
  const D = c.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[op];
  const clip = c.attrs?.['clip'] as number | undefined;
  const cl = (v: number): number => (clip === undefined ? v : Math.min(Math.max(v, -clip), clip));
  const X = (t: number, b: number, i: number): number => x.data[(t * B + b) * I + i]!;
  const Wt = (d: number, row: number, i: number): number => w.data[(d * G * H + row) * (I + H) + i]!;
  const Bi = (d: number, k: number): number => bias.data[d * bias.shape[1]! + k]!;
  const Y = new Float64Array(steps * D * B * H);
  const Yh = new Float64Array(D * B * H);
  const Yc = new Float64Array(D * B * H);
  for (let d = 0; d < D; d++) {
    const funcs = DEFAULT_ACTS[op].length;
    const all = c.acts ?? Array.from({ length: D }, () => DEFAULT_ACTS[op].map((a) => [a, 0, 0] as const)).flat();
    const names = all.slice(d * funcs, (d + 1) * funcs);
    const [f, g, hf] = names.map(([a, al, be]) => ACT[a]!(al, be)) as [Fn, Fn, Fn];
    const reverse = c.direction === 'reverse' || d === 1;
    for (let b = 0; b < B; b++) {
      let h = Array.from({ length: H }, (_, j) => init.data[(d * B + b) * H + j]!);
      let cell = Array.from({ length: H }, (_, j) => (op === 'lstm' ? init.data[(D * B + d * B + b) * H + j]! : 0));
      const L = lens[b]!;
      for (let s = 0; s < L; s++) {
        const t = reverse ? L - 1 - s : s;
        const xw = (row: number): number => {
          let v = Bi(d, row);
          for (let i = 0; i < I; i++) v += X(t, b, i) * Wt(d, row, i);
          return v;
        };
        const hr = (row: number, hv: readonly number[]): number => {
          let v = Bi(d, G * H + row);
          for (let k = 0; k < H; k++) v += hv[k]! * Wt(d, row, I + k);
          return v;
        };
        const next = new Array<number>(H);
        const nextC = new Array<number>(H);
        if (op === 'rnn') for (let j = 0; j < H; j++) next[j] = f(cl(xw(j) + hr(j, h)));
        if (op === 'gru') {
          const r = Array.from({ length: H }, (_, j) => f(cl(xw(H + j) + hr(H + j, h))));
          const rh = h.map((v, j) => v * r[j]!);
          for (let j = 0; j < H; j++) {
            const z = f(cl(xw(j) + hr(j, h)));
            const lbr = c.attrs?.['linear_before_reset'] === true;
            const hh = g(cl(lbr ? xw(2 * H + j) + r[j]! * hr(2 * H + j, h) : xw(2 * H + j) + hr(2 * H + j, rh)));
            next[j] = (1 - z) * hh + z * h[j]!;
          }
        }
        if (op === 'lstm') {
          const P = (k: number, j: number): number => Bi(d, 8 * H + k * H + j);
          for (let j = 0; j < H; j++) {
            const i = f(cl(xw(j) + hr(j, h) + P(0, j) * cell[j]!));
            const fg = c.attrs?.['input_forget'] === true ? 1 - i : f(cl(xw(2 * H + j) + hr(2 * H + j, h) + P(2, j) * cell[j]!));
            nextC[j] = fg * cell[j]! + i * g(cl(xw(3 * H + j) + hr(3 * H + j, h)));
            const o = f(cl(xw(H + j) + hr(H + j, h) + P(1, j) * nextC[j]!));
            next[j] = o * hf(nextC[j]!);
          }
          cell = nextC;
        }
        h = next;
        for (let j = 0; j < H; j++) Y[((t * D + d) * B + b) * H + j] = h[j]!;
      }
      for (let j = 0; j < H; j++) {
        Yh[(d * B + b) * H + j] = h[j]!;
        Yc[(d * B + b) * H + j] = cell[j]!;
      }
    }
  }
  return op === 'lstm' ? [Y, Yh, Yc] : [Y, Yh];
}

function check(c: Case, seed: number): void {
  const D = c.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[c.op];
  const { T: steps, B, I, H } = c;
  const x = randomRef([steps, B, I], 'float32', seed);
  const w = randomRef([D, G * H, I + H], 'float32', seed + 1, -0.6, 0.6);
  const bias = randomRef([D, 2 * G * H + (c.op === 'lstm' ? 3 * H : 0)], 'float32', seed + 2, -0.5, 0.5);
  const init = randomRef(c.op === 'lstm' ? [2, D, B, H] : [D, B, H], 'float32', seed + 3);
  const lens = c.lens ?? Array.from({ length: B }, () => steps);
  const lensRef = ref([B], 'int32', lens);
  const attrs: AttrMap = {
    direction: c.direction,
    ...c.attrs,
    ...(c.acts
      ? {
          activations: c.acts.map((a) => a[0]),
          activation_alpha: c.acts.map((a) => a[1]),
          activation_beta: c.acts.map((a) => a[2]),
        }
      : {}),
  };
  const { outputs } = runOp(
    c.op,
    [
      tensorArg(x, ['t', 'b', I]),
      tensorArg(w),
      tensorArg(bias),
      tensorArg(lensRef, ['b']),
      tensorArg(init, c.op === 'lstm' ? [2, D, 'b', H] : [D, 'b', H]),
    ],
    attrs,
  );
  const expected = reference(c, x, w, bias, init, lens);
  expect(outputs).toHaveLength(expected.length);
  expected.forEach((e, i) =>
    expectClose(outputs[i]!.data, e, { rtol: 1e-4, atol: 1e-5 }, `${c.op} ${JSON.stringify(attrs)} result ${i}`),
  );
}

const CASES: Case[] = [
  { op: 'rnn', T: 5, B: 3, I: 4, H: 6, direction: 'forward', lens: [5, 2, 0] },
  {
    op: 'rnn',
    T: 4,
    B: 2,
    I: 3,
    H: 5,
    direction: 'bidirectional',
    acts: [
      ['relu', 0, 0],
      ['leaky_relu', 0.2, 0],
    ],
  },
  { op: 'gru', T: 6, B: 2, I: 3, H: 4, direction: 'reverse', lens: [3, 6] },
  {
    op: 'gru',
    T: 4,
    B: 3,
    I: 5,
    H: 3,
    direction: 'bidirectional',
    lens: [4, 1, 3],
    attrs: { linear_before_reset: true, clip: 0.7 },
  },
  {
    op: 'gru',
    T: 3,
    B: 2,
    I: 2,
    H: 3,
    direction: 'forward',
    acts: [
      ['hard_sigmoid', 0.3, 0.4],
      ['scaled_tanh', 1.5, 0.8],
    ],
  },
  { op: 'lstm', T: 5, B: 2, I: 3, H: 4, direction: 'bidirectional', lens: [5, 3] },
  { op: 'lstm', T: 4, B: 3, I: 4, H: 3, direction: 'reverse', attrs: { input_forget: true, clip: 1.2 } },
  {
    op: 'lstm',
    T: 3,
    B: 1,
    I: 2,
    H: 5,
    direction: 'forward',
    acts: [
      ['sigmoid', 0, 0],
      ['elu', 0.7, 0],
      ['softsign', 0, 0],
    ],
  },
];

describe('the legalized kernel against ONNX equations in float64', () => {
  it.each(
    CASES.map(
      (c, i) =>
        [
          `${c.op} ${c.direction} ${JSON.stringify(c.attrs ?? {})}${c.lens ? ' lens' : ''}${c.acts ? ' acts' : ''}`,
          c,
          i,
        ] as const,
    ),
  )('%s', (_, c, i) => check(c, 100 + 10 * i));
});
