import { describe, expect, it } from 'vitest';
import { add, floordiv, mul } from '../../src/ir/prim/expr.ts';
import { expectInfer, expectRank, h, infer, m, n, S, show, T, Tup, w } from './helpers.ts';

describe('reshape', () => {
  it('takes symbolic target shapes', () => {
    expectInfer('reshape', [T([n, 4, 3]), S([n, 12])], {}, [n, 12]);
    expectInfer('reshape', [T([n, m]), S([mul(n, m)])], {}, [mul(m, n)]);
    expectInfer('reshape', [T([2, 3, 4]), S([4, 6])], {}, [4, 6]);
  });

  it('infers -1 from the element counts', () => {
    expectInfer('reshape', [T([n, 4]), S([-1, 2])], {}, [mul(n, 2), 2]);
    expectInfer('reshape', [T([n, h, w]), S([n, -1])], {}, [n, mul(h, w)]);
    expectInfer('reshape', [T([2, 3, 4]), S([-1])], {}, [24]);
    expectInfer('reshape', [T([n, 32, 64]), S([n, 32, -1, 8])], {}, [n, 32, 8, 8]);
  });

  it('names both shapes when the element counts provably differ', () => {
    expect(() => infer('reshape', [T([2, 3]), S([4, 2])])).toThrow(
      /K3005: reshape: cannot reshape argument 'data' of shape \(2, 3\) to \(4, 2\): 6 elements do not fill 8/,
    );
    // n * 4 and n * 5 agree at n = 0, but (n + 1) * 4 and (n + 1) * 5 never do.
    expectInfer('reshape', [T([n, 4]), S([n, 5])], {}, [n, 5]);
    expect(() => infer('reshape', [T([add(n, 1), 4]), S([add(n, 1), 5])])).toThrow(
      /reshape: cannot reshape argument 'data' of shape \(n \+ 1, 4\) to \(n \+ 1, 5\)/,
    );
    expect(() => infer('reshape', [T([2, 5]), S([3, -1])])).toThrow(
      /reshape: cannot reshape argument 'data' of shape \(2, 5\) to \(3, -1\): 10 elements are not a multiple of 3/,
    );
    expect(() => infer('reshape', [T([6]), S([-1, -1])])).toThrow(
      /reshape: cannot reshape argument 'data' of shape \(6,\) to \(-1, -1\): at most one dim may be -1/,
    );
    expect(() => infer('reshape', [T([6]), S([-2, -3])])).toThrow(/dim -2 is negative/);
  });

  it('keeps undecidable counts (they are checked at run time)', () => {
    expectInfer('reshape', [T([n]), S([m])], {}, [m]);
  });

  it('knows only the rank when the target or the input is unknown', () => {
    expectRank(infer('reshape', [T([n, 4]), S(3)]), 3);
    expectRank(infer('reshape', [T(undefined), S([-1, 4])]), 2);
    expectInfer('reshape', [T(undefined), S([n, 4])], {}, [n, 4]);
  });
});

describe('permute_dims', () => {
  it('permutes or reverses axes', () => {
    expectInfer('permute_dims', [T([n, m, 3])], { axes: [2, 0, 1] }, [3, n, m]);
    expectInfer('permute_dims', [T([n, m, 3])], {}, [3, m, n]);
    expectInfer('permute_dims', [T([n, m])], { axes: [-1, 0] }, [m, n]);
    expectRank(infer('permute_dims', [T(undefined)], { axes: [1, 0] }), 2);
  });

  it('rejects axes that are not a permutation', () => {
    expect(() => infer('permute_dims', [T([n, m, 3])], { axes: [0, 1] })).toThrow(
      /permute_dims: axes \[0, 1\] must list each of the 3 axes of argument 'data' of shape \(n, m, 3\) once/,
    );
    expect(() => infer('permute_dims', [T([n, m])], { axes: [0, -2] })).toThrow(
      /permute_dims: axis -2 is repeated in \[0, -2\] for argument 'data' of rank 2/,
    );
    expect(() => infer('permute_dims', [T([n, m])], { axes: [0, 2] })).toThrow(
      /permute_dims: axis 2 is out of range for argument 'data' of rank 2/,
    );
  });
});

describe('expand_dims', () => {
  it('inserts unit dims at result positions', () => {
    expectInfer('expand_dims', [T([n, m])], { axis: 0 }, [1, n, m]);
    expectInfer('expand_dims', [T([n, m])], { axis: [1, -1] }, [n, 1, m, 1]);
    expectRank(infer('expand_dims', [T(2)], { axis: 0 }), 3);
  });

  it('rejects axes outside the result', () => {
    expect(() => infer('expand_dims', [T([n, m])], { axis: 3 })).toThrow(
      /expand_dims: axis 3 is out of range for the result of rank 3 of expanding argument 'data' of shape \(n, m\)/,
    );
    expect(() => infer('expand_dims', [T([n])], {})).toThrow(/expand_dims: invalid attributes: attribute 'axis'/);
  });
});

describe('squeeze', () => {
  it('drops unit dims', () => {
    expectInfer('squeeze', [T([2, 1, add(n, 3), 1])], {}, [2, add(n, 3)]);
    expectInfer('squeeze', [T([n, 1, 3, 1])], { axis: [1] }, [n, 3, 1]);
    expectInfer('squeeze', [T([n, m])], { axis: 1 }, [n]);
  });

  it('leaves the rank unknown when a dim may or may not be 1', () => {
    expectRank(infer('squeeze', [T([n, 1])]), -1);
    expectRank(infer('squeeze', [T(2)]), -1);
  });

  it('names the shape when a squeezed dim is provably not 1', () => {
    expect(() => infer('squeeze', [T([n, 3])], { axis: [1] })).toThrow(
      /squeeze: cannot squeeze axis 1 of argument 'data' of shape \(n, 3\): its size 3 is not 1/,
    );
    expect(() => infer('squeeze', [T([n, 1])], { axis: 2 })).toThrow(
      /squeeze: axis 2 is out of range for argument 'data' of rank 2/,
    );
  });
});

describe('flatten', () => {
  it('merges a range of axes', () => {
    expectInfer('flatten', [T([n, 3, h, w])], {}, [mul(mul(n, 3), mul(h, w))]);
    expectInfer('flatten', [T([n, 3, h, w])], { start_dim: 1 }, [n, mul(mul(h, w), 3)]);
    expectInfer('flatten', [T([n, 3, h, w])], { start_dim: 1, end_dim: 2 }, [n, mul(h, 3), w]);
    expectInfer('flatten', [T([])], {}, [1]);
    expectRank(infer('flatten', [T(4)], { start_dim: 1 }), 2);
  });

  it('rejects reversed or bad axes', () => {
    expect(() => infer('flatten', [T([n, 3, 4])], { start_dim: 2, end_dim: 1 })).toThrow(
      /flatten: start_dim 2 comes after end_dim 1 for argument 'data' of shape \(n, 3, 4\)/,
    );
    expect(() => infer('flatten', [T([n, 3])], { start_dim: 4 })).toThrow(
      /flatten: axis 4 is out of range for argument 'data' of rank 2/,
    );
  });
});

describe('concat', () => {
  it('adds up symbolic sizes along the axis', () => {
    expectInfer('concat', [Tup(T([n, 3]), T([m, 3]))], {}, [add(n, m), 3]);
    expectInfer('concat', [Tup(T([n, 3]), T([n, 5]), T([n, 1]))], { axis: -1 }, [n, 9]);
    expectInfer('concat', [Tup(T([n, 3]))], {}, [n, 3]);
  });

  it('knows only the rank when other dims cannot be compared', () => {
    expectRank(infer('concat', [Tup(T([n, 3]), T([m, 4]))], { axis: 1 }), 2);
    expectRank(infer('concat', [Tup(T([n, 3]), T(2))]), 2);
    expectRank(infer('concat', [Tup(T(undefined), T(undefined))]), -1);
  });

  it('names the fields and shapes that conflict', () => {
    expect(() => infer('concat', [Tup(T([n, 3]), T([n, 4]))])).toThrow(
      /concat: argument 'tensors\[0\]' of shape \(n, 3\) and argument 'tensors\[1\]' of shape \(n, 4\) differ in dim 1, which is not the concat axis 0/,
    );
    expect(() => infer('concat', [Tup(T([n, 3]), T([n, 3, 1]))])).toThrow(
      /concat: argument 'tensors\[0\]' of shape \(n, 3\) and argument 'tensors\[1\]' of shape \(n, 3, 1\) have different ranks/,
    );
    expect(() => infer('concat', [Tup(T([n]), T([n], 'int32'))])).toThrow(
      /concat: argument 'tensors\[0\]' has dtype float32 but argument 'tensors\[1\]' has dtype int32/,
    );
    expect(() => infer('concat', [Tup()])).toThrow(/concat: argument 'tensors' is an empty tuple/);
    expect(() => infer('concat', [Tup(T([n]))], { axis: 1 })).toThrow(
      /concat: axis 1 is out of range for argument 'tensors\[0\]' of rank 1/,
    );
  });
});

describe('broadcast_to', () => {
  it('takes the target shape', () => {
    expectInfer('broadcast_to', [T([1, 3]), S([n, m, 3])], {}, [n, m, 3]);
    expectInfer('broadcast_to', [T([n, 1]), S([n, 4])], {}, [n, 4]);
    expectRank(infer('broadcast_to', [T([1, 3]), S(2)]), 2);
  });

  it('names both shapes when the data does not broadcast', () => {
    expect(() => infer('broadcast_to', [T([3, 4]), S([5, 4])])).toThrow(
      /broadcast_to: cannot broadcast argument 'data' of shape \(3, 4\) to shape \(5, 4\): dim 3 is neither 1 nor 5/,
    );
    expect(() => infer('broadcast_to', [T([1, 4]), S([-1, 4])])).toThrow(
      /broadcast_to: argument 'shape' \(-1, 4\) has the negative size -1/,
    );
    expect(() => infer('broadcast_to', [T([n, 3, 4]), S([3, 4])])).toThrow(
      /broadcast_to: cannot broadcast argument 'data' of shape \(n, 3, 4\) to the lower rank shape \(3, 4\)/,
    );
  });
});

describe('tile and repeat', () => {
  it('tile multiplies dims, aligning repeats to the right', () => {
    expectInfer('tile', [T([n, 3])], { repeats: [2, 2] }, [mul(n, 2), 6]);
    expectInfer('tile', [T([n, 3])], { repeats: [2] }, [n, 6]);
    expectInfer('tile', [T([n])], { repeats: [4, 1] }, [4, n]);
    expect(() => infer('tile', [T([n])], { repeats: [-1] })).toThrow(/tile: invalid attributes: attribute 'repeats\.0'/);
  });

  it('repeat multiplies one axis, or the flattened size', () => {
    expectInfer('repeat', [T([n, 3])], { repeats: 2, axis: 1 }, [n, 6]);
    expectInfer('repeat', [T([n, 3])], { repeats: 2 }, [mul(n, 6)]);
    expect(() => infer('repeat', [T([n, 3])], { repeats: 2, axis: 2 })).toThrow(
      /repeat: axis 2 is out of range for argument 'data' of rank 2/,
    );
  });
});

describe('flip', () => {
  it('keeps the shape', () => {
    expectInfer('flip', [T([n, m])], { axis: 1 }, [n, m]);
    expect(() => infer('flip', [T([n, m])], { axis: 2 })).toThrow(/flip: axis 2 is out of range for argument 'data' of rank 2/);
  });
});

describe('shape_of', () => {
  it('gives the shape as a shape value', () => {
    expect(show(infer('shape_of', [T([n, 3])]))).toBe('shape(n, 3)');
    expect(show(infer('shape_of', [T(2)]))).toBe('shape(?, ?)');
    expect(show(infer('shape_of', [T(undefined)]))).toBe('shape(...)');
    expect(() => infer('shape_of', [S([2])])).toThrow(/shape_of: argument 'data' must be a tensor, found a shape \(2,\)/);
  });
});

describe('floordiv results of reshape simplify', () => {
  it('divides exactly when the analyzer sees the factor', () => {
    expectInfer('reshape', [T([n, 6]), S([-1, 3])], {}, [floordiv(mul(n, 6), 3), 3]);
    expectInfer('reshape', [T([n, 6]), S([-1, 3])], {}, [mul(n, 2), 3]);
  });
});
