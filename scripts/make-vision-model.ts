/**
 * Writes examples/models/tiny-resnet.onnx: a small ResNet-style CNN with a
 * symbolic batch dimension N, random (seeded) weights, for the vision
 * pipeline. Run `npm run make-models` to regenerate it; the bytes are the
 * same every time.
 *
 *   input  f32[N, 3, 32, 32]
 *   stem   Conv 3→16 (3x3) + BatchNorm + Relu, MaxPool 3x3 stride 2
 *   block  Conv 16→16 + BN + Relu, Conv 16→16 + BN, + skip, Relu
 *   block  Conv 16→32 stride 2 + BN + Relu, Conv 32→32 + BN, + (Conv 1x1 stride 2 + BN), Relu
 *   head   GlobalAveragePool, Flatten, Gemm 32→10, Softmax
 *   output f32[N, 10]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeModel, type ModelSpec, type NodeSpec, type TensorSpec } from './onnx-writer.ts';
import { random } from './seeded-random.ts';

const rand = random(2024);
const initializers: TensorSpec[] = [];
const nodes: NodeSpec[] = [];

function weight(name: string, dims: number[], scale: number, offset = 0): string {
  const n = dims.reduce((a, b) => a * b, 1);
  initializers.push({ name, dims, data: Float32Array.from({ length: n }, () => offset + (rand() * 2 - 1) * scale) });
  return name;
}

function conv(x: string, name: string, cin: number, cout: number, k: number, stride: number): string {
  // He-style scale keeps activations in a sensible range through the layers.
  const w = weight(`${name}.weight`, [cout, cin, k, k], Math.sqrt(6 / (cin * k * k)));
  const pad = (k - 1) / 2;
  nodes.push({
    op: 'Conv',
    name,
    inputs: [x, w],
    outputs: [`${name}.out`],
    attrs: { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] },
  });
  return `${name}.out`;
}

function batchNorm(x: string, name: string, c: number): string {
  const inputs = [
    x,
    weight(`${name}.scale`, [c], 0.2, 1),
    weight(`${name}.bias`, [c], 0.1),
    weight(`${name}.mean`, [c], 0.1),
    weight(`${name}.var`, [c], 0.3, 1),
  ];
  nodes.push({ op: 'BatchNormalization', name, inputs, outputs: [`${name}.out`], attrs: { epsilon: 1e-5 } });
  return `${name}.out`;
}

function relu(x: string, name: string): string {
  nodes.push({ op: 'Relu', name, inputs: [x], outputs: [`${name}.out`] });
  return `${name}.out`;
}

function add(a: string, b: string, name: string): string {
  nodes.push({ op: 'Add', name, inputs: [a, b], outputs: [`${name}.out`] });
  return `${name}.out`;
}

function block(x: string, name: string, cin: number, cout: number, stride: number): string {
  let y = relu(batchNorm(conv(x, `${name}.conv1`, cin, cout, 3, stride), `${name}.bn1`, cout), `${name}.relu1`);
  y = batchNorm(conv(y, `${name}.conv2`, cout, cout, 3, 1), `${name}.bn2`, cout);
  const skip =
    stride === 1 && cin === cout ? x : batchNorm(conv(x, `${name}.down`, cin, cout, 1, stride), `${name}.down_bn`, cout);
  return relu(add(y, skip, `${name}.add`), `${name}.relu2`);
}

let x = relu(batchNorm(conv('input', 'stem.conv', 3, 16, 3, 1), 'stem.bn', 16), 'stem.relu');
nodes.push({
  op: 'MaxPool',
  name: 'stem.pool',
  inputs: [x],
  outputs: ['stem.pool.out'],
  attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
});
x = block('stem.pool.out', 'layer1', 16, 16, 1);
x = block(x, 'layer2', 16, 32, 2);
nodes.push({ op: 'GlobalAveragePool', name: 'head.pool', inputs: [x], outputs: ['head.pool.out'] });
nodes.push({ op: 'Flatten', name: 'head.flatten', inputs: ['head.pool.out'], outputs: ['head.flat'], attrs: { axis: 1 } });
const fcW = weight('head.fc.weight', [10, 32], Math.sqrt(6 / 32));
const fcB = weight('head.fc.bias', [10], 0.1);
nodes.push({
  op: 'Gemm',
  name: 'head.fc',
  inputs: ['head.flat', fcW, fcB],
  outputs: ['logits'],
  attrs: { transB: 1 },
});
nodes.push({ op: 'Softmax', name: 'head.softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: 1 } });

const model: ModelSpec = {
  opset: 17,
  producer: 'kiln scripts/make-vision-model.ts',
  graphName: 'tiny_resnet',
  inputs: [{ name: 'input', elemType: 1, dims: ['N', 3, 32, 32] }],
  outputs: [{ name: 'probs', elemType: 1, dims: ['N', 10] }],
  initializers,
  nodes,
};

const out = fileURLToPath(new URL('../examples/models/tiny-resnet.onnx', import.meta.url));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, encodeModel(model));
console.log(`wrote ${out} (${nodes.length} nodes, ${initializers.length} initializers)`);
