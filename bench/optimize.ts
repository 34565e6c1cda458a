/**
 * What the optimising stages do to ResNet-50 (the model zoo's light_resnet50
 * architecture, seeded random weights, scripts/models/resnet50.ts): kernel
 * launches per inference before and after fold-constants + fuse, the planned
 * activation memory against the naive sum (plan-memory), and the latency
 * change on the CPU (js target) and on WebGPU when there is an adapter.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { buildArtifact } from '../src/codegen/artifact.ts';
import { evaluatePrimFunc } from '../src/codegen/js/evaluate.ts';
import { memorySource } from '../src/codegen/memory-source.ts';
import { importOnnx } from '../src/frontends/onnx/importer.ts';
import type { SeqExpr } from '../src/ir/graph/expr.ts';
import type { IRModule } from '../src/ir/module.ts';
import { targetSchema } from '../src/ir/target.ts';
import { foldModule } from '../src/passes/fold-constants.ts';
import { ALL_FUSION_RULES } from '../src/passes/fuse-ops.ts';
import { fuseModule } from '../src/passes/fuse-tir.ts';
import { legalizeModule } from '../src/passes/legalize.ts';
import { evaluateAt, planModule, type PlanStats } from '../src/passes/plan-memory.ts';
import { loadArtifact } from '../src/runtime/artifact.ts';
import { type Device, NDArray, tensor } from '../src/runtime/ndarray.ts';
import { webgpuDevice } from '../src/runtime/node.ts';
import { inlineIntermediates } from '../src/schedule/inline-intermediates.ts';
import { scheduleModule } from '../src/schedule/rules/default-rules.ts';
import { RESNET50_INPUT, resnet50Onnx } from '../scripts/models/resnet50.ts';

const JS = { name: 'js', kind: 'js' as const, device: 'cpu' as const, features: [], limits: {} };
const WEBGPU = targetSchema.parse(parseYaml(readFileSync(new URL('../targets/webgpu.yaml', import.meta.url), 'utf8')));

/** Kernel launches of one call of main: one per call_tir on the CPU, one per scheduled launch on WebGPU. */
export function launches(m: IRModule): number {
  let n = 0;
  const walk = (s: SeqExpr): void => {
    for (const blk of s.blocks) {
      for (const b of blk.bindings) {
        const v = b.value;
        if (v.kind === 'call_tir') {
          const k = m.functions.get(v.func);
          const rules = k?.kind === 'prim_func' ? k.attrs.schedule_rules : undefined;
          n += Array.isArray(rules) ? rules.length : 1;
        }
        if (v.kind === 'if') {
          walk(v.then);
          walk(v.else);
        }
      }
    }
  };
  const main = m.functions.get('main');
  if (main?.kind === 'func') walk(main.body);
  return n;
}

export interface Variants {
  readonly base: IRModule;
  readonly optimized: IRModule;
  readonly plan: PlanStats;
}

/** ResNet-50 legalized as imported, and folded + fused + planned. */
export function resnet50Variants(): Variants {
  const imported = importOnnx(resnet50Onnx(), { file: 'resnet50.onnx', dynamic: { N: { name: 'batch', upper: 16 } } });
  const base = legalizeModule(imported);
  const fused = fuseModule(legalizeModule(foldModule(imported, { evaluate: evaluatePrimFunc })), {
    maxDepth: 64,
    rules: ALL_FUSION_RULES,
    exclude: [],
    inline: inlineIntermediates,
  });
  const plan: PlanStats = { functions: {} };
  return { base, optimized: planModule(fused, plan), plan };
}

async function latency(m: IRModule, device: Device | undefined, batch: number, runs: number): Promise<number> {
  const built = await buildArtifact(
    device ? scheduleModule(m, WEBGPU) : m,
    device ? { name: 'b', target: WEBGPU } : { name: 'b', target: JS },
  );
  const mod = await loadArtifact(memorySource(built), device ? { device } : {});
  const n = batch * 3 * 224 * 224;
  const x = tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5),
    [batch, 3, 224, 224],
  );
  const input = device ? await device.upload(x) : x;
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const out = await mod.callNamed('main', { [RESNET50_INPUT]: input });
    for (const v of Object.values(out)) if (v instanceof NDArray) await v.toCpu();
    return performance.now() - t0;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

export async function benchOptimize(options: { latency: boolean }): Promise<void> {
  const { base, optimized, plan } = resnet50Variants();
  const mib = (b: number | undefined): string => (b === undefined ? '?' : `${(b / (1 << 20)).toFixed(1)} MiB`);
  console.log('\nResNet-50 (light_resnet50, random weights): fold-constants + fuse + plan-memory');
  console.log(`  kernel launches per inference (cpu):   ${launches(base)} -> ${launches(optimized)}`);
  const s = plan.functions.main?.[0];
  if (s) {
    for (const batch of [1, 16]) {
      const at = new Map([['batch', batch]]);
      const naive = evaluateAt(s.naive, at);
      const planned = evaluateAt(s.planned, at);
      const ratio = naive && planned !== undefined ? ` (${((100 * planned) / naive).toFixed(1)}% of naive)` : '';
      console.log(
        `  activation memory, batch ${String(batch).padEnd(2)}:         planned ${mib(planned)} vs naive ${mib(naive)}${ratio}, peak ${mib(evaluateAt(s.peak, at))}; ${s.tensors} tensors in ${s.tokens} tokens`,
      );
    }
  }
  let gpu: Device | string;
  try {
    gpu = await webgpuDevice();
  } catch (e) {
    gpu = e instanceof Error ? e.message : String(e);
  }
  if (typeof gpu !== 'string') {
    const b = scheduleModule(base, WEBGPU);
    const o = scheduleModule(optimized, WEBGPU);
    console.log(`  kernel launches per inference (webgpu): ${launches(b)} -> ${launches(o)}`);
  }
  if (!options.latency) {
    console.log('  latency: skipped (KILN_BENCH_RESNET50=0)');
    return;
  }
  const cpuBase = await latency(base, undefined, 1, 1);
  const cpuOpt = await latency(optimized, undefined, 1, 1);
  console.log(`  latency, cpu (js), batch 1:            ${cpuBase.toFixed(0)} ms -> ${cpuOpt.toFixed(0)} ms`);
  if (typeof gpu === 'string') console.log(`  latency, webgpu: skipped (${gpu})`);
  else {
    const gBase = await latency(base, gpu, 1, 1);
    const gOpt = await latency(optimized, gpu, 1, 1);
    console.log(`  latency, webgpu (${gpu.name}), batch 1: ${gBase.toFixed(0)} ms -> ${gOpt.toFixed(0)} ms`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchOptimize({ latency: process.env.KILN_BENCH_RESNET50 !== '0' });
