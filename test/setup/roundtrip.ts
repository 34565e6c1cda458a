/**
 * Every module a test file builds must print and parse back to a
 * structurally equal module, print identically again, and survive
 * serialization: checked after each test file for all of them.
 */
import { afterAll, expect } from 'vitest';
import { type IRModule, onModuleCreated } from '../../src/ir/module.ts';
import { deserializeModule, serializeModule } from '../../src/ir/serialize.ts';
import { findMismatch } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { isRoundTripSkipped } from '../helpers/roundtrip.ts';

const built: IRModule[] = [];
onModuleCreated((m) => built.push(m));

afterAll(() => {
  onModuleCreated(undefined);
  const failures: string[] = [];
  for (const m of built) {
    if (isRoundTripSkipped(m)) continue;
    let text = '';
    try {
      text = printModule(m);
      const back = parseModule(text, { file: 'roundtrip.kir' });
      const mismatch = findMismatch(m, back);
      if (mismatch)
        failures.push(
          `print/parse changed the module at ${mismatch.path}: ${mismatch.expected} became ${mismatch.found}\n${text}`,
        );
      else if (printModule(back) !== text) failures.push(`printing is not deterministic:\n${text}\n---\n${printModule(back)}`);
      const ser = serializeModule(m);
      const blobs = new Map(ser.blobs.map((b) => [b.hash, b]));
      const restored = deserializeModule(ser.text, (h) => blobs.get(h)!);
      const serMismatch = findMismatch(m, restored);
      if (serMismatch) failures.push(`serialization changed the module at ${serMismatch.path}`);
    } catch (e) {
      failures.push(`${e instanceof Error ? e.message : String(e)}\n${text}`);
    }
  }
  built.length = 0;
  expect(failures, `${failures.length} module(s) did not round-trip`).toEqual([]);
});
