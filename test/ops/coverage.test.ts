/**
 * Checks over the whole library: every registered operator is exercised by
 * name in some test file of this folder (an operator added without tests
 * fails here), and every operator rejects a wrong number or kind of
 * arguments with a message that names it and the argument.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OBJECT_SI } from '../../src/ir/graph/struct-info.ts';
import { allOps, getOp, inferOpCall } from '../../src/ops/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const sources = readdirSync(here)
  .filter((f) => f.endsWith('.test.ts') && f !== 'coverage.test.ts')
  .map((f) => readFileSync(join(here, f), 'utf8'))
  .join('\n');

describe('the operator library', () => {
  it.each(allOps())('%s is named in a test', (op) => {
    expect(sources.includes(`'${op}'`)).toBe(true);
  });

  it.each(allOps())('%s checks its arity and its argument kinds', (op) => {
    const def = getOp(op);
    const required = def.args.filter((a) => !a.optional).length;
    expect(() =>
      inferOpCall(
        op,
        Array.from({ length: def.args.length + 1 }, () => OBJECT_SI),
        {},
      ),
    ).toThrow(new RegExp(`K3002: ${op}: expected ${required}( to ${def.args.length})? arguments, found ${def.args.length + 1}`));
    const first = def.args[0]!;
    expect(() =>
      inferOpCall(
        op,
        Array.from({ length: required }, () => OBJECT_SI),
        {},
      ),
    ).toThrow(new RegExp(`K3003: ${op}: argument '${first.name}' must be .*, found an object`));
  });
});
