import { describe, expect, it } from 'vitest';
import { add, floordiv, max, primVar, sub } from '../../src/ir/prim/expr.ts';
import { expectInfer, expectRank, expectTensor, infer, m, n, run, S, show, T } from './helpers.ts';

describe('split', () => {
  it('splits into sections, the last taking the rest', () => {
    expect(show(infer('split', [T([n, 6])], { indices_or_sections: 3, axis: 1 }))).toBe(
      '[float32(n, 2), float32(n, 2), float32(n, 2)]',
    );
    expect(show(infer('split', [T([7])], { indices_or_sections: 3 }))).toBe('[float32(3,), float32(3,), float32(1,)]');
    const { out, an } = run('split', [T([n, 6])], { indices_or_sections: 2 });
    if (out.kind !== 'tuple') throw new Error('expected a tuple');
    const half = floordiv(add(n, 1), 2);
    expectTensor(out.fields[0]!, [half, 6], 'float32', an);
    expectTensor(out.fields[1]!, [sub(n, half), 6], 'float32', an);
  });

  it('splits at indices, clamped to the size', () => {
    expect(show(infer('split', [T([10, n])], { indices_or_sections: [2, 5, 20] }))).toBe(
      '[float32(2, n), float32(3, n), float32(5, n), float32(0, n)]',
    );
    expect(show(infer('split', [T([n])], { indices_or_sections: [] }))).toBe('[float32(n,)]');
  });

  it('keeps the rank when the shape is unknown', () => {
    expect(show(infer('split', [T(2)], { indices_or_sections: 2 }))).toBe('[float32(?, ?), float32(?, ?)]');
  });

  it('rejects impossible sections and bad axes', () => {
    expect(() => infer('split', [T([5, n])], { indices_or_sections: 4 })).toThrow(
      /split: cannot split axis 0 of argument 'data' of shape \(5, n\) into 4 sections of 2/,
    );
    expect(() => infer('split', [T([n, 6])], { indices_or_sections: 2, axis: 2 })).toThrow(
      /split: axis 2 is out of range for argument 'data' of rank 2/,
    );
    expect(() => infer('split', [T([n])], { indices_or_sections: 0 })).toThrow(
      /split: invalid attributes: attribute 'indices_or_sections'/,
    );
  });
});

describe('strided_slice', () => {
  const BIG = 2 ** 31 - 1;
  it('slices with numpy clamping', () => {
    expectInfer('strided_slice', [T([10, 8]), S([2, 0]), S([7, 100])], {}, [5, 8]);
    expectInfer('strided_slice', [T([10]), S([-3]), S([BIG])], {}, [3]);
    expectInfer('strided_slice', [T([10]), S([-100]), S([-8])], {}, [2]);
    expectInfer('strided_slice', [T([10]), S([0]), S([10]), S([3])], {}, [4]);
    expectInfer('strided_slice', [T([10]), S([8]), S([2])], {}, [0]);
    expectInfer('strided_slice', [T([10]), S([-1]), S([-BIG - 1]), S([-2])], {}, [5]);
    expectInfer('strided_slice', [T([10]), S([BIG]), S([-BIG - 1]), S([-1])], {}, [10]);
  });

  it('slices symbolic dims', () => {
    expectInfer('strided_slice', [T([n, 10]), S([0, 2]), S([BIG, -1])], {}, [n, 7]);
    expectInfer('strided_slice', [T([n, m]), S([1]), S([BIG])], { axes: [1] }, [n, max(sub(m, 1), 0)]);
    // Relax's assume_inbound: no clamping, the bounds are trusted.
    expectInfer('strided_slice', [T([n, m]), S([1]), S([-1])], { axes: [1], assume_inbound: true }, [n, sub(m, 2)]);
    const k = primVar('k');
    expectInfer('strided_slice', [T([n]), S([0]), S([k])], { assume_inbound: true }, [k]);
  });

  it('keeps undecidable symbolic bounds as expressions', () => {
    const k = primVar('k');
    const { out } = run('strided_slice', [T([n]), S([k]), S([n])]);
    expect(out.kind === 'tensor' && out.shape?.length).toBe(1);
  });

  it('knows only the rank when a bound or stride is unknown', () => {
    expectRank(infer('strided_slice', [T([n, 4]), S(1), S([2])]), 2);
    expectRank(infer('strided_slice', [T([n, 4]), S([0]), S([2]), S([primVar('s')])]), 2);
  });

  it('names the arguments when the bounds do not fit', () => {
    expect(() => infer('strided_slice', [T([n]), S([0, 0]), S([1])])).toThrow(
      /strided_slice: argument 'begin' has 2 values but argument 'end' has 1/,
    );
    expect(() => infer('strided_slice', [T([n]), S([0, 0]), S([1, 1])])).toThrow(
      /strided_slice: argument 'begin' has 2 values but argument 'data' of shape \(n,\) has only 1 axes/,
    );
    expect(() => infer('strided_slice', [T([n, 4]), S([0]), S([1])], { axes: [0, 1] })).toThrow(
      /strided_slice: axes \[0, 1\] name 2 axes but argument 'begin' has 1 values/,
    );
    expect(() => infer('strided_slice', [T([n, 4]), S([0]), S([1])], { axes: [2] })).toThrow(
      /strided_slice: axis 2 is out of range for argument 'data' of rank 2/,
    );
    expect(() => infer('strided_slice', [T([n]), S([0]), S([1]), S([0])])).toThrow(
      /strided_slice: a stride is 0 in argument 'strides' \(0,\)/,
    );
  });
});

describe('take', () => {
  it('gathers slices along an axis', () => {
    expectInfer('take', [T([n, 16]), T([m], 'int32')], { axis: 0 }, [m, 16]);
    expectInfer('take', [T([32000, 4096]), T([1, n], 'int64')], { axis: 0 }, [1, n, 4096]);
    expectInfer('take', [T([n, 16]), T([2, 3], 'int32')], { axis: -1 }, [n, 2, 3]);
    expectInfer('take', [T([n, 16]), T([m], 'int32')], {}, [m]);
    expectRank(infer('take', [T(2), T([m], 'int32')], { axis: 1 }), 2);
  });

  it('needs integer indices and a valid axis', () => {
    expect(() => infer('take', [T([n, 16]), T([m])], { axis: 0 })).toThrow(
      /take: argument 'indices' has dtype float32, expected an integer type/,
    );
    expect(() => infer('take', [T([n, 16]), T([m], 'int32')], { axis: 2 })).toThrow(
      /take: axis 2 is out of range for argument 'data' of rank 2/,
    );
    expect(() => infer('take', [T([]), T([m], 'int32')], { axis: 0 })).toThrow(
      /take: cannot take along an axis of 0-d argument 'data' of shape \(\)/,
    );
  });
});

describe('gather_elements', () => {
  it('has the shape of the indices', () => {
    expectInfer('gather_elements', [T([n, 5]), T([n, 2], 'int64')], { axis: 1 }, [n, 2]);
    expect(() => infer('gather_elements', [T([n, 5]), T([n], 'int64')])).toThrow(
      /gather_elements: argument 'indices' of shape \(n,\) must have the rank of argument 'data' of shape \(n, 5\)/,
    );
  });
});

describe('gather_nd', () => {
  it('indexes leading axes with the last axis of the indices', () => {
    expectInfer('gather_nd', [T([n, m, 8]), T([5, 2], 'int64')], {}, [5, 8]);
    expectInfer('gather_nd', [T([n, m, 8]), T([n, 3, 1], 'int64')], { batch_dims: 1 }, [n, 3, 8]);
    expectRank(infer('gather_nd', [T([n, m, 8]), T([5, m], 'int64')]), -1);
    expectRank(infer('gather_nd', [T(3), T([5, 2], 'int64')]), 2);
    expect(() => infer('gather_nd', [T([n, 8]), T([], 'int64')])).toThrow(
      /gather_nd: expected argument 'indices' of shape \(\) to have rank at least 1/,
    );
    expect(() => infer('gather_nd', [T([n, 8]), T([5, 3], 'int64')])).toThrow(
      /gather_nd: argument 'indices' of shape \(5, 3\) indexes 3 axes after 0 batch dims, more than argument 'data' of shape \(n, 8\) has/,
    );
  });
});

describe('scatter_elements', () => {
  it('keeps the shape of the data', () => {
    expectInfer('scatter_elements', [T([n, 5]), T([n, 2], 'int64'), T([n, 2])], { axis: 1, reduction: 'add' }, [n, 5]);
  });

  it('names the mismatching arguments', () => {
    expect(() => infer('scatter_elements', [T([n, 5]), T([n, 2], 'int64'), T([n, 3])])).toThrow(
      /scatter_elements: argument 'indices' of shape \(n, 2\) and argument 'updates' of shape \(n, 3\) must have one shape/,
    );
    expect(() => infer('scatter_elements', [T([n, 5]), T([2], 'int64'), T([2])])).toThrow(
      /scatter_elements: argument 'indices' of shape \(2,\) must have the rank of argument 'data' of shape \(n, 5\)/,
    );
    expect(() => infer('scatter_elements', [T([n, 5]), T([n, 2], 'int64'), T([n, 2], 'float16')])).toThrow(
      /scatter_elements: argument 'data' has dtype float32 but argument 'updates' has dtype float16/,
    );
  });
});
