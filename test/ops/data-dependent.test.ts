/**
 * The operators whose output size only the data decides: their inference
 * (ranks only) and the runtime builtins that run them, on edge cases the
 * random-input tests against onnxruntime (test/frontends/onnx/data-dependent.test.ts)
 * rarely reach: ties, NaN, int64 beyond 2^53, float16, empty results, boxes of no area.
 * And check_slice_bounds, the run-time check of a slice's computed bounds.
 */
import { describe, expect, it } from 'vitest';
import { checkSliceBounds } from '../../src/runtime/builtins/check-slice-bounds.ts';
import { nonMaxSuppression } from '../../src/runtime/builtins/non-max-suppression.ts';
import { nonzero } from '../../src/runtime/builtins/nonzero.ts';
import { tensorToShape } from '../../src/runtime/builtins/tensor-to-shape.ts';
import { unique } from '../../src/runtime/builtins/unique.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import { Shape } from '../../src/runtime/values.ts';
import { add } from '../../src/ir/prim/expr.ts';
import { expectRank, infer, m, n, S, show, T } from './helpers.ts';

const values = (t: unknown): number[] => (t as NDArray).toNumbers();
const shapeOf = (t: unknown): readonly number[] => (t as NDArray).shape;

describe('inference', () => {
  it('gives ranks, the sizes left to a match_cast', () => {
    expectRank(infer('nonzero', [T([n, 3])]), 2, 'int64');
    expect(show(infer('unique', [T([n, 3])]))).toBe('[float32(?,), int64(?,), int64(?,), int64(?,)]');
    expect(show(infer('unique', [T([n, 3], 'int32')], { axis: 1 }))).toBe('[int32(?, ?), int64(?,), int64(?,), int64(?,)]');
    const nmsArgs = [T([1, n, 4]), T([1, 2, n]), T([1], 'int64'), T([1]), T([1])];
    expectRank(infer('non_max_suppression', nmsArgs, { center_point_box: true }), 2, 'int64');
    expect(show(infer('tensor_to_shape', [T([2], 'int64')]))).toBe('shape(?, ?)');
  });

  it('rejects what the builtins cannot take, naming the argument', () => {
    expect(() => infer('unique', [T([n, 3])], { axis: 2 })).toThrow(
      /unique: axis 2 is out of range for argument 'data' of rank 2/,
    );
    expect(() => infer('non_max_suppression', [T([n, 4]), T([1, 2, n]), T([1], 'int64'), T([1]), T([1])])).toThrow(
      /non_max_suppression: .*'boxes'.*rank 3/,
    );
    expect(() => infer('non_max_suppression', [T([1, n, 4], 'int32'), T([1, 2, n]), T([1], 'int64'), T([1]), T([1])])).toThrow(
      /'boxes'.* must be a float tensor/,
    );
    expect(() => infer('tensor_to_shape', [T([2])])).toThrow(/tensor_to_shape: .*'data'.* must be an integer tensor/);
    expect(() => infer('tensor_to_shape', [T([2, 2], 'int64')])).toThrow(/tensor_to_shape: .*'data'.*rank 1/);
  });
});

describe('kiln.nonzero', () => {
  it('lists coordinates column by column in row-major order; NaN is non-zero', async () => {
    const r = await nonzero(tensor([0, 1, 0, Number.NaN, 2, 0], [2, 3]), '{}');
    expect(shapeOf(r)).toEqual([2, 3]);
    expect(values(r)).toEqual([0, 1, 1, 1, 0, 1]);
  });

  it('gives (rank, 0) when nothing is set, and treats a 0-d tensor as one axis', async () => {
    expect(shapeOf(await nonzero(tensor([0, 0], [1, 2]), '{}'))).toEqual([2, 0]);
    expect(shapeOf(await nonzero(tensor([5], []), '{}'))).toEqual([1, 1]);
  });
});

describe('kiln.unique', () => {
  it('sorts, or keeps the order of first appearance, with first indices, inverse and counts', async () => {
    const x = tensor([3, 1, 3, 2, 1, 3], [6]);
    const [y, first, inverse, counts] = (await unique(x, '{"axis":null,"sorted":true}')) as NDArray[];
    expect([values(y), values(first), values(inverse), values(counts)]).toEqual([
      [1, 2, 3],
      [1, 3, 0],
      [2, 0, 2, 1, 0, 2],
      [2, 1, 3],
    ]);
    const [y2, first2, inverse2] = (await unique(x, '{"axis":null,"sorted":false}')) as NDArray[];
    expect([values(y2), values(first2), values(inverse2)]).toEqual([
      [3, 1, 2],
      [0, 1, 3],
      [0, 1, 0, 2, 1, 0],
    ]);
  });

  it('compares slices along an axis element by element', async () => {
    // Columns (1,4) (0,2) (1,4) (0,1): three distinct, sorted lexicographically.
    const x = tensor([1, 0, 1, 0, 4, 2, 4, 1], [2, 4], 'int32');
    const [y, first, inverse, counts] = (await unique(x, '{"axis":1,"sorted":true}')) as NDArray[];
    expect(shapeOf(y)).toEqual([2, 3]);
    expect(values(y)).toEqual([0, 0, 1, 1, 2, 4]);
    expect([values(first), values(inverse), values(counts)]).toEqual([
      [3, 1, 0],
      [2, 1, 2, 0],
      [1, 1, 2],
    ]);
  });

  it('keeps int64 values past 2^53 apart, float16 bits as they are, and one NaN group last', async () => {
    const big = 2n ** 60n;
    const [y] = (await unique(tensor([big + 1n, big, big + 1n], [3], 'int64'), '{"axis":null,"sorted":true}')) as NDArray[];
    expect(Array.from(y!.data as BigInt64Array)).toEqual([big, big + 1n]);
    const [h] = (await unique(tensor([0.5, -1, 0.5], [3], 'float16'), '{"axis":null,"sorted":true}')) as NDArray[];
    expect([h!.dtype, values(h)]).toEqual(['float16', [-1, 0.5]]);
    const [f, , , c] = (await unique(tensor([Number.NaN, 1, Number.NaN], [3]), '{"axis":null,"sorted":true}')) as NDArray[];
    expect(values(f)).toEqual([1, Number.NaN]);
    expect(values(c)).toEqual([1, 2]);
  });
});

describe('kiln.non_max_suppression', () => {
  const nms = async (boxes: number[], scores: number[], max: number, iou: number, minScore: number, centre = false) => {
    const b = boxes.length / 4;
    const r = await nonMaxSuppression(
      tensor(boxes, [1, b, 4]),
      tensor(scores, [1, 1, b]),
      tensor([max], [1], 'int64'),
      tensor([iou], [1]),
      tensor([minScore], [1]),
      JSON.stringify({ center_point_box: centre }),
    );
    return values(r);
  };

  it('keeps the best box of an overlapping pair, a distant one, and respects the count and the score threshold', async () => {
    // Boxes 0 and 1 overlap (IoU 0.81), box 2 is far away; box 1 scores best.
    const boxes = [0, 0, 1, 1, 0, 0, 0.9, 0.9, 5, 5, 6, 6];
    expect(await nms(boxes, [0.8, 0.9, 0.5], 10, 0.5, 0)).toEqual([0, 0, 1, 0, 0, 2]);
    expect(await nms(boxes, [0.8, 0.9, 0.5], 1, 0.5, 0)).toEqual([0, 0, 1]);
    expect(await nms(boxes, [0.8, 0.9, 0.5], 10, 0.5, 0.6)).toEqual([0, 0, 1]);
    // A threshold above the overlap keeps both.
    expect(await nms(boxes, [0.8, 0.9, 0.5], 10, 0.9, 0)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 2]);
  });

  it('reads flipped corners and centre boxes alike; ties go to the lower index; a box of no area suppresses nothing', async () => {
    expect(await nms([1, 1, 0, 0, 0, 0, 0.9, 0.9], [0.9, 0.8], 10, 0.5, 0)).toEqual([0, 0, 0]);
    expect(await nms([0.5, 0.5, 1, 1, 0.45, 0.45, 0.9, 0.9], [0.7, 0.7], 10, 0.5, 0, true)).toEqual([0, 0, 0]);
    expect(await nms([0, 0, 0, 0, 0, 0, 0, 0], [0.5, 0.5], 10, 0, 0)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(await nms([0, 0, 1, 1], [0.5], 0, 0.5, 0)).toEqual([]);
  });
});

describe('kiln.tensor_to_shape', () => {
  it('reads the elements as dimensions and refuses a negative one', async () => {
    expect(await tensorToShape(tensor([3, 0], [2], 'int64'), '{}')).toEqual(new Shape([3, 0]));
    await expect(tensorToShape(tensor([-1], [1], 'int64'), '{}')).rejects.toThrow(/-1 is not a size/);
  });
});

describe('check_slice_bounds', () => {
  it('gives its end shape, values and all (the slice after it takes them)', () => {
    expect(show(infer('check_slice_bounds', [T([n, 4]), S([m]), S([add(m, 2)])], { axes: [0] }))).toBe('shape(m + 2,)');
    expect(() => infer('check_slice_bounds', [T([n, 4]), S([m]), S([m, 1])], { axes: [0] })).toThrow(
      /check_slice_bounds: argument 'end' has 2 values but axes \[0\] name 1/,
    );
    expect(() => infer('check_slice_bounds', [T([n, 4]), S([m]), S([m])], { axes: [2] })).toThrow(/axis 2 is past/);
  });

  it('returns the end when every bound lies within the tensor, the empty slice and the whole axis included', () => {
    const x = tensor(new Float32Array(12), [3, 4]);
    const attrs = JSON.stringify({ axes: [0, 1], node: 'S' });
    for (const [b, e] of [
      [
        [0, 0],
        [3, 4],
      ],
      [
        [3, 4],
        [3, 4],
      ],
      [
        [1, 2],
        [1, 3],
      ],
    ]) {
      expect((checkSliceBounds(x, new Shape(b!), new Shape(e!), attrs) as Shape).dims).toEqual(e);
    }
  });

  it('fails the call (K8203) on a bound before 0, past the size, or an end before the begin', () => {
    const x = tensor(new Float32Array(12), [3, 4]);
    const attrs = JSON.stringify({ axes: [1], node: 'Slice_7' });
    for (const [b, e] of [
      [-1, 2],
      [0, 5],
      [3, 2],
    ]) {
      let error: unknown;
      try {
        checkSliceBounds(x, new Shape([b!]), new Shape([e!]), attrs);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'CallError', code: 'K8203' });
      expect((error as Error).message).toContain(
        `Slice 'Slice_7': its bounds, computed while the model runs, are [${b}, ${e}) on axis 1`,
      );
    }
  });
});
