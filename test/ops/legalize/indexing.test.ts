/** Indexing legalizations against plain references: exact, on random data and indices, static and symbolic shapes. */
import { describe, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { type OpInput, type RefTensor, runOp, shapeArg, tensorArg } from '../../helpers/run-op.ts';
import * as R from '../../helpers/reference/indexing.ts';
import { expectSame, generate, randomInts, randomTensor, sizeOf } from '../../helpers/reference/manipulate.ts';

type Dims = readonly (string | number)[];

/** Random indices into a dim of `size`, negative ones (from the end) included. */
function indices(shape: readonly number[], size: number, seed: number, dtype: DataType = 'int64'): RefTensor {
  return { shape: [...shape], dtype, data: randomInts(sizeOf(shape), seed, -size, size) };
}

function label(op: string, inputs: readonly OpInput[], attrs: AttrMap): string {
  const show = (x: OpInput): string => {
    switch (x.kind) {
      case 'tensor':
        return `${x.value.dtype}[${(x.dims ?? x.value.shape).join(', ')}]`;
      case 'shape':
        return `(${x.values.join(', ')})`;
      default:
        return x.kind;
    }
  };
  return `${op}(${inputs.map(show).join(', ')}) ${JSON.stringify(attrs)}`;
}

function check(op: string, inputs: readonly OpInput[], attrs: AttrMap, expected: RefTensor | readonly RefTensor[]): void {
  const { outputs } = runOp(op, inputs, attrs);
  const want: readonly RefTensor[] = 'shape' in expected ? [expected] : expected;
  const what = label(op, inputs, attrs);
  if (outputs.length !== want.length) throw new Error(`${what}: ${outputs.length} results, expected ${want.length}`);
  want.forEach((w, i) => expectSame(outputs[i], w, `${what} result ${i}`));
}

describe('split', () => {
  const run = (shape: number[], ios: number | number[], axis: number, dtype: DataType = 'float32', dims?: Dims): void => {
    const x = randomTensor(shape, dtype, 3);
    check('split', [tensorArg(x, dims)], { indices_or_sections: ios, axis }, R.split(x, ios, axis));
  };

  test('sections and cut points', () => {
    run([7, 2], 3, 0);
    run([2, 6], [1, 4], 1, 'int32');
    run([2, 6], [3, 1], -1, 'int64');
    run([5], [2, 10], 0, 'bool');
    run([6, 3], 1, 1);
    run([1, 4], 4, -1);
  });

  test('symbolic shapes', () => {
    run([3, 6], 2, 1, 'float32', ['n', 6]);
    run([5, 3], 2, 0, 'float32', ['n', 3]);
    run([5], [2], 0, 'int32', ['n']);
    run([2, 7], [3, 5], -1, 'float32', ['a', 'b']);
  });
});

describe('strided_slice', () => {
  const BIG = 2 ** 31 - 1;
  const run = (
    shape: number[],
    begin: (number | string)[],
    end: (number | string)[],
    opts: { strides?: number[]; axes?: number[]; dims?: Dims; dtype?: DataType; inbound?: boolean } = {},
  ): void => {
    const x = randomTensor(shape, opts.dtype ?? 'float32', 5);
    const dims = opts.dims ?? shape;
    // Names in begin/end stand for the run-time size of the dim of that name.
    const value = (v: number | string): number => (typeof v === 'number' ? v : shape[dims.indexOf(v)]!);
    const attrs: AttrMap = { ...(opts.axes ? { axes: opts.axes } : {}), ...(opts.inbound ? { assume_inbound: true } : {}) };
    const inputs = [tensorArg(x, opts.dims), shapeArg(begin), shapeArg(end), ...(opts.strides ? [shapeArg(opts.strides)] : [])];
    check('strided_slice', inputs, attrs, R.stridedSlice(x, begin.map(value), end.map(value), opts.strides, opts.axes));
  };

  test('numpy clamping and steps', () => {
    run([10, 8], [2, 0], [7, 100]);
    run([10], [-3], [BIG]);
    run([10], [-100], [-8]);
    run([10], [0], [10], { strides: [3], dtype: 'int32' });
    run([10], [8], [2]);
    run([10], [-1], [-BIG - 1], { strides: [-2] });
    run([10], [BIG], [-BIG - 1], { strides: [-1], dtype: 'int64' });
    run([10], [20], [-20], { strides: [-3] });
    run([4, 6, 5], [-1, 1], [0, 3], { strides: [-2, 1], axes: [2, 0] });
    run([3, 5], [1], [-1], { axes: [-1], dtype: 'bool' });
    run([1, 3], [0, 0], [1, 1]);
  });

  test('symbolic shapes and bounds', () => {
    run([4, 10], [0, 2], [BIG, -1], { dims: ['n', 10] });
    run([3, 6], [1], [BIG], { axes: [1], dims: ['n', 'm'] });
    run([5, 3], [1], ['m'], { dims: ['n', 'm'] });
    run([3, 5], [1, 'm'], ['n', 0], { strides: [1, -2], dims: ['n', 'm'], dtype: 'int32' });
    run([7], [-1], [-BIG - 1], { strides: [-1], dims: ['n'] });
    run([3, 6], [1], [-1], { axes: [1], dims: ['n', 'm'], inbound: true });
  });
});

describe('take', () => {
  const run = (
    shape: number[],
    idx: RefTensor,
    axis: number | null,
    mode: 'fast' | 'clip' | 'wrap' = 'fast',
    opts: { dims?: Dims; idxDims?: Dims; dtype?: DataType } = {},
  ): void => {
    const x = randomTensor(shape, opts.dtype ?? 'float32', 7);
    check(
      'take',
      [tensorArg(x, opts.dims), tensorArg(idx, opts.idxDims)],
      { axis, mode },
      R.take(x, idx, axis ?? undefined, mode),
    );
  };

  test('along an axis and flattened, negative indices', () => {
    run([5, 4], indices([3], 5, 1, 'int32'), 0);
    run([5, 4], indices([2, 3], 4, 2), 1);
    run([2, 3, 4], indices([5], 4, 3, 'int32'), -1, 'fast', { dtype: 'int64' });
    run([3, 4], indices([5], 12, 4), null);
    run([3, 4], indices([2, 2], 12, 5, 'int32'), null, 'fast', { dtype: 'bool' });
    run([5, 4], { shape: [], dtype: 'int64', data: Float64Array.of(-2) }, 0);
  });

  test('clip and wrap modes', () => {
    const wild = (shape: number[], seed: number, dtype: DataType = 'int64'): RefTensor => ({
      shape,
      dtype,
      data: randomInts(sizeOf(shape), seed, -9, 10),
    });
    run([4, 3], wild([6], 8), 0, 'clip');
    run([4, 3], wild([2, 3], 9, 'int32'), 1, 'wrap', { dtype: 'int32' });
    run([4, 3], wild([7], 10), null, 'wrap');
    run([4, 3], wild([7], 11, 'int32'), null, 'clip');
  });

  test('symbolic shapes', () => {
    run([5, 4], indices([3], 5, 12), 0, 'fast', { dims: ['n', 4], idxDims: ['k'] });
    run([3, 6], indices([2, 2], 6, 13, 'int32'), 1, 'wrap', { dims: ['n', 'm'], idxDims: ['a', 'b'] });
    run([3, 2], indices([4], 6, 14), null, 'clip', { dims: ['n', 'm'], idxDims: ['k'] });
  });
});

describe('gather_elements', () => {
  const run = (
    shape: number[],
    idxShape: number[],
    axis: number,
    opts: { dims?: Dims; idxDims?: Dims; dtype?: DataType; idx?: DataType } = {},
  ): void => {
    const x = randomTensor(shape, opts.dtype ?? 'float32', 9);
    const a = axis < 0 ? axis + shape.length : axis;
    const idx = indices(idxShape, shape[a]!, 17, opts.idx);
    check('gather_elements', [tensorArg(x, opts.dims), tensorArg(idx, opts.idxDims)], { axis }, R.gatherElements(x, idx, axis));
  };

  test('each axis, negative indices, smaller index tensors', () => {
    run([3, 4], [2, 4], 0);
    run([3, 4], [3, 2], 1, { idx: 'int32', dtype: 'int32' });
    run([2, 3, 5], [2, 2, 7], -1, { dtype: 'int64' });
    run([4, 1], [6, 1], 0, { dtype: 'bool', idx: 'int32' });
  });

  test('symbolic shapes', () => {
    run([3, 5], [3, 4], 1, { dims: ['n', 'm'], idxDims: ['n', 'k'] });
    run([4, 2], [2, 2], -2, { dims: ['n', 2], idxDims: ['k', 2], idx: 'int32' });
  });
});

describe('gather_nd', () => {
  const run = (
    shape: number[],
    idxShape: number[],
    batch: number,
    opts: { dims?: Dims; idxDims?: Dims; dtype?: DataType; idx?: DataType } = {},
  ): void => {
    const x = randomTensor(shape, opts.dtype ?? 'float32', 19);
    const depth = idxShape[idxShape.length - 1]!;
    // Each index of the last axis addresses its own dim of data.
    const raw = randomInts(sizeOf(idxShape), 23, 0, 1 << 20);
    const idx = generate(idxShape, opts.idx ?? 'int64', (o) => {
      const size = shape[batch + o[o.length - 1]!]!;
      return (raw[o.reduce((acc, v, k) => acc * idxShape[k]! + v, 0)]! % (2 * size)) - size;
    });
    if (depth + batch > shape.length) throw new Error('bad test');
    check('gather_nd', [tensorArg(x, opts.dims), tensorArg(idx, opts.idxDims)], { batch_dims: batch }, R.gatherNd(x, idx, batch));
  };

  test('index depths, batch dims, negative indices', () => {
    run([3, 4, 5], [2, 2], 0);
    run([3, 4, 5], [2, 3, 1], 0, { idx: 'int32', dtype: 'int32' });
    run([3, 4, 5], [3], 0);
    run([2, 3, 4], [2, 2, 1], 1, { dtype: 'int64' });
    run([2, 3, 4], [2, 2], 1, { dtype: 'bool', idx: 'int32' });
    run([1, 5], [4, 1, 2], 0);
  });

  test('symbolic shapes', () => {
    run([3, 4, 5], [6, 2], 0, { dims: ['a', 'b', 'c'], idxDims: ['k', 2] });
    run([2, 3, 4], [2, 5, 1], 1, { dims: ['n', 3, 'm'], idxDims: ['n', 'k', 1], idx: 'int32' });
  });
});

describe('scatter_elements', () => {
  const REDUCTIONS = ['add', 'mul', 'mean', 'max', 'min'] as const;

  /** Indices whose targets along `axis` are distinct for each other position (no duplicate for 'update'), some negative. */
  function distinct(idxShape: number[], axis: number, size: number, dtype: DataType): RefTensor {
    return generate(idxShape, dtype, (o) => {
      const t = (o[axis]! * 3 + o.reduce((a, b) => a + b, 0) - o[axis]!) % size;
      return t % 2 === 1 ? t - size : t;
    });
  }

  const run = (
    shape: number[],
    idxShape: number[],
    axis: number,
    reduction: R.ScatterReduction,
    opts: { dims?: Dims; idxDims?: Dims; dtype?: DataType; idx?: DataType } = {},
  ): void => {
    const dtype = opts.dtype ?? 'float32';
    const x = randomTensor(shape, dtype, 29);
    const upd = randomTensor(idxShape, dtype, 37);
    const a = axis < 0 ? axis + shape.length : axis;
    const idx =
      reduction === 'update' ? distinct(idxShape, a, shape[a]!, opts.idx ?? 'int64') : indices(idxShape, shape[a]!, 41, opts.idx);
    check(
      'scatter_elements',
      [tensorArg(x, opts.dims), tensorArg(idx, opts.idxDims), tensorArg(upd, opts.idxDims)],
      { axis, reduction },
      R.scatterElements(x, idx, upd, axis, reduction),
    );
  };

  test('update without duplicates', () => {
    run([4, 3], [2, 3], 0, 'update');
    run([3, 5], [3, 4], 1, 'update', { dtype: 'int32', idx: 'int32' });
    run([2, 3, 4], [2, 3, 3], -1, 'update', { dtype: 'bool' });
  });

  test('reductions with duplicate indices', () => {
    for (const r of REDUCTIONS) {
      run([4, 3], [5, 3], 0, r);
      run([3, 5], [2, 7], -1, r, { dtype: 'int32', idx: 'int32' });
      run([2, 3, 4], [2, 2, 4], 1, r, { dtype: 'int64' });
    }
    run([3, 4], [3, 6], 1, 'add', { dtype: 'bool' });
    run([3, 4], [3, 6], 1, 'min', { dtype: 'bool' });
  });

  test('symbolic shapes', () => {
    run([4, 3], [3, 3], 0, 'update', { dims: ['n', 'm'], idxDims: ['k', 'm'] });
    run([4, 5], [4, 6], 1, 'add', { dims: ['n', 'm'], idxDims: ['n', 'k'], idx: 'int32' });
    run([3, 2], [5, 2], 0, 'mean', { dims: ['n', 2], idxDims: ['k', 2] });
  });
});
