/**
 * The quantized transformer block (scripts/make-quantized-model.ts) in its two variants,
 * QDQ int8 and 4-bit MatMulNBits, built through its pipeline file (wasm target, with
 * fold-constants and fuse), matches onnxruntime-node's reference kernels on random
 * inputs within the conformance report's tolerances: |kiln - ort| <= 1e-7 + 1e-3 |ort|.
 * The weights stay quantized in the artifact: each matmul kernel reads them narrow.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { quantizedTransformer } from '../../../scripts/make-quantized-model.ts';
import { encodeModel } from '../../../scripts/onnx-writer.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { main } from '../../../src/cli/main.ts';
import { load } from '../../../src/runtime/node.ts';
import { type NDArray, tensor } from '../../../src/runtime/ndarray.ts';
import { compareWithOrt } from '../../helpers/onnx-oracle.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';
import { describeWebGpu } from '../../helpers/webgpu.ts';
import { REPO, workspace } from '../../helpers/workspace.ts';

const RTOL = 1e-3;
const ATOL = 1e-7;

describe.each(['qdq', 'nbits'] as const)('the quantized transformer (%s)', (variant) => {
  test('the script writes the checked-in model', () => {
    const file = readFileSync(join(REPO, `examples/models/tiny-transformer-${variant}.onnx`));
    expect(Buffer.from(quantizedTransformer(variant)).equals(file)).toBe(true);
  });

  test(`pipelines/quantized-${variant}.yaml builds it; it matches onnxruntime at two shapes`, async () => {
    const ws = workspace();
    try {
      const model = join(REPO, `examples/models/tiny-transformer-${variant}.onnx`);
      ws.write(
        'p.yaml',
        readFileSync(join(REPO, `pipelines/quantized-${variant}.yaml`), 'utf8')
          .replace(`../examples/models/tiny-transformer-${variant}.onnx`, model)
          .replace(`../artifacts/quantized-${variant}`, 'artifact'),
      );
      const io = { out: '', err: '' };
      const code = await main(['build', ws.path('p.yaml'), '--cache-dir', ws.path('cache'), '--report', ws.path('r.json')], {
        stdout: (t) => (io.out += t),
        stderr: (t) => (io.err += t),
      });
      expect(code, io.err).toBe(0);
      // Dequantize in the kernel: no kernel call is a dequantize on its own, and the weights are int8 / packed uint8.
      expect(io.out + io.err).toMatch(variant === 'qdq' ? /dequantize1\+matmul/ : /dequantize_blockwise\+matmul/);
      const manifest = ws.read('artifact/manifest.json');
      expect(manifest).not.toMatch(/"float32", *"shape": *\[32, *64\]/);

      const kiln = await load(ws.path('artifact'), { threads: 1 });
      const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(model)), {
        graphOptimizationLevel: 'disabled',
      });
      for (const [batch, seq, seed] of [
        [2, 5, 1],
        [1, 17, 2],
      ] as const) {
        const x = Float32Array.from(randomArray(batch * seq * 32, seed, -2, 2));
        const want = (await session.run({ x: new ort.Tensor('float32', x, [batch, seq, 32]) }))[session.outputNames[0]!]!
          .data as Float32Array;
        const got = (await ((await kiln.call('main', tensor(x, [batch, seq, 32], 'float32'))) as NDArray).toCpu())
          .data as Float32Array;
        expect(got.length).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++)
          worst = Math.max(worst, Math.abs(got[i]! - want[i]!) - (ATOL + RTOL * Math.abs(want[i]!)));
        expect(worst, `batch ${batch}, seq ${seq}`).toBeLessThanOrEqual(0);
      }
    } finally {
      ws.remove();
    }
  }, 300_000);
});

describeWebGpu('the quantized transformer on WebGPU', (device) => {
  test.each(['qdq', 'nbits'] as const)(
    '%s: default GPU schedules (int8 / packed uint8 held as 32-bit words) match onnxruntime within 1e-3 relative error',
    async (variant) => {
      const bytes = new Uint8Array(readFileSync(join(REPO, `examples/models/tiny-transformer-${variant}.onnx`)));
      const [y] = await compareWithOrt(bytes, [{ name: 'x', shape: [2, 9, 32], lo: -2, hi: 2 }], { seed: 3, device });
      expect(y!.shape).toEqual([2, 9, 32]);
      expect(y!.maxRel, `max abs ${y!.maxAbs}, max rel ${y!.maxRel}`).toBeLessThan(RTOL);
    },
    300_000,
  );
});

describe('unsupported operators next to the quantized ones', () => {
  test('one error lists every unsupported node, other domains named with theirs; MatMulNBits is not among them', () => {
    const bytes = encodeModel({
      opset: 17,
      producer: 'test',
      graphName: 'g',
      inputs: [{ name: 'x', elemType: 1, dims: [2, 32] }],
      outputs: [{ name: 'y', elemType: 1, dims: [2, 8] }],
      initializers: [
        { name: 'b', dims: [8, 2, 8], data: new Uint8Array(128) },
        { name: 's', dims: [16], data: new Float32Array(16) },
      ],
      nodes: [
        {
          op: 'MatMulNBits',
          domain: 'com.microsoft',
          inputs: ['x', 'b', 's'],
          outputs: ['m'],
          attrs: { K: 32, N: 8, block_size: 16 },
        },
        { op: 'FusedGelu', name: 'gelu', domain: 'com.microsoft', inputs: ['m'], outputs: ['g'] },
        { op: 'FancyOp', name: 'fancy', inputs: ['g'], outputs: ['y'] },
      ],
      domains: { 'com.microsoft': 1 },
    });
    expect(() => importOnnx(bytes, { file: 'm.onnx' })).toThrow(
      /m\.onnx: 2 unsupported operators: FancyOp, com\.microsoft\.FusedGelu(.|\n)*com\.microsoft\.FusedGelu \(opset 17\): node 'gelu'/,
    );
  });
});
