/**
 * The vision vertical: the embedded ResNet-style model (examples/models,
 * made by scripts/make-vision-model.ts) matches onnxruntime-node within
 * 1e-4 relative error at batch 1 and 4, and pipelines/vision.yaml builds it
 * into an artifact that runs from the CLI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { compareWithOrt } from '../../helpers/onnx-oracle.ts';
import { describeWebGpu } from '../../helpers/webgpu.ts';
import { REPO, workspace } from '../../helpers/workspace.ts';

const MODEL = join(REPO, 'examples/models/tiny-resnet.onnx');

describe('the vision model', () => {
  test('matches onnxruntime within 1e-4 relative error at batch 1 and 4', async () => {
    const bytes = new Uint8Array(readFileSync(MODEL));
    for (const batch of [1, 4]) {
      const [probs] = await compareWithOrt(bytes, [{ name: 'input', shape: [batch, 3, 32, 32] }], { seed: batch });
      expect(probs!.shape).toEqual([batch, 10]);
      expect(probs!.maxRel, `batch ${batch}: max abs ${probs!.maxAbs}, max rel ${probs!.maxRel}`).toBeLessThan(1e-4);
    }
  });

  test('built for the wasm target (default CPU schedules), matches onnxruntime within 1e-4 at batch 1 and 5, on 1 and 2 threads', async () => {
    const bytes = new Uint8Array(readFileSync(MODEL));
    for (const [batch, threads] of [
      [1, 1],
      [5, 2],
    ] as const) {
      const [probs] = await compareWithOrt(bytes, [{ name: 'input', shape: [batch, 3, 32, 32] }], {
        seed: batch,
        wasmThreads: threads,
      });
      expect(probs!.shape).toEqual([batch, 10]);
      expect(probs!.maxRel, `batch ${batch}: max abs ${probs!.maxAbs}, max rel ${probs!.maxRel}`).toBeLessThan(1e-4);
    }
  });

  test('pipelines/vision.yaml builds it and kiln run runs it', async () => {
    const ws = workspace();
    try {
      const pipeline = readFileSync(join(REPO, 'pipelines/vision.yaml'), 'utf8')
        .replace('../examples/models/tiny-resnet.onnx', MODEL)
        .replace('../artifacts/vision', 'artifacts/vision');
      ws.write('vision.yaml', pipeline);
      const io = { out: '', err: '' };
      const kiln = (...argv: string[]): Promise<number> =>
        main(argv, { stdout: (t) => (io.out += t), stderr: (t) => (io.err += t) });
      expect(await kiln('build', ws.path('vision.yaml'), '--cache-dir', ws.path('cache')), io.err).toBe(0);
      expect(await kiln('run', ws.path('artifacts/vision'), '--shape', 'input=4,3,32,32'), io.err).toBe(0);
      expect(io.out).toMatch(/output 0: float32\[4, 10\] {2}min [0-9.e-]+ {2}max [0-9.e-]+ {2}mean 0\.1/);
      const manifest = JSON.parse(ws.read('artifacts/vision/manifest.json')) as {
        entries: { main: { params: { type: string }[] } };
      };
      expect(manifest.entries.main.params[0]!.type).toBe('Tensor[(batch, 3, 32, 32), f32]');
      expect((manifest as unknown as { kernels: { format: string } }).kernels.format).toBe('wasm');
    } finally {
      ws.remove();
    }
  });
});

describeWebGpu('the vision model on WebGPU', (device) => {
  test('scheduled by the default rules, matches onnxruntime within 1e-4 relative error at batch 1 and 3', async () => {
    const bytes = new Uint8Array(readFileSync(MODEL));
    for (const batch of [1, 3]) {
      const [probs] = await compareWithOrt(bytes, [{ name: 'input', shape: [batch, 3, 32, 32] }], { seed: batch, device });
      expect(probs!.shape).toEqual([batch, 10]);
      expect(probs!.maxRel, `batch ${batch}: max abs ${probs!.maxAbs}, max rel ${probs!.maxRel}`).toBeLessThan(1e-4);
    }
  });

  test('pipelines/vision-webgpu.yaml builds it and kiln run --device webgpu runs it', async () => {
    const ws = workspace();
    try {
      const pipeline = readFileSync(join(REPO, 'pipelines/vision-webgpu.yaml'), 'utf8')
        .replace('../examples/models/tiny-resnet.onnx', MODEL)
        .replace('../artifacts/vision-webgpu', 'artifacts/vision-webgpu');
      ws.write('vision-webgpu.yaml', pipeline);
      const io = { out: '', err: '' };
      const kiln = (...argv: string[]): Promise<number> =>
        main(argv, { stdout: (t) => (io.out += t), stderr: (t) => (io.err += t) });
      const build = ['build', ws.path('vision-webgpu.yaml'), '--cache-dir', ws.path('cache'), '--report', ws.path('report.json')];
      expect(await kiln(...build), io.err).toBe(0);
      expect(io.err).not.toMatch(/no GPU schedule/);
      // The report says which rule scheduled each kernel's launches.
      const report = JSON.parse(ws.read('report.json')) as { stages: { id: string; schedules?: Record<string, string[]> }[] };
      const schedules = report.stages.find((st) => st.id === 'schedule')!.schedules!;
      // fold-constants and fuse ran first: a conv's bias and relu are one kernel with it, one launch.
      expect(schedules.fused_conv2d_add_relu).toEqual(['conv']);
      expect(Object.values(schedules).flat()).not.toContain('none');
      const args = ['run', ws.path('artifacts/vision-webgpu'), '--device', 'webgpu', '--shape', 'input=2,3,32,32'];
      expect(await kiln(...args), io.err).toBe(0);
      expect(io.out).toMatch(/output 0: float32\[2, 10\] {2}min [0-9.e-]+ {2}max [0-9.e-]+ {2}mean 0\.1/);
      const manifest = JSON.parse(ws.read('artifacts/vision-webgpu/manifest.json')) as { kernels: { format: string } };
      expect(manifest.kernels.format).toBe('wgsl');
      // Without --device webgpu the error says how to load it.
      expect(await kiln('run', ws.path('artifacts/vision-webgpu'))).toBe(2);
      expect(io.err).toMatch(/webgpu/);
    } finally {
      ws.remove();
    }
  });
});
