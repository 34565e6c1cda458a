/**
 * Every operator test also runs on the wasm target: runOp (run-op.ts) queues
 * each operator call's legalized module here too, and after each test a
 * sample of them (the first and last call included, as for WebGPU) is built
 * for the wasm target (default CPU schedules, WebAssembly SIMD) and run, on
 * one thread and on two, and compared with the reference. KILN_WASM_OPS sets
 * the calls per test: a number, `all`, or 0 (off).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { targetSchema, type TargetDescription } from '../../src/ir/target.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import '../../src/runtime/node.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { expectOutputs, type RefLike, type RefValue, sampleChecks, toValue } from './gpu-ops.ts';

export const WASM_TARGET: TargetDescription = targetSchema.parse(
  parseYaml(readFileSync(new URL('../../targets/wasm.yaml', import.meta.url), 'utf8')),
);

export const WASM_CHECKS_PER_TEST = 12;

interface Pending {
  readonly what: string;
  readonly module: IRModule;
  readonly args: readonly RefValue[];
  readonly expected: readonly RefLike[];
}

function limitFromEnv(text: string | undefined): number {
  if (text === undefined || text === '') return WASM_CHECKS_PER_TEST;
  if (text === 'all') return Infinity;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`KILN_WASM_OPS=${text}: expected a number of calls per test, 'all' or 0`);
  return n;
}

const LIMIT = limitFromEnv(process.env.KILN_WASM_OPS);
const pending: Pending[] = [];

export function queueWasmCheck(what: string, module: IRModule, args: readonly RefValue[], expected: readonly RefLike[]): void {
  if (LIMIT > 0) pending.push({ what, module, args, expected });
}

/** Builds, runs and checks a sample of what was queued; throws on the first mismatch. */
export async function flushWasmChecks(limit = LIMIT): Promise<void> {
  const batch = sampleChecks(pending.splice(0), limit);
  for (const [i, p] of batch.entries()) {
    const artifact = await buildArtifact(scheduleModule(p.module, WASM_TARGET), { name: 'op', target: WASM_TARGET });
    // Alternate one and two threads: both paths of parallel launches are checked.
    const mod = await loadArtifact(memorySource(artifact), { threads: 1 + (i % 2) });
    const result = await mod.call('main', ...p.args.map(toValue));
    await expectOutputs(p.what, `wasm (${mod.device.name})`, p.expected, result);
  }
}
