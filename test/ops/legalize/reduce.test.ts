/** Reduction, arg-reduction and scan legalizations against float64 references, on random inputs. */
import { describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { hasOp } from '../../../src/ops/registry.ts';
import { getLegalization } from '../../../src/ops/legalize/registry.ts';
import '../../../src/ops/legalize/index.ts';
import { expectClose, ref, runOp, tensorArg, type RefTensor } from '../../helpers/run-op.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';
import { argRef, FOLDS, reducedShape, reduceRef, scanRef, sizeOf } from '../../helpers/reference/reduce.ts';

type Dims = readonly (string | number)[] | undefined;

/** Random data of `dtype`: integers in [lo, hi) for integer types, 0/1 for bool. */
function random(shape: readonly number[], dtype: DataType, seed: number, lo = -2, hi = 2): RefTensor {
  const raw = randomArray(sizeOf(shape), seed, lo, hi);
  if (dtype === 'bool')
    return ref(
      shape,
      dtype,
      Array.from(raw, (v) => (v > (lo + hi) / 2 ? 1 : 0)),
    );
  if (dtype.startsWith('int') || dtype.startsWith('uint')) return ref(shape, dtype, Array.from(raw, Math.floor));
  return ref(shape, dtype, raw);
}

function run(op: string, x: RefTensor, dims: Dims, attrs: AttrMap): RefTensor {
  return runOp(op, [tensorArg(x, dims)], attrs).outputs[0]!;
}

const TOL = { rtol: 1e-5, atol: 1e-5 };
/** Inputs and results are rounded to float16 (a relative step of 2^-11 around 1). */
const F16_TOL = { rtol: 2e-3, atol: 1e-3 };

/** (shape, symbolic dims, axis, keepdims): size-1 dims, odd sizes, all axes, no axis at all. */
const CASES: readonly [number[], Dims, number[] | null, boolean][] = [
  [[3, 5], ['n', 5], [1], false],
  [[2, 1, 7], undefined, null, false],
  [[2, 3, 4], ['a', 3, 'c'], [0, 2], true],
  [[4, 3], ['n', 'm'], [-2], false],
  [[5], undefined, [0], true],
  [[3, 1], undefined, null, true],
  [[2, 3], ['n', 3], [], false],
];

describe('reductions', () => {
  for (const op of ['sum', 'prod', 'max', 'min', 'mean', 'variance', 'std']) {
    test(`${op} over float32`, () => {
      CASES.forEach(([shape, dims, axis, keepdims], c) => {
        // Products stay near 1 so that no element's rounding dominates.
        const x = op === 'prod' ? random(shape, 'float32', 11 + c, 0.5, 1.5) : random(shape, 'float32', 11 + c);
        const out = run(op, x, dims, { axis, keepdims });
        const label = `${op} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`;
        expect(out.shape, label).toEqual(reducedShape(shape, axis, keepdims));
        expect(out.dtype).toBe('float32');
        expectClose(out.data, reduceRef(x, axis, FOLDS[op]!), TOL, label);
      });
    });
  }

  for (const dtype of ['int32', 'int64'] as const) {
    test(`sum, prod, max, min and mean over ${dtype} are exact; the mean truncates`, () => {
      const x = random([3, 4], dtype, 5, -9, 9);
      for (const op of ['sum', 'prod', 'max', 'min', 'mean']) {
        for (const axis of [[1], null]) {
          const out = run(op, x, ['n', 4], { axis });
          expect(out.dtype).toBe(dtype);
          const want = reduceRef(x, axis, FOLDS[op]!).map(Math.trunc);
          expectClose(out.data, want, { rtol: 0, atol: 0 }, `${op} ${dtype} axis ${JSON.stringify(axis)}`);
        }
      }
    });
  }

  test('bool sums and maxima are any, products and minima all', () => {
    const x = ref([3, 4], 'bool', [1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    const any = [1, 1, 0];
    const all = [0, 1, 0];
    for (const [op, want] of [
      ['sum', any],
      ['max', any],
      ['mean', any],
      ['prod', all],
      ['min', all],
    ] as const) {
      const out = run(op, x, ['n', 4], { axis: [1] });
      expect(out.dtype).toBe('bool');
      expect(Array.from(out.data), op).toEqual(want);
    }
  });

  test('float16 sums accumulate in float32 and come back as float16', () => {
    const x = random([3, 6], 'float16', 9);
    for (const op of ['sum', 'mean', 'variance', 'std', 'max']) {
      const out = run(op, x, ['n', 6], { axis: [-1] });
      expect(out.dtype).toBe('float16');
      expectClose(out.data, reduceRef(x, [-1], FOLDS[op]!), F16_TOL, `${op} float16`);
    }
  });
});

describe('argmax and argmin', () => {
  // Few distinct values, so that ties are frequent and the first index must win.
  const ties = (shape: number[], seed: number): RefTensor =>
    ref(shape, 'float32', Array.from(randomArray(sizeOf(shape), seed, 0, 3), Math.floor));

  for (const op of ['argmax', 'argmin']) {
    test(`${op} over axes, the flattened tensor and ties`, () => {
      const cases: [RefTensor, Dims, number | null, boolean][] = [
        [random([3, 5], 'float32', 21), ['n', 5], 1, false],
        [random([2, 3, 4], 'float32', 22), ['a', 'b', 4], 0, true],
        [random([2, 1, 7], 'float32', 23), undefined, -1, false],
        [random([3, 4], 'float32', 24), ['n', 4], null, false],
        [random([2, 3], 'float32', 25), undefined, null, true],
        [ties([4, 6], 26), ['n', 6], 1, false],
        [ties([5, 3], 27), undefined, 0, false],
        [ties([3, 4], 28), undefined, null, false],
        [random([4, 5], 'int32', 29, -3, 3), ['n', 5], 1, false],
        [random([1], 'int64', 30), undefined, 0, true],
      ];
      for (const [x, dims, axis, keepdims] of cases) {
        const out = run(op, x, dims, { axis, keepdims });
        const label = `${op} ${x.dtype}${JSON.stringify(x.shape)} axis ${axis}`;
        expect(out.dtype).toBe('int64');
        expect(out.shape, label).toEqual(reducedShape(x.shape, axis === null ? null : [axis], keepdims));
        expect(Array.from(out.data), label).toEqual(argRef(x, axis, op === 'argmax'));
      }
    });
  }

  test('the first NaN wins, as in numpy', () => {
    const x = ref([2, 4], 'float32', [1, NaN, 5, NaN, -1, -2, -3, -4]);
    expect(Array.from(run('argmax', x, undefined, { axis: 1 }).data)).toEqual([1, 0]);
    expect(Array.from(run('argmin', x, undefined, { axis: 1 }).data)).toEqual([1, 3]);
    expect(Array.from(run('argmax', x, undefined, {}).data)).toEqual(argRef(x, null, true));
  });
});

describe('cumsum and cumprod', () => {
  const cases: [number[], Dims, number | null][] = [
    [[3, 5], ['n', 5], 1],
    [[3, 5], ['n', 'm'], 0],
    [[2, 3, 4], ['a', 3, 4], -2],
    [[2, 1, 7], undefined, -1],
    [[3, 4], ['n', 4], null],
    [[1], undefined, 0],
    [[2, 3], undefined, null],
  ];
  for (const op of ['cumsum', 'cumprod']) {
    test(`${op} along axes and flattened, inclusive and exclusive`, () => {
      cases.forEach(([shape, dims, axis], c) => {
        const x = op === 'cumprod' ? random(shape, 'float32', 31 + c, 0.5, 1.5) : random(shape, 'float32', 31 + c);
        for (const exclusive of [false, true]) {
          const out = run(op, x, dims, { axis, exclusive });
          const label = `${op} ${JSON.stringify(shape)} axis ${axis} exclusive ${exclusive}`;
          expect(out.shape, label).toEqual(axis === null ? [sizeOf(shape)] : shape);
          expectClose(out.data, scanRef(x, axis, op === 'cumsum', exclusive), TOL, label);
        }
      });
    });

    test(`${op} over integers, and into another dtype`, () => {
      const x = random([3, 4], 'int32', 41, -4, 4);
      const exact = { rtol: 0, atol: 0 };
      const out = run(op, x, ['n', 4], { axis: 1 });
      expect(out.dtype).toBe('int32');
      expectClose(out.data, scanRef(x, 1, op === 'cumsum', false), exact, `${op} int32`);
      const wide = run(op, x, ['n', 4], { axis: null, dtype: 'int64', exclusive: true });
      expect(wide.dtype).toBe('int64');
      expectClose(wide.data, scanRef(x, null, op === 'cumsum', true), exact, `${op} int32 -> int64`);
      const f = run(op, x, undefined, { axis: 0, dtype: 'float32' });
      expect(f.dtype).toBe('float32');
      expectClose(f.data, scanRef(x, 0, op === 'cumsum', false), exact, `${op} int32 -> float32`);
    });
  }

  test('a bool cumsum is a running or, a bool cumprod a running and', () => {
    const x = ref([2, 4], 'bool', [0, 1, 0, 1, 1, 1, 0, 1]);
    expect(Array.from(run('cumsum', x, undefined, { axis: 1 }).data)).toEqual([0, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(run('cumprod', x, undefined, { axis: 1 }).data)).toEqual([0, 0, 0, 0, 1, 1, 0, 0]);
  });

  test('the scan is one loop nest, linear in the input size', () => {
    const { module } = runOp('cumsum', [tensorArg(random([3, 4], 'float32', 1), ['n', 4])], { axis: 1 });
    const kernels = [...module.functions.values()].filter((f) => f.kind === 'prim_func');
    expect(kernels).toHaveLength(1);
  });
});

describe('coverage', () => {
  // The ops the defineOp calls of src/ops/{reduce,norm,linear}.ts declare.
  const OPS: Record<string, readonly string[]> = {
    reduce: ['sum', 'prod', 'max', 'min', 'mean', 'variance', 'std', 'argmax', 'argmin', 'cumsum', 'cumprod'],
    norm: ['softmax', 'log_softmax', 'layer_norm', 'rms_norm', 'group_norm', 'instance_norm', 'batch_norm'],
    linear: ['matmul'],
  };
  test.each(Object.entries(OPS))('every %s operator has a legalization', (_, ops) => {
    for (const op of ops) {
      expect(hasOp(op), op).toBe(true);
      expect(getLegalization(op), op).toBeDefined();
    }
  });
});
