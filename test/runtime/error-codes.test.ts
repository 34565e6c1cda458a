/** The runtime's error codes (src/runtime/errors.ts) are the ones the catalog lists, and no compiler code reuses them. */
import { expect, test } from 'vitest';
import { CALL_CODES, LOAD_CODES } from '../../src/runtime/errors.ts';
import { M, RUNTIME_CODES } from '../../src/support/messages.ts';

test('every runtime code is in the catalog, and the catalog lists no other runtime code', () => {
  const runtime = [...Object.values(LOAD_CODES), ...Object.values(CALL_CODES)].sort();
  expect(new Set(runtime).size).toBe(runtime.length);
  expect(Object.keys(RUNTIME_CODES).sort()).toEqual(runtime);
  const compiler = new Set(Object.values(M).map((m) => m.code));
  expect(runtime.filter((c) => compiler.has(c))).toEqual([]);
});
