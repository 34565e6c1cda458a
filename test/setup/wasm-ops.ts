/** After each test, runs a sample of the operator calls it queued (test/helpers/wasm-ops.ts) on the wasm target. */
import { afterEach } from 'vitest';
import { flushWasmChecks } from '../helpers/wasm-ops.ts';

afterEach(async () => {
  await flushWasmChecks();
});
