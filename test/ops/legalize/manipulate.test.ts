/** Manipulation legalizations against plain references: exact, on random data, static and symbolic shapes. */
import { describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import '../../../src/ops/legalize/index.ts';
import { getLegalization } from '../../../src/ops/legalize/registry.ts';
import { type OpInput, runOp, shapeArg, tensorArg, tensorsArg } from '../../helpers/run-op.ts';
import * as R from '../../helpers/reference/manipulate.ts';
import { expectSame, randomTensor } from '../../helpers/reference/manipulate.ts';

type Dims = readonly (string | number)[];

/** Runs a one-tensor op on random data of `shape` (seen as `dims`) and compares with `reference`. */
function checkUnary(
  op: string,
  shape: readonly number[],
  dtype: DataType,
  attrs: AttrMap,
  reference: (x: ReturnType<typeof randomTensor>) => ReturnType<typeof randomTensor>,
  options: { dims?: Dims; extra?: OpInput[]; seed?: number } = {},
): void {
  const x = randomTensor(shape, dtype, options.seed ?? 11);
  const { outputs } = runOp(op, [tensorArg(x, options.dims), ...(options.extra ?? [])], attrs);
  expectSame(
    outputs[0],
    reference(x),
    `${op} ${dtype}[${shape.join(', ')}] as [${(options.dims ?? shape).join(', ')}] ${JSON.stringify(attrs)}`,
  );
}

describe('coverage', () => {
  test('every operator of the manipulate, indexing and sort families is legalized, shape_of excepted', () => {
    const ops = [
      ...['reshape', 'permute_dims', 'expand_dims', 'squeeze', 'flatten', 'concat', 'broadcast_to', 'tile', 'repeat', 'flip'],
      ...['split', 'strided_slice', 'take', 'gather_elements', 'gather_nd', 'scatter_elements'],
      ...['sort', 'argsort', 'topk'],
    ];
    expect(ops.filter((op) => getLegalization(op) === undefined)).toEqual([]);
    // The VM reads shapes itself.
    expect(getLegalization('shape_of')).toBeUndefined();
  });
});

describe('reshape', () => {
  test('static shapes, a -1 dim and 0-d', () => {
    checkUnary('reshape', [2, 3, 4], 'float32', {}, (x) => R.reshape(x, [4, 6]), { extra: [shapeArg([4, 6])] });
    checkUnary('reshape', [2, 3, 4], 'float32', {}, (x) => R.reshape(x, [3, -1, 2]), { extra: [shapeArg([3, -1, 2])] });
    checkUnary('reshape', [6], 'int32', {}, (x) => R.reshape(x, [1, 2, 3, 1]), { extra: [shapeArg([1, 2, 3, 1])] });
    checkUnary('reshape', [1, 1], 'int64', {}, (x) => R.reshape(x, []), { extra: [shapeArg([])] });
    checkUnary('reshape', [], 'bool', {}, (x) => R.reshape(x, [1, 1]), { extra: [shapeArg([1, 1])] });
    checkUnary('reshape', [5, 7], 'bool', {}, (x) => R.reshape(x, [7, 5]), { extra: [shapeArg([7, 5])] });
  });

  test('symbolic shapes', () => {
    checkUnary('reshape', [3, 12], 'float32', {}, (x) => R.reshape(x, [3, 3, 4]), {
      dims: ['n', 12],
      extra: [shapeArg(['n', 3, 4])],
    });
    checkUnary('reshape', [5, 4], 'float32', {}, (x) => R.reshape(x, [-1, 2]), { dims: ['n', 4], extra: [shapeArg([-1, 2])] });
    checkUnary('reshape', [3, 5], 'int32', {}, (x) => R.reshape(x, [15]), { dims: ['a', 'b'], extra: [shapeArg([-1])] });
    checkUnary('reshape', [2, 3, 5], 'float32', {}, (x) => R.reshape(x, [2, 5, 3]), {
      dims: ['a', 'b', 'c'],
      extra: [shapeArg(['a', 'c', 'b'])],
    });
  });
});

describe('permute_dims', () => {
  test('explicit, negative and default axes', () => {
    checkUnary('permute_dims', [2, 3, 4], 'float32', { axes: [2, 0, 1] }, (x) => R.permuteDims(x, [2, 0, 1]));
    checkUnary('permute_dims', [2, 3, 4], 'int64', { axes: [-1, 0, -2] }, (x) => R.permuteDims(x, [-1, 0, -2]));
    checkUnary('permute_dims', [2, 1, 5, 3], 'float32', {}, (x) => R.permuteDims(x));
    checkUnary('permute_dims', [7], 'bool', {}, (x) => R.permuteDims(x));
    checkUnary('permute_dims', [3, 5], 'int32', { axes: [1, 0] }, (x) => R.permuteDims(x, [1, 0]), { dims: ['n', 'm'] });
    checkUnary('permute_dims', [2, 3, 1], 'float32', { axes: [1, 2, 0] }, (x) => R.permuteDims(x, [1, 2, 0]), {
      dims: ['a', 3, 'b'],
    });
  });
});

describe('expand_dims, squeeze, flatten', () => {
  test('expand_dims', () => {
    checkUnary('expand_dims', [3, 5], 'float32', { axis: [0, -1] }, (x) => R.expandDims(x, [0, -1]));
    checkUnary('expand_dims', [3, 5], 'int32', { axis: [1] }, (x) => R.expandDims(x, [1]), { dims: ['n', 5] });
    checkUnary('expand_dims', [], 'bool', { axis: [0] }, (x) => R.expandDims(x, [0]));
    checkUnary('expand_dims', [2, 3], 'float32', { axis: [1, 3] }, (x) => R.expandDims(x, [1, 3]), { dims: ['a', 'b'] });
  });

  test('squeeze', () => {
    checkUnary('squeeze', [3, 1, 5, 1], 'float32', {}, (x) => R.squeeze(x));
    checkUnary('squeeze', [3, 1, 5, 1], 'int64', { axis: [-1] }, (x) => R.squeeze(x, [-1]));
    checkUnary('squeeze', [1, 1], 'bool', {}, (x) => R.squeeze(x));
    checkUnary('squeeze', [4, 1, 5], 'float32', { axis: [1] }, (x) => R.squeeze(x, [1]), { dims: ['n', 1, 'm'] });
    // A symbolic dim squeezed by name: it must be 1 at run time.
    checkUnary('squeeze', [3, 1], 'float32', { axis: [1] }, (x) => R.squeeze(x, [1]), { dims: ['n', 'k'] });
  });

  test('flatten', () => {
    checkUnary('flatten', [2, 3, 4, 5], 'float32', { start_dim: 1, end_dim: 2 }, (x) => R.flatten(x, 1, 2));
    checkUnary('flatten', [2, 3, 4], 'int32', {}, (x) => R.flatten(x));
    checkUnary('flatten', [2, 3, 4], 'float32', { start_dim: -2 }, (x) => R.flatten(x, -2));
    checkUnary('flatten', [], 'float32', {}, (x) => R.flatten(x));
    checkUnary('flatten', [3, 3, 4], 'float32', { start_dim: 0, end_dim: 1 }, (x) => R.flatten(x, 0, 1), { dims: ['n', 3, 4] });
    checkUnary('flatten', [3, 1, 5], 'bool', { start_dim: 1 }, (x) => R.flatten(x, 1), { dims: ['a', 'b', 'c'] });
  });
});

describe('concat', () => {
  const run = (parts: { shape: number[]; dims?: Dims }[], axis: number, dtype: DataType = 'float32'): void => {
    const xs = parts.map((p, i) => randomTensor(p.shape, dtype, 31 + i));
    const { outputs } = runOp(
      'concat',
      [tensorsArg(...xs.map((x, i) => ({ value: x, ...(parts[i]!.dims ? { dims: parts[i]!.dims } : {}) })))],
      {
        axis,
      },
    );
    expectSame(outputs[0], R.concat(xs, axis), `concat ${dtype} ${JSON.stringify(parts)} axis ${axis}`);
  };

  test('static shapes', () => {
    run([{ shape: [2, 2] }, { shape: [2, 1] }, { shape: [2, 3] }], 1);
    run([{ shape: [1, 3] }, { shape: [4, 3] }], 0, 'int32');
    run([{ shape: [2, 3, 2] }, { shape: [2, 3, 1] }], -1, 'int64');
    run([{ shape: [5] }], 0, 'bool');
    run([{ shape: [3, 2] }, { shape: [3, 0] }, { shape: [3, 1] }], 1);
    run([{ shape: [1] }, { shape: [1] }, { shape: [1] }, { shape: [1] }], 0, 'bool');
  });

  test('symbolic shapes', () => {
    run(
      [
        { shape: [3, 4], dims: ['n', 4] },
        { shape: [2, 4], dims: ['m', 4] },
      ],
      0,
    );
    run(
      [
        { shape: [3, 2], dims: ['n', 'a'] },
        { shape: [3, 5], dims: ['n', 'b'] },
        { shape: [3, 1], dims: ['n', 'c'] },
      ],
      -1,
      'int32',
    );
    run(
      [
        { shape: [2, 3], dims: ['n', 3] },
        { shape: [2, 3], dims: ['n', 3] },
      ],
      1,
    );
  });
});

describe('broadcast_to', () => {
  test('static shapes', () => {
    checkUnary('broadcast_to', [3, 1], 'float32', {}, (x) => R.broadcastTo(x, [2, 3, 4]), { extra: [shapeArg([2, 3, 4])] });
    checkUnary('broadcast_to', [1], 'int32', {}, (x) => R.broadcastTo(x, [5]), { extra: [shapeArg([5])] });
    checkUnary('broadcast_to', [2, 3], 'bool', {}, (x) => R.broadcastTo(x, [2, 2, 3]), { extra: [shapeArg([2, 2, 3])] });
    checkUnary('broadcast_to', [], 'int64', {}, (x) => R.broadcastTo(x, [3, 1]), { extra: [shapeArg([3, 1])] });
  });

  test('symbolic shapes, and a dim that is 1 only at run time', () => {
    checkUnary('broadcast_to', [3, 1], 'float32', {}, (x) => R.broadcastTo(x, [3, 4]), {
      dims: ['n', 1],
      extra: [shapeArg(['n', 4])],
    });
    checkUnary('broadcast_to', [5], 'float32', {}, (x) => R.broadcastTo(x, [2, 5, 5]), {
      dims: ['m'],
      extra: [shapeArg([2, 'm', 'm'])],
    });
    checkUnary('broadcast_to', [1, 4], 'float32', {}, (x) => R.broadcastTo(x, [3, 4]), {
      dims: ['a', 'b'],
      extra: [shapeArg([3, 'b'])],
    });
    checkUnary('broadcast_to', [3, 4], 'int32', {}, (x) => R.broadcastTo(x, [3, 4]), {
      dims: ['a', 'b'],
      extra: [shapeArg([3, 'b'])],
    });
  });
});

describe('tile', () => {
  test('short, long and equal repeats', () => {
    checkUnary('tile', [2, 3], 'float32', { repeats: [2, 1, 3] }, (x) => R.tile(x, [2, 1, 3]));
    checkUnary('tile', [2, 3], 'int32', { repeats: [2] }, (x) => R.tile(x, [2]));
    checkUnary('tile', [1, 3], 'bool', { repeats: [3, 2] }, (x) => R.tile(x, [3, 2]));
    checkUnary('tile', [2, 3], 'float32', { repeats: [1, 0] }, (x) => R.tile(x, [1, 0]));
    checkUnary('tile', [], 'int64', { repeats: [4] }, (x) => R.tile(x, [4]));
  });

  test('symbolic shapes', () => {
    checkUnary('tile', [3, 5], 'float32', { repeats: [2, 2] }, (x) => R.tile(x, [2, 2]), { dims: ['n', 'm'] });
    checkUnary('tile', [2, 1], 'int32', { repeats: [3, 1, 4] }, (x) => R.tile(x, [3, 1, 4]), { dims: ['n', 1] });
  });
});

describe('repeat', () => {
  test('along an axis and flattened', () => {
    checkUnary('repeat', [2, 3], 'float32', { repeats: 2, axis: 0 }, (x) => R.repeat(x, 2, 0));
    checkUnary('repeat', [2, 3], 'int32', { repeats: 3, axis: -1 }, (x) => R.repeat(x, 3, -1));
    checkUnary('repeat', [2, 1, 3], 'bool', { repeats: 2 }, (x) => R.repeat(x, 2));
    checkUnary('repeat', [4], 'int64', { repeats: 1, axis: 0 }, (x) => R.repeat(x, 1, 0));
    checkUnary('repeat', [2, 3], 'float32', { repeats: 0, axis: 1 }, (x) => R.repeat(x, 0, 1));
  });

  test('symbolic shapes', () => {
    checkUnary('repeat', [3, 5], 'float32', { repeats: 2, axis: 1 }, (x) => R.repeat(x, 2, 1), { dims: ['n', 'm'] });
    checkUnary('repeat', [3, 2], 'int32', { repeats: 3 }, (x) => R.repeat(x, 3), { dims: ['n', 2] });
  });
});

describe('flip', () => {
  test('each axis, negative axes, symbolic shapes', () => {
    checkUnary('flip', [2, 3, 4], 'float32', { axis: 0 }, (x) => R.flip(x, 0));
    checkUnary('flip', [2, 3, 4], 'int32', { axis: 1 }, (x) => R.flip(x, 1));
    checkUnary('flip', [2, 3, 4], 'int64', { axis: -1 }, (x) => R.flip(x, -1));
    checkUnary('flip', [1, 5], 'bool', { axis: 0 }, (x) => R.flip(x, 0));
    checkUnary('flip', [3, 7], 'float32', { axis: -1 }, (x) => R.flip(x, -1), { dims: ['n', 'm'] });
  });
});
