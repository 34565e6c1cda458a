/**
 * Before/Expected checks of PrimFunc transformations (schedule primitives,
 * lowering passes): a kernel in the text format,
 * the schedule applied, the result compared structurally with the expected
 * text, and (where the kernel has no cross-thread communication) both run by
 * the TIR interpreter on random inputs to show the transformation kept the
 * numbers.
 */
import { expect } from 'vitest';
import { type PrimVar, primVars } from '../../src/ir/prim/expr.ts';
import { findMismatch } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { verifyModule } from '../../src/ir/verify/index.ts';
import { irModule, type IRModule } from '../../src/ir/module.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import { opHooks } from '../../src/ops/index.ts';
import { Schedule } from '../../src/schedule/schedule.ts';
import { evalPrim, maxError, randomArray, runPrimFunc } from './tir-interpreter.ts';

/** The one prim_func of a module written by hand. */
export function kernel(text: string, file = 'before.kir'): PrimFunc {
  const m = parseModule(text, { ...opHooks, file });
  const funcs = [...m.functions.values()].filter((f) => f.kind === 'prim_func');
  if (funcs.length !== 1) throw new Error(`${file}: expected one prim_func, found ${funcs.length}`);
  return funcs[0] as PrimFunc;
}

export function schedule(text: string, name = 'k'): Schedule {
  return new Schedule(kernel(text), name);
}

function asModule(f: PrimFunc, name: string): IRModule {
  return irModule({ [name]: f });
}

/** `actual` equals the prim_func in `expected` and is well-formed; on failure the first mismatch and the actual text. */
export function expectFunc(actual: PrimFunc, expected: string): void {
  const e = parseModule(expected, { ...opHooks, file: 'expected.kir' });
  const name = [...e.functions.keys()][0]!;
  const a = asModule(actual, name);
  const mismatch = findMismatch(e, a);
  expect(
    mismatch,
    mismatch && `at ${mismatch.path}: expected ${mismatch.expected}, found ${mismatch.found}\n${printModule(a)}`,
  ).toBeUndefined();
  expect(verifyModule(a, { inferOp: opHooks.inferOp }).map((d) => d.message)).toEqual([]);
}

export function printFunc(f: PrimFunc, name = 'k'): string {
  return printModule(asModule(f, name));
}

/**
 * Runs `before` and `after` on the same random inputs (symbolic dimensions set
 * from `sizes`) and checks every buffer ends equal (within `tol`).
 */
export function expectSameResults(before: PrimFunc, after: PrimFunc, sizes: Record<string, number> = {}, tol = 1e-9): void {
  const args = before.params.map((p, i) => {
    if (p.kind !== 'buffer') {
      const v = sizes[p.name];
      if (v === undefined) throw new Error(`give a value for scalar parameter '${p.name}'`);
      return v;
    }
    const n = p.shape.reduce((acc, d) => {
      const vars = new Map<PrimVar, number>();
      for (const v of primVars(d)) {
        const size = sizes[v.name];
        if (size === undefined) throw new Error(`give a size for '${v.name}' (in a dimension of '${p.name}')`);
        vars.set(v, size);
      }
      return acc * evalPrim(d, vars);
    }, 1);
    return randomArray(n, 1000 + i);
  });
  const a = args.map((x) => (typeof x === 'number' ? x : x.slice()));
  const b = args.map((x) => (typeof x === 'number' ? x : x.slice()));
  runPrimFunc(before, a, { sizes });
  runPrimFunc(after, b, { sizes });
  a.forEach((x, i) => {
    if (typeof x === 'number') return;
    const err = maxError(b[i] as Float64Array, x);
    expect(err.abs, `buffer ${i} differs by ${err.abs}`).toBeLessThanOrEqual(tol);
  });
}
