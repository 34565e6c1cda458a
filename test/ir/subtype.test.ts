/**
 * Struct-info subtyping: `isBaseOf(base, derived)` says whether every value
 * that `derived` describes is also described by `base`: 'yes' when provable,
 * 'no' when provably not, 'unknown' when only a run-time check (match_cast)
 * could tell — a symbolic dimension against another, a coarser `derived`.
 */
import { describe, expect, test } from 'vitest';
import { Analyzer } from '../../src/ir/arith/analyzer.ts';
import { interval } from '../../src/ir/arith/interval.ts';
import { funcSI, OBJECT_SI, primSI, shapeSI, type StructInfo, tensorSI, tupleSI } from '../../src/ir/graph/struct-info.ts';
import { isBaseOf } from '../../src/ir/graph/subtype.ts';
import { add, floordiv, intImm, mul, primVar, sub } from '../../src/ir/prim/expr.ts';

const n = primVar('n');
const m = primVar('m');
const f32 = (shape: Parameters<typeof tensorSI>[0]): StructInfo => tensorSI(shape, 'float32');

describe('tensors', () => {
  test('dtype and rank', () => {
    expect(isBaseOf(f32([2, 3]), f32([2, 3]))).toBe('yes');
    expect(isBaseOf(f32([2, 3]), tensorSI([2, 3], 'float16'))).toBe('no');
    expect(isBaseOf(f32([2, 3]), f32([2, 3, 1]))).toBe('no');
    expect(isBaseOf(f32([2, 3]), f32([2, 4]))).toBe('no');
    // Coarser bases accept finer values...
    expect(isBaseOf(f32(2), f32([2, 3]))).toBe('yes');
    expect(isBaseOf(f32(undefined), f32([2, 3]))).toBe('yes');
    expect(isBaseOf(f32(undefined), f32(5))).toBe('yes');
    expect(isBaseOf(f32(2), f32(3))).toBe('no');
    expect(isBaseOf(tensorSI(undefined, 'float16'), f32(undefined))).toBe('no');
    // ...and finer bases cannot tell about coarser values.
    expect(isBaseOf(f32([2, 3]), f32(2))).toBe('unknown');
    expect(isBaseOf(f32([2, 3]), f32(undefined))).toBe('unknown');
    expect(isBaseOf(f32(2), f32(undefined))).toBe('unknown');
  });

  test('symbolic shapes: provably equal, provably different, unknown', () => {
    expect(isBaseOf(f32([n, 4]), f32([n, 4]))).toBe('yes');
    expect(isBaseOf(f32([mul(n, 4)]), f32([mul(4, n)]))).toBe('yes');
    expect(isBaseOf(f32([add(n, m)]), f32([add(m, n)]))).toBe('yes');
    expect(isBaseOf(f32([sub(add(n, 2), 1)]), f32([add(n, 1)]))).toBe('yes');
    expect(isBaseOf(f32([n]), f32([add(n, 1)]))).toBe('no');
    expect(isBaseOf(f32([mul(n, 2)]), f32([add(mul(n, 2), 1)]))).toBe('no');
    expect(isBaseOf(f32([n]), f32([m]))).toBe('unknown');
    expect(isBaseOf(f32([n]), f32([4]))).toBe('unknown');
    expect(isBaseOf(f32([mul(floordiv(n, 2), 2)]), f32([n]))).toBe('unknown');
    // One provably different dimension decides, whatever the others.
    expect(isBaseOf(f32([n, 4]), f32([m, 5]))).toBe('no');
  });

  test('what the analyzer knows about the variables is used', () => {
    const an = new Analyzer();
    // Without facts, n + 1 might be 0; with n >= 0 it cannot.
    expect(isBaseOf(f32([add(n, 1)]), f32([0]))).toBe('unknown');
    an.bindNonNegative(n);
    expect(isBaseOf(f32([add(n, 1)]), f32([0]), an)).toBe('no');
    an.bind(m, interval(8, 8));
    expect(isBaseOf(f32([m]), f32([8]), an)).toBe('yes');
  });

  test('devices', () => {
    expect(isBaseOf(tensorSI([2], 'float32', 'webgpu'), tensorSI([2], 'float32', 'webgpu'))).toBe('yes');
    expect(isBaseOf(tensorSI([2], 'float32', 'webgpu'), tensorSI([2], 'float32', 'cpu'))).toBe('no');
    expect(isBaseOf(f32([2]), tensorSI([2], 'float32', 'cpu'))).toBe('yes');
    // A value not pinned to a device might be on another one.
    expect(isBaseOf(tensorSI([2], 'float32', 'webgpu'), f32([2]))).toBe('unknown');
    expect(isBaseOf(tensorSI(undefined, 'float32', 'webgpu'), f32([2]))).toBe('unknown');
    expect(isBaseOf(tensorSI([3], 'float32', 'webgpu'), f32([2]))).toBe('no');
  });

  test('other kinds are not tensors', () => {
    expect(isBaseOf(f32([2]), shapeSI([2]))).toBe('no');
    expect(isBaseOf(f32(undefined), primSI('float32'))).toBe('no');
    expect(isBaseOf(f32(undefined), tupleSI([f32([2])]))).toBe('no');
  });
});

describe('shapes', () => {
  test('values and rank', () => {
    expect(isBaseOf(shapeSI([n, 4]), shapeSI([n, 4]))).toBe('yes');
    expect(isBaseOf(shapeSI([n, 4]), shapeSI([n, 5]))).toBe('no');
    expect(isBaseOf(shapeSI([n, 4]), shapeSI([m, 4]))).toBe('unknown');
    expect(isBaseOf(shapeSI(2), shapeSI([n, 4]))).toBe('yes');
    expect(isBaseOf(shapeSI(undefined), shapeSI(3))).toBe('yes');
    expect(isBaseOf(shapeSI(2), shapeSI(3))).toBe('no');
    expect(isBaseOf(shapeSI([n, 4]), shapeSI(2))).toBe('unknown');
    expect(isBaseOf(shapeSI([n, 4]), shapeSI(undefined))).toBe('unknown');
    expect(isBaseOf(shapeSI([n]), f32([n]))).toBe('no');
  });
});

describe('prim values', () => {
  test('dtype and known values', () => {
    expect(isBaseOf(primSI('int64'), primSI('int64', n))).toBe('yes');
    expect(isBaseOf(primSI('int64'), primSI('int32'))).toBe('no');
    expect(isBaseOf(primSI('int64', n), primSI('int64', n))).toBe('yes');
    expect(isBaseOf(primSI('int64', add(n, 1)), primSI('int64', add(1, n)))).toBe('yes');
    expect(isBaseOf(primSI('int64', n), primSI('int64', add(n, 1)))).toBe('no');
    expect(isBaseOf(primSI('int64', intImm(3)), primSI('int64', intImm(4)))).toBe('no');
    expect(isBaseOf(primSI('int64', n), primSI('int64', m))).toBe('unknown');
    expect(isBaseOf(primSI('int64', n), primSI('int64'))).toBe('unknown');
    expect(isBaseOf(primSI('int64', intImm(3, 'int64')), primSI('int32', intImm(3, 'int32')))).toBe('no');
  });
});

describe('tuples', () => {
  test('field by field', () => {
    expect(isBaseOf(tupleSI([f32([n]), primSI('bool')]), tupleSI([f32([n]), primSI('bool')]))).toBe('yes');
    expect(isBaseOf(tupleSI([f32(1), OBJECT_SI]), tupleSI([f32([n]), shapeSI([2])]))).toBe('yes');
    expect(isBaseOf(tupleSI([f32([n]), f32([n])]), tupleSI([f32([n]), f32([m])]))).toBe('unknown');
    expect(isBaseOf(tupleSI([f32([n]), f32([n])]), tupleSI([f32([m]), f32([add(n, 1)])]))).toBe('no');
    expect(isBaseOf(tupleSI([f32([n])]), tupleSI([f32([n]), f32([n])]))).toBe('no');
    expect(isBaseOf(tupleSI([]), tupleSI([]))).toBe('yes');
    expect(isBaseOf(tupleSI([f32([n])]), f32([n]))).toBe('no');
  });
});

describe('objects', () => {
  test('an object is the base of everything; a value known only as an object may be anything', () => {
    for (const s of [f32([n]), shapeSI(2), primSI('int64'), tupleSI([]), funcSI([], f32(1)), OBJECT_SI]) {
      expect(isBaseOf(OBJECT_SI, s)).toBe('yes');
    }
    for (const s of [f32([n]), shapeSI(2), primSI('int64'), tupleSI([]), funcSI([], f32(1))]) {
      expect(isBaseOf(s, OBJECT_SI)).toBe('unknown');
    }
  });
});

describe('functions', () => {
  test('results are covariant', () => {
    expect(isBaseOf(funcSI([f32(2)], f32(2)), funcSI([f32(2)], f32([n, 4])))).toBe('yes');
    expect(isBaseOf(funcSI([f32(2)], f32([n, 4])), funcSI([f32(2)], f32(2)))).toBe('unknown');
    expect(isBaseOf(funcSI([f32(2)], f32(2)), funcSI([f32(2)], tensorSI(2, 'float16')))).toBe('no');
  });

  test('parameters are contravariant', () => {
    // A function that takes any 2-d tensor can stand where one taking (n, 4) is expected...
    expect(isBaseOf(funcSI([f32([n, 4])], f32(2)), funcSI([f32(2)], f32(2)))).toBe('yes');
    // ...but not the other way around.
    expect(isBaseOf(funcSI([f32(2)], f32(2)), funcSI([f32([n, 4])], f32(2)))).toBe('unknown');
    expect(isBaseOf(funcSI([f32(2)], f32(2)), funcSI([tensorSI(2, 'float16')], f32(2)))).toBe('no');
    expect(isBaseOf(funcSI([f32(2)], f32(2)), funcSI([f32(2), f32(2)], f32(2)))).toBe('no');
    expect(isBaseOf(funcSI([OBJECT_SI], f32(2)), funcSI([f32(2)], f32(2)))).toBe('unknown');
  });

  test('opaque callables', () => {
    // A base that does not know the parameters only asks about the result.
    expect(isBaseOf(funcSI(undefined, f32(2)), funcSI([f32(2), shapeSI(1)], f32([n, 4])))).toBe('yes');
    expect(isBaseOf(funcSI(undefined, f32(2)), funcSI([f32(2)], f32(3)))).toBe('no');
    // A derived that does not know them might take anything.
    expect(isBaseOf(funcSI([f32(2)], f32(2)), funcSI(undefined, f32(2)))).toBe('unknown');
    expect(isBaseOf(funcSI([f32(2)], f32(2)), f32(2))).toBe('no');
  });
});
