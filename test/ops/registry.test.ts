import { describe, expect, it } from 'vitest';
import { Analyzer } from '../../src/ir/arith/analyzer.ts';
import { interval } from '../../src/ir/arith/interval.ts';
import { KilnError } from '../../src/support/diagnostics.ts';
import { add, floordiv, mul, primVar, sub } from '../../src/ir/prim/expr.ts';
import { OBJECT_SI } from '../../src/ir/graph/struct-info.ts';
import { allOps, attrNames, fmtExpr, fmtShape, getOp, hasOp, inferOpCall, normalizeAttrs } from '../../src/ops/index.ts';
import { expectRank, expectTensor, infer, n, P, S, T, Tup } from './helpers.ts';

const REQUIRED = [
  'abs',
  'negative',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'erf',
  'floor',
  'ceil',
  'round',
  'sign',
  'relu',
  'gelu',
  'gelu_tanh',
  'silu',
  'logical_not',
  'isnan',
  'reciprocal',
  'add',
  'subtract',
  'multiply',
  'divide',
  'floor_divide',
  'power',
  'maximum',
  'minimum',
  'floor_mod',
  'logical_and',
  'logical_or',
  'logical_xor',
  'equal',
  'not_equal',
  'less',
  'less_equal',
  'greater',
  'greater_equal',
  'where',
  'astype',
  'clip',
  'leaky_relu',
  'matmul',
  'conv2d',
  'max_pool2d',
  'avg_pool2d',
  'adaptive_avg_pool2d',
  'sum',
  'mean',
  'max',
  'min',
  'prod',
  'argmax',
  'argmin',
  'variance',
  'softmax',
  'log_softmax',
  'layer_norm',
  'group_norm',
  'rms_norm',
  'batch_norm',
  'reshape',
  'permute_dims',
  'expand_dims',
  'squeeze',
  'flatten',
  'concat',
  'split',
  'strided_slice',
  'take',
  'broadcast_to',
  'full',
  'zeros',
  'ones',
  'full_like',
  'zeros_like',
  'ones_like',
  'arange',
  'tril',
  'triu',
  'pad',
  'resize2d',
];

describe('registry', () => {
  it('registers every required operator, listed sorted', () => {
    const ops = allOps();
    expect(ops).toEqual([...ops].sort());
    for (const op of REQUIRED) expect(hasOp(op), op).toBe(true);
  });

  it('names an unknown operator with the nearest names', () => {
    expect(() => getOp('softmx')).toThrow(/K3001: unknown operator 'softmx'[\s\S]*did you mean 'softmax'/);
    expect(() => inferOpCall('matmull', [], {})).toThrow(/unknown operator 'matmull'[\s\S]*'matmul'/);
  });

  it('checks the number of arguments', () => {
    expect(() => infer('add', [T([2])])).toThrow(/K3002: add: expected 2 arguments, found 1/);
    expect(() => infer('strided_slice', [T([2])])).toThrow(/strided_slice: expected 3 to 4 arguments, found 1/);
    expect(() => infer('exp', [T([2]), T([2])])).toThrow(/exp: expected 1 arguments, found 2/);
  });

  it('checks the kinds of the arguments, naming the argument', () => {
    expect(() => infer('exp', [S([2, 3])])).toThrow(/K3003: exp: argument 'data' must be a tensor, found a shape \(2, 3\)/);
    expect(() => infer('reshape', [T([6]), T([2, 3])])).toThrow(
      /reshape: argument 'shape' must be a shape, found a tensor of shape \(2, 3\)/,
    );
    expect(() => infer('concat', [Tup(T([2]), S([2]))])).toThrow(
      /concat: argument 'tensors' must be a tuple of tensors, found a tuple whose field 1 is a shape/,
    );
    expect(() => infer('concat', [T([2])])).toThrow(
      /argument 'tensors' must be a tuple of tensors, found a tensor of shape \(2,\)/,
    );
    expect(() => infer('arange', [P(0), T([]), P(1)])).toThrow(
      /arange: argument 'end' must be a prim value, found a tensor of shape \(\)/,
    );
    expect(() => infer('full', [S([2]), T([3])])).toThrow(
      /full: argument 'fill_value' must be a prim value or a 0-d tensor, found a tensor of shape \(3,\)/,
    );
    expect(() => infer('exp', [OBJECT_SI])).toThrow(/found an object/);
  });

  it('throws KilnErrors with catalog codes', () => {
    try {
      infer('add', [T([3]), T([4])]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).code).toBe('K3005');
    }
    try {
      infer('add', [T([3]), T([3], 'int32')]);
      expect.unreachable();
    } catch (e) {
      expect((e as KilnError).code).toBe('K3006');
    }
  });

  it('binds shape variables non-negative without overriding the caller', () => {
    const an = new Analyzer();
    const k = primVar('k');
    an.bind(k, interval(1, 8));
    inferOpCall('relu', [T([n, k])], {}, an);
    expect(an.constIntBound(n).min).toBe(0);
    expect(an.constIntBound(k)).toEqual({ min: 1, max: 8 });
  });

  it('simplifies result shapes with the analyzer', () => {
    const out = infer('reshape', [T([n, 4]), S([-1, 2])]);
    expectTensor(out, [mul(n, 2), 2], 'float32');
  });

  it('casts int32 dims so that dims of different sources combine', () => {
    const k = primVar('k', 'int32');
    expectRank(infer('add', [T([k]), T([n])]), 1);
  });
});

describe('normalizeAttrs', () => {
  it('fills defaults', () => {
    expect(normalizeAttrs('softmax', {})).toEqual({ axis: -1 });
    expect(normalizeAttrs('sum', {})).toEqual({ axis: null, keepdims: false });
    expect(normalizeAttrs('conv2d', {})).toEqual({
      strides: [1, 1],
      padding: [0, 0, 0, 0],
      dilation: [1, 1],
      groups: 1,
      data_layout: 'NCHW',
      kernel_layout: 'OIHW',
      out_dtype: null,
    });
  });

  it('canonicalizes spellings so that equal calls have equal attributes', () => {
    expect(normalizeAttrs('conv2d', { padding: 1, strides: 2 })).toMatchObject({ padding: [1, 1, 1, 1], strides: [2, 2] });
    expect(normalizeAttrs('conv2d', { padding: [1, 2] })).toMatchObject({ padding: [1, 2, 1, 2] });
    expect(normalizeAttrs('conv2d', { padding: [1, 2, 3, 4] })).toMatchObject({ padding: [1, 2, 3, 4] });
    expect(normalizeAttrs('sum', { axis: 1 })).toEqual({ axis: [1], keepdims: false });
    expect(normalizeAttrs('astype', { dtype: 'f16' })).toEqual({ dtype: 'float16' });
    expect(normalizeAttrs('matmul', { out_dtype: 'i32' })).toEqual({ out_dtype: 'int32' });
  });

  it('is idempotent for every operator whose attributes all have defaults', () => {
    for (const op of allOps()) {
      let first;
      try {
        first = normalizeAttrs(op, {});
      } catch {
        continue; // an operator with a required attribute (clip, split, ...)
      }
      expect(normalizeAttrs(op, first), op).toEqual(first);
      expect(Object.keys(first).sort(), op).toEqual(attrNames(getOp(op)));
    }
  });

  it('rejects unknown attributes with a did-you-mean note', () => {
    expect(() => normalizeAttrs('softmax', { axes: 1 })).toThrow(
      /K3004: softmax: invalid attributes: unknown attribute 'axes' \(it takes 'axis'\)[\s\S]*did you mean 'axis'\?/,
    );
    expect(() => normalizeAttrs('conv2d', { stride: 2 })).toThrow(
      /conv2d: invalid attributes: unknown attribute 'stride'[\s\S]*did you mean 'strides'/,
    );
    expect(() => normalizeAttrs('relu', { alpha: 1 })).toThrow(
      /relu: invalid attributes: unknown attribute 'alpha' \(it takes no attributes\)/,
    );
  });

  it('reports invalid values naming the operator and the attribute', () => {
    expect(() => normalizeAttrs('softmax', { axis: 'x' })).toThrow(
      /softmax: invalid attributes: attribute 'axis': Invalid input: expected number/,
    );
    expect(() => normalizeAttrs('softmax', { axis: 1.5 })).toThrow(/attribute 'axis'/);
    expect(() => normalizeAttrs('astype', { dtype: 'float33' })).toThrow(
      /astype: invalid attributes: attribute 'dtype': unknown dtype 'float33'/,
    );
    expect(() => normalizeAttrs('conv2d', { padding: [1, 2, 3] })).toThrow(
      /conv2d: invalid attributes: attribute 'padding': expected a non-negative integer or a list of 1, 2 or 4/,
    );
    expect(() => normalizeAttrs('conv2d', { strides: 0 })).toThrow(/attribute 'strides': expected an integer >= 1/);
    expect(() => normalizeAttrs('clip', { min: 1 })).toThrow(/clip: invalid attributes: attribute 'max'/);
    expect(() => normalizeAttrs('clip', { min: 2, max: 1 })).toThrow(/clip: invalid attributes: .*min must not exceed max/);
    expect(() => normalizeAttrs('nope', {})).toThrow(/unknown operator 'nope'/);
  });

  it('validates attributes during inference too', () => {
    expect(() => infer('softmax', [T([2, 3])], { axis: 'last' })).toThrow(/softmax: invalid attributes/);
  });
});

describe('the shape printer', () => {
  it('prints dims as the text format writes them', () => {
    const h = primVar('h');
    expect(fmtExpr(mul(n, 4))).toBe('n * 4');
    expect(fmtExpr(add(floordiv(h, 2), 1))).toBe('h // 2 + 1');
    expect(fmtExpr(mul(add(n, 1), 2))).toBe('(n + 1) * 2');
    expect(fmtExpr(sub(n, add(h, 1)))).toBe('n - (h + 1)');
    expect(fmtShape(T([n, 3]))).toBe('(n, 3)');
    expect(fmtShape(T([4]))).toBe('(4,)');
    expect(fmtShape(T([]))).toBe('()');
    expect(fmtShape(T(2))).toBe('(?, ?)');
    expect(fmtShape(T(undefined))).toBe('(...)');
  });
});
