/**
 * Writes examples/models/tiny-lstm.onnx: a small recurrent sequence model
 * with a symbolic sequence length T and batch N, random (seeded) weights,
 * for the recurrent pipeline (pipelines/lstm.yaml). Run `npm run
 * make-models` to regenerate it; the bytes are the same every time.
 *
 *   input     f32[T, N, 8]
 *   lstm      bidirectional LSTM, hidden 16, biases and peepholes → [T, 2, N, 16] → [T, N, 32]
 *   gru       forward GRU, hidden 12, linear_before_reset, clip 4 → [T, 1, N, 12] → [T, N, 12]
 *   rnn       reverse RNN, hidden 10, LeakyRelu(0.1) → Y_h [1, N, 10] → [N, 10]
 *   head      Gemm 10→4
 *   outputs   logits f32[N, 4], sequence f32[T, 1, N, 12] (the GRU's Y)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeModel, type ModelSpec, type NodeSpec, type TensorSpec } from './onnx-writer.ts';
import { random } from './seeded-random.ts';

const rand = random(2025);
const initializers: TensorSpec[] = [];
const nodes: NodeSpec[] = [];

function weight(name: string, dims: number[], scale: number): string {
  const n = dims.reduce((a, b) => a * b, 1);
  initializers.push({ name, dims, data: Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale) });
  return name;
}

function ints(name: string, values: number[]): string {
  initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
  return name;
}

/** A recurrent layer's W, R, B (input size `i`, hidden `h`, `gates` per cell, `d` directions). */
function params(name: string, d: number, gates: number, i: number, h: number): string[] {
  const scale = 1 / Math.sqrt(h);
  return [
    weight(`${name}.W`, [d, gates * h, i], scale),
    weight(`${name}.R`, [d, gates * h, h], scale),
    weight(`${name}.B`, [d, 2 * gates * h], scale),
  ];
}

// Bidirectional LSTM with peepholes: [T, N, 8] → Y [T, 2, N, 16].
nodes.push({
  op: 'LSTM',
  name: 'lstm',
  inputs: ['input', ...params('lstm', 2, 4, 8, 16), '', '', '', weight('lstm.P', [2, 48], 0.25)],
  outputs: ['lstm.Y'],
  attrs: { direction: 'bidirectional', hidden_size: 16 },
});
// [T, 2, N, 16] → [T, N, 2, 16] → [T, N, 32]: both directions' states side by side.
nodes.push({ op: 'Transpose', name: 'lstm.t', inputs: ['lstm.Y'], outputs: ['lstm.Yt'], attrs: { perm: [0, 2, 1, 3] } });
nodes.push({ op: 'Reshape', name: 'lstm.r', inputs: ['lstm.Yt', ints('lstm.shape', [0, 0, 32])], outputs: ['lstm.out'] });

nodes.push({
  op: 'GRU',
  name: 'gru',
  inputs: ['lstm.out', ...params('gru', 1, 3, 32, 12)],
  outputs: ['sequence'],
  attrs: { hidden_size: 12, linear_before_reset: 1, clip: { float: 4 } },
});
nodes.push({ op: 'Squeeze', name: 'gru.s', inputs: ['sequence', ints('gru.axes', [1])], outputs: ['gru.out'] });
nodes.push({
  op: 'RNN',
  name: 'rnn',
  inputs: ['gru.out', ...params('rnn', 1, 1, 12, 10)],
  outputs: ['', 'rnn.h'],
  attrs: {
    hidden_size: 10,
    direction: 'reverse',
    activations: { strings: ['LeakyRelu'] },
    activation_alpha: { floats: [0.1] },
  },
});
// onnxruntime has no batch-major (layout 1) recurrent layers, so the model stays time-major.
nodes.push({ op: 'Squeeze', name: 'rnn.s', inputs: ['rnn.h', ints('rnn.axes', [0])], outputs: ['head.flat'] });
nodes.push({
  op: 'Gemm',
  name: 'head.fc',
  inputs: ['head.flat', weight('head.fc.weight', [4, 10], Math.sqrt(6 / 10)), weight('head.fc.bias', [4], 0.1)],
  outputs: ['logits'],
  attrs: { transB: 1 },
});

const model: ModelSpec = {
  opset: 17,
  producer: 'kiln scripts/make-lstm-model.ts',
  graphName: 'tiny_lstm',
  inputs: [{ name: 'input', elemType: 1, dims: ['T', 'N', 8] }],
  outputs: [
    { name: 'logits', elemType: 1, dims: ['N', 4] },
    { name: 'sequence', elemType: 1, dims: ['T', 1, 'N', 12] },
  ],
  initializers,
  nodes,
};

const out = fileURLToPath(new URL('../examples/models/tiny-lstm.onnx', import.meta.url));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, encodeModel(model));
console.log(`wrote ${out} (${nodes.length} nodes, ${initializers.length} initializers)`);
