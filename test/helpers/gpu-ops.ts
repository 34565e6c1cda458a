/**
 * Every operator test also runs on WebGPU. runOp (run-op.ts) computes an
 * operator call with the JavaScript kernels; it also queues the same legalized
 * module here, and after each test the queue is built for the webgpu target
 * (default schedules, WGSL) and run on the shared device, and each output is
 * compared with the CPU's. Where there is no adapter the check is skipped
 * (KILN_REQUIRE_WEBGPU=1 makes that an error).
 *
 * The re-check is bounded per test, so the suite passes on a busy machine with
 * a software adapter (each distinct call is a WGSL compile on lavapipe, and a
 * sort test queues well over a hundred): a test that queues more than the
 * limit has an evenly spaced sample checked, its first and last call
 * included, the same sample every run. KILN_GPU_OPS sets the limit per test:
 * a number, `all` (every call: a quiet machine, a real GPU) or 0 (off);
 * the default is GPU_CHECKS_PER_TEST.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import type { DataType } from '../../src/ir/dtype.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { targetSchema, type TargetDescription } from '../../src/ir/target.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { type Device, NDArray, tensor } from '../../src/runtime/ndarray.ts';
import type { Value } from '../../src/runtime/values.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';

export const WEBGPU_TARGET: TargetDescription = targetSchema.parse(
  parseYaml(readFileSync(new URL('../../targets/webgpu.yaml', import.meta.url), 'utf8')),
);

/** The target for a GPU with on-chip workgroup memory: matmul tiles staged there. */
export const WEBGPU_DISCRETE_TARGET: TargetDescription = targetSchema.parse(
  parseYaml(readFileSync(new URL('../../targets/webgpu-discrete.yaml', import.meta.url), 'utf8')),
);

export interface RefLike {
  readonly shape: readonly number[];
  readonly dtype: DataType;
  readonly data: Float64Array;
}

export type RefValue = RefLike | readonly RefValue[] | number;

interface Pending {
  readonly what: string;
  readonly module: IRModule;
  readonly args: readonly RefValue[];
  readonly expected: readonly RefLike[];
}

/** Calls re-checked per test by default: a few seconds of compiling on lavapipe when the machine is busy. */
export const GPU_CHECKS_PER_TEST = 24;

/**
 * Wall-clock time a test's re-check may take (well under vitest's hookTimeout): past it, on a
 * machine so busy that even the sample is slow, the rest is skipped with a warning, not failed
 * (the first call of a test is always checked).
 */
export const GPU_CHECK_BUDGET_MS = 45_000;

function limitFromEnv(text: string | undefined): number {
  if (text === undefined || text === '') return GPU_CHECKS_PER_TEST;
  if (text === 'all') return Infinity;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`KILN_GPU_OPS=${text}: expected a number of calls per test, 'all' or 0`);
  return n;
}

const LIMIT = limitFromEnv(process.env.KILN_GPU_OPS);
const pending: Pending[] = [];

export function queueGpuCheck(what: string, module: IRModule, args: readonly RefValue[], expected: readonly RefLike[]): void {
  if (LIMIT > 0) pending.push({ what, module, args, expected });
}

/** At most `limit` of `batch`, evenly spaced with the first and the last, in order; all of it when it is no longer. */
export function sampleChecks<T>(batch: readonly T[], limit: number): T[] {
  if (batch.length <= limit) return [...batch];
  if (limit < 1) return [];
  if (limit === 1) return [batch[0]!];
  return Array.from({ length: limit }, (_, i) => batch[Math.round((i * (batch.length - 1)) / (limit - 1))]!);
}

/** float64 has no WebGPU type: calls whose kernels use it must fail to build with the code generator's message, not run. */
function usesFloat64(p: Pending): boolean {
  return /\bf64\b/.test(printModule(p.module));
}

/** Values a 32-bit GPU integer cannot hold are refused on upload; such cases stay CPU-only. */
function needs64BitInts(p: Pending): boolean {
  const big = (v: RefValue): boolean =>
    typeof v === 'number'
      ? false
      : Array.isArray(v)
        ? (v as RefValue[]).some(big)
        : (v as RefLike).data.some((x) => Math.abs(x) > 2 ** 31 - 1);
  return p.args.some(big) || p.expected.some(big);
}

export function toValue(v: RefValue): Value {
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return (v as RefValue[]).map(toValue);
  const t = v as RefLike;
  return tensor(t.data, t.shape, t.dtype);
}

function tolerance(dtype: DataType): { rtol: number; atol: number } {
  if (dtype === 'float16' || dtype === 'bfloat16') return { rtol: 1e-2, atol: 1e-2 };
  if (dtype.startsWith('float')) return { rtol: 2e-4, atol: 2e-5 };
  return { rtol: 0, atol: 0 };
}

/** Runs and checks what was queued (a sample of at most `limit` calls); throws on the first mismatch. */
export async function flushGpuChecks(
  device: () => Promise<Device | undefined>,
  limit = LIMIT,
  budgetMs = GPU_CHECK_BUDGET_MS,
): Promise<void> {
  const batch = sampleChecks(pending.splice(0), limit);
  if (batch.length === 0) return;
  const dev = await device();
  if (dev === undefined) return;
  const start = performance.now();
  for (const [done, p] of batch.entries()) {
    if (done > 0 && performance.now() - start > budgetMs) {
      process.stderr.write(
        `warning: ${batch.length - done} of ${batch.length} WebGPU re-checks skipped (from ${p.what}): ` +
          `this test's budget of ${budgetMs / 1000} s ran out, the machine is busy\n`,
      );
      return;
    }
    if (usesFloat64(p)) {
      let error: unknown;
      try {
        await buildArtifact(scheduleModule(p.module, WEBGPU_TARGET), { name: 'op', target: WEBGPU_TARGET });
      } catch (e) {
        error = e;
      }
      if (!(error instanceof Error) || !/64-bit float/.test(error.message)) {
        throw new Error(`${p.what}: a float64 call should fail to build for WebGPU, got ${String(error)}`);
      }
      continue;
    }
    if (needs64BitInts(p)) continue;
    const artifact = await buildArtifact(scheduleModule(p.module, WEBGPU_TARGET), { name: 'op', target: WEBGPU_TARGET });
    const mod = await loadArtifact(memorySource(artifact), { device: dev });
    const result = await mod.call('main', ...p.args.map(toValue));
    await expectOutputs(p.what, 'WebGPU', p.expected, result);
  }
}

/** Each output of `result` equals the CPU's within the dtype's tolerance; throws naming the first element that does not. */
export async function expectOutputs(what: string, where: string, expected: readonly RefLike[], result: Value): Promise<void> {
  const outs = Array.isArray(result) ? (result as Value[]) : [result];
  for (const [i, e] of expected.entries()) {
    const o = outs[i];
    if (!(o instanceof NDArray)) throw new Error(`${what}: output ${i} is not a tensor on ${where}`);
    const got = (await o.toCpu()).toNumbers();
    const { rtol, atol } = tolerance(e.dtype);
    for (let k = 0; k < got.length; k++) {
      const a = got[k]!;
      const x = e.data[k]!;
      if (Object.is(a, x) || a === x || (Number.isNaN(a) && Number.isNaN(x))) continue;
      if (Math.abs(a - x) <= atol + rtol * Math.abs(x)) continue;
      throw new Error(
        `${what} on ${where}: output ${i} (${e.dtype}[${e.shape.join(', ')}]) element ${k} is ${a}, the CPU gives ${x}`,
      );
    }
  }
}
