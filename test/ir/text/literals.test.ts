/**
 * Property test of literal typing in the text format: random prim
 * expressions over every dtype print and parse back to structurally equal
 * expressions, whatever mix of literals, casts and operators they hold.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type DataType, isFloat, isInt } from '../../../src/ir/dtype.ts';
import * as P from '../../../src/ir/prim/expr.ts';
import { primStructuralEqual } from '../../../src/ir/structural.ts';
import { buffer } from '../../../src/ir/tir/buffer.ts';
import { parsePrimExpr } from '../../../src/ir/text/parser.ts';
import { printPrimExpr } from '../../../src/ir/text/printer.ts';
import { NameTable } from '../../../src/ir/text/names.ts';

const NUMERIC: DataType[] = ['int8', 'int32', 'int64', 'uint8', 'uint32', 'float16', 'bfloat16', 'float32', 'float64'];

function exprOf(dtype: DataType, vars: Map<DataType, P.PrimVar>): fc.Arbitrary<P.PrimExpr> {
  const leaf: fc.Arbitrary<P.PrimExpr> = isFloat(dtype)
    ? fc.oneof(
        fc.constant(vars.get(dtype)!),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => P.floatImm(v, dtype)),
        fc.constantFrom(Infinity, -Infinity, NaN, 0, -0, 0.5).map((v) => P.floatImm(v, dtype)),
      )
    : fc.oneof(
        fc.constant(vars.get(dtype)!),
        fc.integer({ min: isInt(dtype) && dtype.startsWith('u') ? 0 : -100, max: 100 }).map((v) => P.intImm(v, dtype)),
      );
  const { tree } = fc.letrec<{ tree: P.PrimExpr }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc
        .tuple(fc.constantFrom('add', 'sub', 'mul', 'min', 'max') as fc.Arbitrary<P.BinaryOp>, tie('tree'), tie('tree'))
        .map(([op, a, b]) => P.binary(op, a, b)),
      fc.tuple(tie('tree'), tie('tree'), tie('tree'), tie('tree')).map(([a, b, t, f]) => P.select(P.lt(a, b), t, f)),
      fc.constantFrom(...NUMERIC).chain((from) => exprOf1(from, vars).map((x) => P.cast(dtype, x))),
      isFloat(dtype)
        ? fc.tuple(tie('tree'), tie('tree')).map(([a, b]) => P.binary('div', a, b))
        : fc.tuple(tie('tree'), tie('tree')).map(([a, b]) => P.floordiv(a, b)),
      isFloat(dtype) ? tie('tree').map((a) => P.call('exp', [a])) : tie('tree').map((a) => P.floormod(a, 7)),
    ),
  }));
  return tree;
}

/** A shallow expression of another type, for casts. */
function exprOf1(dtype: DataType, vars: Map<DataType, P.PrimVar>): fc.Arbitrary<P.PrimExpr> {
  return isFloat(dtype)
    ? fc.oneof(
        fc.constant(vars.get(dtype)!),
        fc.constant(P.floatImm(1.5, dtype)),
        fc.constant(P.add(vars.get(dtype)!, P.floatImm(2, dtype))),
      )
    : fc.oneof(
        fc.constant(vars.get(dtype)!),
        fc.constant(P.intImm(3, dtype)),
        fc.constant(P.add(P.intImm(1, dtype), P.intImm(2, dtype))),
      );
}

describe('literal typing in the text format', () => {
  const vars = new Map(NUMERIC.map((t) => [t, P.primVar(`x_${t}`, t)] as const));
  const names = new Map<string, P.PrimVar>([...vars.values()].map((v) => [v.name, v]));

  for (const dtype of NUMERIC) {
    test(`random ${dtype} expressions print and parse back`, () => {
      fc.assert(
        fc.property(exprOf(dtype, vars), (e) => {
          const text = printPrimExpr(e, new NameTable());
          const back = parsePrimExpr(text, names);
          if (!primStructuralEqual(e, back)) throw new Error(`${text} parsed as ${printPrimExpr(back)}`);
        }),
        { numRuns: 150 },
      );
    });
  }

  test('literals carry a suffix only where the parser would type them otherwise', () => {
    const h = P.primVar('h', 'float16');
    const i = P.primVar('i', 'int32');
    const print = (e: P.PrimExpr): string => printPrimExpr(e);
    expect(print(P.mul(h, 2))).toBe('h * 2.0');
    expect(print(P.add(i, 1))).toBe('i + 1');
    expect(print(P.add(P.floatImm(1, 'float16'), P.floatImm(2, 'float16')))).toBe('1.0f16 + 2.0f16');
    expect(print(P.add(P.intImm(1), P.intImm(2)))).toBe('1 + 2');
    expect(print(P.intImm(3, 'int32'))).toBe('3i32');
    expect(print(P.floatImm(0.1, 'float32'))).toBe('0.1');
    expect(print(P.floatImm(-Infinity, 'float16'))).toBe('-inff16');
    expect(print(P.cast('float16', P.floatImm(1, 'float32')))).toBe('f16(1.0)');
    expect(print(P.lt(P.intImm(1, 'int32'), P.intImm(2, 'int32')))).toBe('1i32 < 2i32');
  });

  test('loads type their indices as i64 unless suffixed', () => {
    const A = buffer('A', [4, 4], 'float32');
    const e = P.load(A, [P.intImm(1, 'int32'), 2]);
    const text = printPrimExpr(e);
    expect(text).toBe('A[1i32, 2]');
    expect(primStructuralEqual(parsePrimExpr(text, new Map([['A', A]])), e)).toBe(true);
  });
});
