/**
 * The recurrent model (examples/models/tiny-lstm.onnx, made by
 * scripts/make-lstm-model.ts: a bidirectional LSTM with peepholes, a GRU
 * with linear_before_reset and clip, a reverse batch-major RNN with
 * LeakyRelu) matches onnxruntime-node on random inputs at several sequence
 * lengths and batches, on the js, wasm and webgpu targets, and pipelines/lstm.yaml
 * builds it into an artifact that runs from the CLI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { printModule } from '../../../src/ir/text/printer.ts';
import { encodeModel } from '../../../scripts/onnx-writer.ts';
import { compareWithOrt } from '../../helpers/onnx-oracle.ts';
import { REPO, workspace } from '../../helpers/workspace.ts';

const MODEL = join(REPO, 'examples/models/tiny-lstm.onnx');
const bytes = (): Uint8Array => new Uint8Array(readFileSync(MODEL));

describe('the recurrent model', () => {
  test('imports each recurrent layer as one call, whatever the sequence length', () => {
    const text = printModule(importOnnx(bytes(), { file: 'tiny-lstm.onnx' }));
    for (const op of ['lstm', 'gru', 'rnn']) expect(text.match(new RegExp(`= ${op}\\(`, 'g')), op).toHaveLength(1);
  });

  test('an activation ONNX does not define, or the wrong number of them, fails the import naming the node', () => {
    const model = (activations: string[], wDims = [1, 9, 2]): Uint8Array =>
      encodeModel({
        opset: 17,
        producer: 'test',
        graphName: 'g',
        inputs: [
          { name: 'x', elemType: 1, dims: ['T', 1, 2] },
          { name: 'w', elemType: 1, dims: wDims },
          { name: 'r', elemType: 1, dims: [1, 9, 3] },
        ],
        outputs: [{ name: 'y', elemType: 1, dims: undefined }],
        initializers: [],
        nodes: [
          {
            op: 'GRU',
            name: 'the_gru',
            inputs: ['x', 'w', 'r'],
            outputs: ['y'],
            attrs: { activations: { strings: activations } },
          },
        ],
      });
    expect(() => importOnnx(model(['Sigmoid', 'Gelu']), { file: 'm.onnx' })).toThrow(
      /node 'the_gru'.*activation 'Gelu' is not supported/,
    );
    expect(() => importOnnx(model(['Sigmoid']), { file: 'm.onnx' })).toThrow(/node 'the_gru'.*expected 2 activations, found 1/);
    expect(() => importOnnx(model(['sigmoid', 'TANH']), { file: 'm.onnx' })).not.toThrow();
    expect(() => importOnnx(model(['Sigmoid', 'Tanh'], [1, 12, 2]), { file: 'm.onnx' })).toThrow(
      /node 'the_gru'.*W has shape \[1, 12, 2\], expected \[1, 9, 2\] \(directions, 3 gates × hidden 3, input size\)/,
    );
  });

  for (const [target, wasmThreads] of [
    ['js', undefined],
    ['wasm', 2],
  ] as const) {
    test(`matches onnxruntime within 1e-4 on the ${target} target at (T, N) = (1, 1), (7, 3)`, async () => {
      for (const [T, N] of [
        [1, 1],
        [7, 3],
      ] as const) {
        const errs = await compareWithOrt(bytes(), [{ name: 'input', shape: [T, N, 8] }], {
          seed: T * 10 + N,
          ...(wasmThreads ? { wasmThreads } : {}),
        });
        expect(errs.map((e) => e.shape)).toEqual([
          [N, 4],
          [T, 1, N, 12],
        ]);
        for (const e of errs) expect(e.maxAbs, `${e.name} at T=${T} N=${N}: max rel ${e.maxRel}`).toBeLessThan(1e-4);
      }
    });
  }

  test('pipelines/lstm.yaml builds it and kiln run runs it', async () => {
    const ws = workspace();
    try {
      const pipeline = readFileSync(join(REPO, 'pipelines/lstm.yaml'), 'utf8')
        .replace('../examples/models/tiny-lstm.onnx', MODEL)
        .replace('../artifacts/lstm', 'artifacts/lstm');
      ws.write('lstm.yaml', pipeline);
      const io = { out: '', err: '' };
      const kiln = (...argv: string[]): Promise<number> =>
        main(argv, { stdout: (t) => (io.out += t), stderr: (t) => (io.err += t) });
      expect(await kiln('build', ws.path('lstm.yaml'), '--cache-dir', ws.path('cache')), io.err).toBe(0);
      expect(await kiln('run', ws.path('artifacts/lstm'), '--shape', 'input=6,2,8'), io.err).toBe(0);
      expect(io.out).toMatch(/output 0: float32\[2, 4\]/);
      expect(io.out).toMatch(/output 1: float32\[6, 1, 2, 12\]/);
    } finally {
      ws.remove();
    }
  });
});
