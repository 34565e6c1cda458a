/**
 * Model benchmarks: the vision model, a 1024x1024x1024 MatMul, a decode-style
 * GEMV, a ResNet-stage 3x3 convolution, a depthwise and a grouped (ResNeXt-style)
 * 3x3 convolution, a 3-layer MLP, a BERT-base encoder
 * layer and ResNet-50 — built through the vision pipeline's stages and run by
 * Kiln's CPU target (`wasm`: default CPU schedules, WebAssembly SIMD) on 1 and 2 threads, by onnxruntime-web's wasm
 * backend on the same threads and by onnxruntime-node, measured side by side
 * in one run; each row reports median latencies and Kiln's ratio to each
 * reference (lower is better), and GFLOPS where the work is known. The
 * runtimes of a row are timed in interleaved rounds (bench/interleave.ts) beside
 * a probe of the core's speed at the time (bench/peak.ts).
 * Kiln runs from the built package (bench/require-built.ts says why).
 * onnxruntime-web runs in a child process per thread count, since its wasm
 * thread pool is fixed when it first loads. Then the same models on WebGPU
 * when there is an adapter.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './require-built.ts';
import * as ort from 'onnxruntime-node';
import { buildArtifact } from '../dist/codegen/artifact.js';
import { evaluatePrimFunc } from '../dist/codegen/js/evaluate.js';
import { memorySource } from '../dist/codegen/memory-source.js';
import { importOnnx } from '../dist/frontends/onnx/importer.js';
import { loadArtifact } from '../dist/runtime/artifact.js';
import { type Device, NDArray, tensor } from '../dist/runtime/ndarray.js';
import { webgpuDevice } from '../dist/runtime/node.js';
import { isWebGpuDevice } from '../dist/runtime/webgpu/device.js';
import { targetSchema } from '../dist/ir/target.js';
import { planModule } from '../dist/passes/plan-memory.js';
import { optimizeModule } from '../dist/stages/optimize.js';
import { scheduleModule } from '../dist/schedule/rules/default-rules.js';
import { parse as parseYaml } from 'yaml';
import { encodeModel, type NodeSpec, type TensorSpec } from '../scripts/onnx-writer.ts';
import { encoderLayerOnnx } from '../scripts/models/encoder-layer.ts';
import { RESNET50_INPUT, resnet50Onnx } from '../scripts/models/resnet50.ts';
import { inProcess, timeInterleaved } from './interleave.ts';
import { ortWebContender } from './ort-web.ts';
import { PEAK_PROBE_FLOPS, peakProbe } from './peak.ts';
import { timeSteady } from './util.ts';
import { timeReferenceMatmul } from './wgsl-matmul-reference.ts';

interface Case {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly inputs: readonly { name: string; shape: number[] }[];
  readonly repeats: number;
  /** Floating-point operations of one run (multiply and add counted apart), where simple to state. */
  readonly flops?: number;
  /** On WebGPU, also time the hand-written WGSL matmul (bench/wgsl-matmul-reference.ts) of this size beside Kiln's. */
  readonly gpuReference?: number;
}

function seeded(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 4294967296) * 2 - 1) * scale;
  });
}

/** `a` (m x n) times `b` (n x n): an input, or a constant weight (as in an LLM's decode step). */
function matmulModel(n: number, m = n, constantB = false): Uint8Array {
  return encodeModel({
    opset: 17,
    producer: 'kiln bench',
    graphName: 'matmul',
    inputs: [{ name: 'a', elemType: 1, dims: [m, n] }, ...(constantB ? [] : [{ name: 'b', elemType: 1, dims: [n, n] }])],
    outputs: [{ name: 'c', elemType: 1, dims: [m, n] }],
    initializers: constantB ? [{ name: 'b', dims: [n, n], data: seeded(n * n, 5, 1 / Math.sqrt(n)) }] : [],
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
  });
}

/**
 * One 3x3 convolution, padding 1, `channels` in and out over size x size: dense as in a ResNet
 * stage, or depthwise (`groups` = channels, one filter per channel) as in a MobileNet block.
 */
function convModel(channels: number, size: number, groups = 1): Uint8Array {
  const perGroup = channels / groups;
  return encodeModel({
    opset: 17,
    producer: 'kiln bench',
    graphName: groups === 1 ? 'conv' : 'grouped_conv',
    inputs: [{ name: 'x', elemType: 1, dims: [1, channels, size, size] }],
    outputs: [{ name: 'y', elemType: 1, dims: [1, channels, size, size] }],
    initializers: [
      { name: 'w', dims: [channels, perGroup, 3, 3], data: seeded(channels * perGroup * 9, 3, Math.sqrt(2 / (9 * perGroup))) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w'],
        outputs: ['y'],
        attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], group: groups },
      },
    ],
  });
}

function mlpModel(widths: readonly number[]): Uint8Array {
  const initializers: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  let x = 'x';
  for (let l = 0; l + 1 < widths.length; l++) {
    const [i, o] = [widths[l]!, widths[l + 1]!];
    initializers.push({ name: `w${l}`, dims: [i, o], data: seeded(i * o, l + 1, Math.sqrt(6 / i)) });
    initializers.push({ name: `b${l}`, dims: [o], data: seeded(o, l + 100, 0.1) });
    nodes.push({ op: 'MatMul', inputs: [x, `w${l}`], outputs: [`mm${l}`] });
    nodes.push({ op: 'Add', inputs: [`mm${l}`, `b${l}`], outputs: [`h${l}`] });
    x = `h${l}`;
    if (l + 2 < widths.length) {
      nodes.push({ op: 'Relu', inputs: [x], outputs: [`r${l}`] });
      x = `r${l}`;
    }
  }
  return encodeModel({
    opset: 17,
    producer: 'kiln bench',
    graphName: 'mlp',
    inputs: [{ name: 'x', elemType: 1, dims: ['N', widths[0]!] }],
    outputs: [{ name: x, elemType: 1, dims: ['N', widths[widths.length - 1]!] }],
    initializers,
    nodes,
  });
}

function cases(): Case[] {
  const vision = new Uint8Array(readFileSync(new URL('../examples/models/tiny-resnet.onnx', import.meta.url)));
  return [
    { name: 'vision (tiny-resnet, batch 1)', bytes: vision, inputs: [{ name: 'input', shape: [1, 3, 32, 32] }], repeats: 5 },
    { name: 'vision (tiny-resnet, batch 4)', bytes: vision, inputs: [{ name: 'input', shape: [4, 3, 32, 32] }], repeats: 3 },
    {
      name: 'matmul 1024x1024x1024',
      bytes: matmulModel(1024),
      gpuReference: 1024,
      inputs: [
        { name: 'a', shape: [1024, 1024] },
        { name: 'b', shape: [1024, 1024] },
      ],
      repeats: 3,
      flops: 2 * 1024 ** 3,
    },
    {
      // Decode-style: the 64 MB weight a constant, read once per call (as an input, copying it into each
      // runtime's memory per call took most of the time).
      name: 'gemv 1x4096 . 4096x4096 (weight)',
      bytes: matmulModel(4096, 1, true),
      inputs: [{ name: 'a', shape: [1, 4096] }],
      repeats: 5,
      flops: 2 * 4096 * 4096,
    },
    {
      name: 'conv 3x3 64->64 over 56x56',
      bytes: convModel(64, 56),
      inputs: [{ name: 'x', shape: [1, 64, 56, 56] }],
      repeats: 3,
      flops: 2 * 64 * 64 * 9 * 56 * 56,
    },
    {
      name: 'depthwise conv 3x3, 144 channels over 56x56',
      bytes: convModel(144, 56, 144),
      inputs: [{ name: 'x', shape: [1, 144, 56, 56] }],
      repeats: 5,
      flops: 2 * 144 * 9 * 56 * 56,
    },
    {
      name: 'grouped conv 3x3, 128 channels in 4 groups over 28x28',
      bytes: convModel(128, 28, 4),
      inputs: [{ name: 'x', shape: [1, 128, 28, 28] }],
      repeats: 5,
      flops: 2 * 128 * 32 * 9 * 28 * 28,
    },
    {
      name: 'mlp 512-1024-1024-10, batch 8',
      bytes: mlpModel([512, 1024, 1024, 10]),
      inputs: [{ name: 'x', shape: [8, 512] }],
      repeats: 5,
      flops: 2 * 8 * (512 * 1024 + 1024 * 1024 + 1024 * 10),
    },
    {
      name: 'bert-base encoder layer, seq 128',
      bytes: encoderLayerOnnx({ seq: 128 }),
      inputs: [{ name: 'x', shape: [1, 128, 768] }],
      repeats: 3,
      flops: 2 * 128 * (4 * 768 * 768 + 2 * 768 * 3072) + 2 * 2 * 128 * 128 * 768,
    },
    {
      name: 'resnet-50 (light_resnet50), batch 1',
      bytes: resnet50Onnx({ batch: 1 }),
      inputs: [{ name: RESNET50_INPUT, shape: [1, 3, 224, 224] }],
      repeats: 2,
      flops: 2 * 4.1e9,
    },
  ];
}

const WEBGPU_TARGET = targetSchema.parse(parseYaml(readFileSync(new URL('../targets/webgpu.yaml', import.meta.url), 'utf8')));

/** The webgpu device, or why there is none (printed instead of the figures). */
async function gpuDevice(): Promise<Device | string> {
  try {
    return await webgpuDevice();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader/i;

const WASM_TARGET = targetSchema.parse(parseYaml(readFileSync(new URL('../targets/wasm.yaml', import.meta.url), 'utf8')));

/** Kiln's build of a case for the CPU (wasm target, default CPU schedules) or for WebGPU. */
async function buildKiln(c: Case, gpu: boolean): Promise<Awaited<ReturnType<typeof buildArtifact>>> {
  const target = gpu ? WEBGPU_TARGET : WASM_TARGET;
  // The stages of the vision pipelines (pipelines/vision.yaml): fold-constants, legalize, fuse, schedule
  // (constant weights the CPU rules pre-pack rewritten at build time, as the stage does), plan-memory.
  const fused = optimizeModule(importOnnx(c.bytes, { file: c.name }), { plan: false });
  const scheduled = scheduleModule(fused, target, { evaluate: evaluatePrimFunc });
  return buildArtifact(planModule(scheduled), { name: 'bench', target });
}

/** Kiln's module for a case, its inputs made, and a function that runs it once (reading the output back). */
async function kilnRunner(
  c: Case,
  built: Awaited<ReturnType<typeof buildArtifact>>,
  options: { device?: Device; threads?: number },
): Promise<() => Promise<void>> {
  const mod = await loadArtifact(memorySource(built), options);
  const device = options.device;
  const args = c.inputs.map((x, i) =>
    tensor(
      seeded(
        x.shape.reduce((a, b) => a * b, 1),
        i + 7,
      ),
      x.shape,
    ),
  );
  const deviceArgs: NDArray[] = [];
  for (const a of args) deviceArgs.push(device ? await device.upload(a) : a);
  // Reading the output back waits for the GPU: the time covers the work, not just its submission.
  return async () => {
    const out = await mod.call('main', ...deviceArgs);
    if (out instanceof NDArray) await out.toCpu();
  };
}

async function ortNodeRunner(c: Case): Promise<() => Promise<unknown>> {
  const session = await ort.InferenceSession.create(c.bytes);
  const feeds: Record<string, ort.Tensor> = {};
  c.inputs.forEach(
    (x, i) =>
      (feeds[x.name] = new ort.Tensor(
        'float32',
        seeded(
          x.shape.reduce((a, b) => a * b, 1),
          i + 7,
        ),
        x.shape,
      )),
  );
  return () => session.run(feeds);
}

/**
 * One CPU row: Kiln at 1 and 2 threads, onnxruntime-web at 1 and 2 threads, onnxruntime-node and the
 * peak probe, timed in interleaved rounds (bench/interleave.ts); median ms each.
 */
async function timeCpuRow(c: Case, file: string): Promise<Record<'kiln1' | 'kiln2' | 'web1' | 'web2' | 'node' | 'peak', number>> {
  const built = await buildKiln(c, false);
  const [kiln1, kiln2, web1, web2, node, peak] = await timeInterleaved(
    [
      inProcess(await kilnRunner(c, built, { threads: 1 })),
      inProcess(await kilnRunner(c, built, { threads: 2 })),
      ortWebContender(file, c.inputs, 1),
      ortWebContender(file, c.inputs, 2),
      inProcess(await ortNodeRunner(c)),
      await peakProbe(),
    ],
    c.repeats,
  );
  return { kiln1: kiln1!, kiln2: kiln2!, web1: web1!, web2: web2!, node: node!, peak: peak! };
}

export async function benchModels(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1)).padStart(9);
  const ratio = (kiln: number, ref: number): string => `${(kiln / ref).toFixed(2)}x`.padStart(7);
  const gflops = (c: Case, ms: number): string => (c.flops ? (c.flops / ms / 1e6).toFixed(1) : '-').padStart(7);
  console.log(
    '\nModels on the CPU (median latency in ms; Kiln = target wasm; ratio = Kiln / reference at the same threads, lower is better;\n' +
      "every runtime of a row timed in interleaved rounds; peak = one thread's f32x4 multiply-add GFLOPS during the row)",
  );
  console.log(
    `  ${'model'.padEnd(38)} ${'kiln 1t'.padStart(9)} ${'web 1t'.padStart(9)} ${'ratio'.padStart(7)} ${'GFLOPS'.padStart(7)} ${'peak'.padStart(6)} ${'kiln 2t'.padStart(9)} ${'web 2t'.padStart(9)} ${'ratio'.padStart(7)} ${'GFLOPS'.padStart(7)} ${'ort-node'.padStart(9)} ${'2t ratio'.padStart(8)}`,
  );
  const gpuRows: string[] = [];
  const only = process.env.KILN_BENCH_ONLY;
  const chosen = cases().filter((c) => !only || c.name.includes(only));
  const cpuTimes = new Map<Case, { kiln2: number; web2: number; node: number }>();
  let gpu: Device | string | undefined;
  try {
    // Every CPU row first, with no WebGPU device open: a software adapter's threads (lavapipe) would share
    // the two cores with the timed runs.
    for (const [i, c] of chosen.entries()) {
      const file = join(dir, `model${i}.onnx`);
      writeFileSync(file, c.bytes);
      const { kiln1, kiln2, web1, web2, node, peak } = await timeCpuRow(c, file);
      cpuTimes.set(c, { kiln2, web2, node });
      console.log(
        `  ${c.name.padEnd(38)} ${fmt(kiln1)} ${fmt(web1)} ${ratio(kiln1, web1)} ${gflops(c, kiln1)} ${(PEAK_PROBE_FLOPS / peak / 1e6).toFixed(1).padStart(6)} ${fmt(kiln2)} ${fmt(web2)} ${ratio(kiln2, web2)} ${gflops(c, kiln2)} ${fmt(node)} ${ratio(kiln2, node).padStart(8)}`,
      );
    }
    gpu = await gpuDevice();
    for (const c of chosen) {
      const { kiln2, web2, node } = cpuTimes.get(c)!;
      // A software adapter (lavapipe, SwiftShader) would take minutes on the big models: it gets the small ones.
      if (typeof gpu !== 'string' && !(SOFTWARE_ADAPTER.test(gpu.name) && (c.flops ?? 0) > 3e9)) {
        const onGpu = await timeSteady(await kilnRunner(c, await buildKiln(c, true), { device: gpu }), c.repeats);
        gpuRows.push(
          `  ${c.name.padEnd(38)} ${fmt(onGpu)} ${gflops(c, onGpu)} ${fmt(kiln2)} ${ratio(onGpu, kiln2)} ${fmt(node)} ${ratio(onGpu, node)} ${fmt(web2)} ${ratio(onGpu, web2)}`,
        );
        if (c.gpuReference !== undefined && isWebGpuDevice(gpu)) {
          // The yardstick: a hand-written 8x8-register-block WGSL kernel; ratio = Kiln's time / its time.
          const hand = await timeReferenceMatmul(gpu, c.gpuReference, c.repeats);
          gpuRows.push(
            `  ${'  hand-written WGSL (8x8 block)'.padEnd(38)} ${fmt(hand)} ${gflops(c, hand)} ${'kiln/hand'.padStart(9)} ${ratio(onGpu, hand)}`,
          );
        }
      }
    }
    if (gpu === undefined) return;
    console.log(`\nKiln on WebGPU (${typeof gpu === 'string' ? 'no adapter' : gpu.name}; ratio = WebGPU / reference)`);
    if (typeof gpu === 'string') console.log(`  skipped: ${gpu}`);
    else {
      console.log(
        `  ${'model'.padEnd(38)} ${'webgpu'.padStart(9)} ${'GFLOPS'.padStart(7)} ${'kiln 2t'.padStart(9)} ${'ratio'.padStart(7)} ${'ort-node'.padStart(9)} ${'ratio'.padStart(7)} ${'web 2t'.padStart(9)} ${'ratio'.padStart(7)}`,
      );
      for (const r of gpuRows) console.log(r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
