/** Before/Expected checks for passes: modules in the text format, compared structurally. */
import { expect } from 'vitest';
import type { IRModule } from '../../src/ir/module.ts';
import { findMismatch } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { verifyModule } from '../../src/ir/verify/index.ts';
import { opHooks } from '../../src/ops/index.ts';
import type { Pass, PassContext } from '../../src/passes/index.ts';

/** A module written by hand: operator calls need no annotations. */
export function parse(text: string, file = 'before.kir'): IRModule {
  return parseModule(text, { ...opHooks, file });
}

/** `actual` equals the module `expected` and is well-formed; on failure, the first mismatch and the actual module. */
export function expectModule(actual: IRModule, expected: string): void {
  const e = parse(expected, 'expected.kir');
  const mismatch = findMismatch(e, actual);
  expect(
    mismatch,
    mismatch && `at ${mismatch.path}: expected ${mismatch.expected}, found ${mismatch.found}\n${printModule(actual)}`,
  ).toBeUndefined();
  expect(verifyModule(actual, { inferOp: opHooks.inferOp }).map((d) => d.message)).toEqual([]);
}

/** Runs `pass` on `before` and checks the result against `expected`; returns the result. */
export function expectPass(pass: Pass, before: string, expected: string, ctx: PassContext = {}): IRModule {
  const actual = pass.run(parse(before), ctx);
  expectModule(actual, expected);
  return actual;
}

/** Runs `pass` on `before` and checks that it hands back the very same module. */
export function expectUnchanged(pass: Pass, before: string, ctx: PassContext = {}): void {
  const m = parse(before);
  const out = pass.run(m, ctx);
  expect(out === m, out === m ? '' : `the pass changed the module:\n${printModule(out)}`).toBe(true);
}
