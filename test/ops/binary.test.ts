import { describe, expect, it } from 'vitest';
import { add, mul } from '../../src/ir/prim/expr.ts';
import { type Dim, expectInfer, expectRank, infer, m, n, T } from './helpers.ts';

const ARITH = ['add', 'subtract', 'multiply', 'divide', 'floor_divide', 'power', 'maximum', 'minimum', 'mod', 'floor_mod'];
const BITWISE = ['bitwise_and', 'bitwise_or', 'bitwise_xor', 'left_shift', 'right_shift'];
const COMPARE = ['equal', 'not_equal', 'less', 'less_equal', 'greater', 'greater_equal'];
const LOGICAL = ['logical_and', 'logical_or', 'logical_xor'];

describe('broadcasting', () => {
  const cases: [string, Dim[], Dim[], Dim[]][] = [
    ['equal shapes', [n, 3], [n, 3], [n, 3]],
    ['trailing vector', [n, 3], [3], [n, 3]],
    ['unit dims stretch', [n, 1, 4], [1, m, 4], [n, m, 4]],
    ['scalar', [n, 2], [], [n, 2]],
    ['rank extension', [5], [n, m, 5], [n, m, 5]],
    ['equal expressions', [mul(n, 4)], [mul(4, n)], [mul(n, 4)]],
    ['reordered sums', [add(n, m), 2], [add(m, n), 1], [add(n, m), 2]],
  ];
  it.each(cases)('%s', (_name, a, b, out) => {
    expectInfer('add', [T(a), T(b)], {}, out);
  });

  it('gives an unknown shape of known rank when dims cannot be compared', () => {
    expectRank(infer('add', [T([n, 3]), T([m, 3])]), 2);
    expectRank(infer('multiply', [T([n]), T([4, 3])]), 2);
  });

  it('propagates unknown ranks and shapes', () => {
    expectRank(infer('add', [T(undefined), T([3])]), -1);
    expectRank(infer('add', [T(2), T([3])]), 2);
  });

  it('names both arguments and shapes when dims provably differ', () => {
    expect(() => infer('add', [T([n, 3]), T([4])])).toThrow(
      /K3005: add: cannot broadcast argument 'x1' of shape \(n, 3\) with argument 'x2' of shape \(4,\): dims 3 and 4 differ and neither is 1/,
    );
    // n >= 0, so n + 2 and n + 3 are never 1 and never equal.
    expect(() => infer('subtract', [T([add(n, 2), 2]), T([add(n, 3), 2])])).toThrow(
      /subtract: cannot broadcast argument 'x1' of shape \(n \+ 2, 2\) with argument 'x2' of shape \(n \+ 3, 2\)/,
    );
  });

  it('does not reject dims that differ when one of them may be 1', () => {
    // n + 1 is 1 when n = 0, so n + 1 against n + 2 may broadcast.
    expectRank(infer('add', [T([add(n, 1)]), T([add(n, 2)])]), 1);
  });
});

describe('binary operators', () => {
  it.each(ARITH)('%s keeps the dtype and broadcasts', (op) => {
    expectInfer(op, [T([n, 1], 'int32'), T([5], 'int32')], {}, [n, 5], 'int32');
    expect(() => infer(op, [T([n]), T([n], 'float16')])).toThrow(
      new RegExp(`K3006: ${op}: argument 'x1' has dtype float32 but argument 'x2' has dtype float16`),
    );
    expect(() => infer(op, [T([2, 3]), T([3, 2])])).toThrow(
      new RegExp(`${op}: cannot broadcast argument 'x1' of shape \\(2, 3\\)`),
    );
  });

  it.each(ARITH)('%s rejects bool operands', (op) => {
    expect(() => infer(op, [T([n], 'bool'), T([n], 'bool')])).toThrow(new RegExp(`${op}: argument 'x1' has dtype bool`));
  });

  it.each(BITWISE)('%s needs integers', (op) => {
    expectInfer(op, [T([n], 'uint8'), T([1], 'uint8')], {}, [n], 'uint8');
    expect(() => infer(op, [T([n]), T([n])])).toThrow(
      new RegExp(`${op}: argument 'x1' has dtype float32, expected an integer or bool type`),
    );
  });

  it.each([...COMPARE, ...LOGICAL])('%s produces bool', (op) => {
    expectInfer(op, [T([n, 1], 'int64'), T([1, m], 'int64')], {}, [n, m], 'bool');
    expect(() => infer(op, [T([n], 'int64'), T([n], 'int32')])).toThrow(
      new RegExp(`${op}: argument 'x1' has dtype int64 but argument 'x2' has dtype int32`),
    );
    expect(() => infer(op, [T([2]), T([3])])).toThrow(
      new RegExp(`${op}: cannot broadcast argument 'x1' of shape \\(2,\\) with argument 'x2' of shape \\(3,\\)`),
    );
  });
});

describe('where', () => {
  it('broadcasts all three arguments', () => {
    expectInfer('where', [T([n, 1], 'bool'), T([1, m]), T([m])], {}, [n, m]);
    expectInfer('where', [T([], 'bool'), T([n, 4], 'int32'), T([4], 'int32')], {}, [n, 4], 'int32');
  });

  it('needs a bool condition and equal branch dtypes', () => {
    expect(() => infer('where', [T([n]), T([n]), T([n])])).toThrow(
      /where: argument 'condition' has dtype float32, expected bool/,
    );
    expect(() => infer('where', [T([n], 'bool'), T([n]), T([n], 'int32')])).toThrow(
      /where: argument 'x1' has dtype float32 but argument 'x2' has dtype int32/,
    );
  });

  it('names the conflicting arguments', () => {
    expect(() => infer('where', [T([3], 'bool'), T([n, 1]), T([n, 4])])).toThrow(
      /where: cannot broadcast argument 'condition' of shape \(3,\) with argument 'x2' of shape \(n, 4\)/,
    );
  });
});
