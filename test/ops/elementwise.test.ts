import { describe, expect, it } from 'vitest';
import { mul } from '../../src/ir/prim/expr.ts';
import { expectInfer, expectRank, infer, n, T } from './helpers.ts';

const FLOAT_ONLY = [
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'cos',
  'cosh',
  'erf',
  'exp',
  'exp2',
  'expm1',
  'gelu',
  'gelu_tanh',
  'log',
  'log10',
  'log1p',
  'log2',
  'reciprocal',
  'rsqrt',
  'sigmoid',
  'silu',
  'sin',
  'sinh',
  'sqrt',
  'tan',
  'tanh',
];
const NUMBERS = ['abs', 'ceil', 'floor', 'negative', 'relu', 'round', 'sign', 'square', 'trunc'];
const PREDICATES = ['isfinite', 'isinf', 'isnan', 'logical_not'];

describe('unary elementwise operators', () => {
  it.each([...FLOAT_ONLY, ...NUMBERS])('%s keeps a symbolic shape and the dtype', (op) => {
    expectInfer(op, [T([n, mul(n, 4), 3], 'float16')], {}, [n, mul(4, n), 3], 'float16');
  });

  it.each(FLOAT_ONLY)('%s rejects integer tensors', (op) => {
    expect(() => infer(op, [T([n], 'int32')])).toThrow(
      new RegExp(`K3006: ${op}: argument 'data' has dtype int32, expected a float type`),
    );
  });

  it.each(NUMBERS)('%s accepts integers and rejects bool', (op) => {
    expectInfer(op, [T([n, 2], 'int8')], {}, [n, 2], 'int8');
    expect(() => infer(op, [T([n], 'bool')])).toThrow(
      new RegExp(`${op}: argument 'data' has dtype bool, expected a number type`),
    );
  });

  it.each(PREDICATES)('%s produces bool', (op) => {
    expectInfer(op, [T([n, 5])], {}, [n, 5], 'bool');
  });

  it('bitwise_not takes integers only', () => {
    expectInfer('bitwise_not', [T([n], 'uint8')], {}, [n], 'uint8');
    expect(() => infer('bitwise_not', [T([n])])).toThrow(
      /bitwise_not: argument 'data' has dtype float32, expected an integer or bool type/,
    );
  });

  it('propagates unknown shapes and ranks', () => {
    expectRank(infer('exp', [T(3)]), 3);
    expectRank(infer('relu', [T(undefined)]), -1);
    expectRank(infer('isnan', [T(undefined)]), -1, 'bool');
  });

  it('keeps the device of the input', () => {
    const out = infer('exp', [{ ...T([2]), device: 'webgpu' }]);
    expect(out.kind === 'tensor' && out.device).toBe('webgpu');
  });
});

describe('elementwise operators with attributes', () => {
  it('astype changes the dtype only', () => {
    expectInfer('astype', [T([n, 3])], { dtype: 'f16' }, [n, 3], 'float16');
    expectInfer('astype', [T([n], 'bool')], { dtype: 'int32' }, [n], 'int32');
    expect(() => infer('astype', [T([n])], { dtype: 'half' })).toThrow(
      /astype: invalid attributes: attribute 'dtype': unknown dtype 'half'/,
    );
    expect(() => infer('astype', [T([n])], {})).toThrow(/astype: invalid attributes: attribute 'dtype'/);
  });

  it('clip takes numbers between min and max', () => {
    expectInfer('clip', [T([n, 3], 'int32')], { min: 0, max: 6 }, [n, 3], 'int32');
    expect(() => infer('clip', [T([n], 'bool')], { min: 0, max: 1 })).toThrow(/clip: argument 'data' has dtype bool/);
    expect(() => infer('clip', [T([n])], { min: 0 })).toThrow(/clip: invalid attributes: attribute 'max'/);
  });

  it.each([
    ['leaky_relu', { alpha: 0.2 }],
    ['elu', { alpha: 1.5 }],
    ['softplus', { beta: 2 }],
  ])('%s keeps the shape and needs floats', (op, attrs) => {
    expectInfer(op, [T([n, 7])], attrs, [n, 7]);
    expect(() => infer(op, [T([n], 'int64')], attrs)).toThrow(
      new RegExp(`${op}: argument 'data' has dtype int64, expected a float type`),
    );
  });

  it('leaky_relu fills its default slope', () => {
    expect(() => infer('leaky_relu', [T([2])], { slope: 0.1 })).toThrow(/unknown attribute 'slope'/);
  });

  it('prelu has one slope per channel', () => {
    expectInfer('prelu', [T([n, 3, 8]), T([3])], {}, [n, 3, 8]);
    expectInfer('prelu', [T([n, 8, 3]), T([3])], { axis: -1 }, [n, 8, 3]);
    expectInfer('prelu', [T([n, 3, 8]), T([1])], {}, [n, 3, 8]);
    expect(() => infer('prelu', [T([n, 3, 8]), T([4])])).toThrow(
      /prelu: argument 'alpha' of shape \(4,\) does not match the 3 channels of argument 'data' of shape \(n, 3, 8\)/,
    );
    expect(() => infer('prelu', [T([n, 3]), T([3])], { axis: 2 })).toThrow(
      /prelu: axis 2 is out of range for argument 'data' of rank 2/,
    );
    expect(() => infer('prelu', [T([n, 3]), T([3, 1])])).toThrow(
      /prelu: expected argument 'alpha' of shape \(3, 1\) to have rank 1, found rank 2/,
    );
    expect(() => infer('prelu', [T([n, 3]), T([3], 'float16')])).toThrow(
      /prelu: argument 'data' has dtype float32 but argument 'alpha' has dtype float16/,
    );
  });
});
