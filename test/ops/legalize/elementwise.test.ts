/** Elementwise legalizations against float64 references, on random inputs with symbolic and odd shapes. */
import { describe, expect, test } from 'vitest';
import { erf, maxError, randomArray } from '../../helpers/tir-interpreter.ts';
import { expectClose, ref, runOp, tensorArg } from '../../helpers/run-op.ts';

const UNARY: Record<string, [(x: number) => number, number, number]> = {
  exp: [Math.exp, -3, 3],
  sigmoid: [(x) => 1 / (1 + Math.exp(-x)), -6, 6],
  tanh: [Math.tanh, -3, 3],
  erf: [erf, -3, 3],
  gelu: [(x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), -4, 4],
  gelu_tanh: [(x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), -4, 4],
  silu: [(x) => x / (1 + Math.exp(-x)), -5, 5],
  relu: [(x) => Math.max(x, 0), -2, 2],
  sqrt: [Math.sqrt, 0.01, 4],
  rsqrt: [(x) => 1 / Math.sqrt(x), 0.01, 4],
  log: [Math.log, 0.01, 4],
  reciprocal: [(x) => 1 / x, 0.5, 4],
  negative: [(x) => -x, -2, 2],
  square: [(x) => x * x, -2, 2],
  abs: [Math.abs, -2, 2],
};

describe('unary legalizations', () => {
  for (const [op, [f, lo, hi]] of Object.entries(UNARY)) {
    test(op, () => {
      for (const [shape, dims] of [
        [[1], undefined],
        [
          [3, 5],
          ['n', 5],
        ],
        [
          [2, 1, 7],
          ['a', 'b', 'c'],
        ],
      ] as const) {
        const size = shape.reduce((a: number, b: number) => a * b, 1);
        const x = ref(shape, 'float32', randomArray(size, 7, lo, hi));
        const { outputs } = runOp(op, [tensorArg(x, dims)]);
        expectClose(outputs[0]!.data, Array.from(x.data, f), { rtol: 1e-5, atol: 1e-6 }, `${op} ${JSON.stringify(shape)}`);
      }
    });
  }
});

describe('binary legalizations broadcast', () => {
  test('add with a symbolic batch and a broadcast row', () => {
    const x = ref([3, 4], 'float32', randomArray(12, 1));
    const y = ref([4], 'float32', randomArray(4, 2));
    const { outputs, module } = runOp('add', [tensorArg(x, ['n', 4]), tensorArg(y)]);
    const expected = Array.from(x.data, (v, i) => v + y.data[i % 4]!);
    expect(maxError(outputs[0]!.data, expected).rel).toBeLessThan(1e-6);
    expect(outputs[0]!.shape).toEqual([3, 4]);
    expect([...module.functions.values()].filter((f) => f.kind === 'prim_func')).toHaveLength(1);
  });
});
