/**
 * A transformer block as PyTorch exports it — the batch and sequence
 * length symbolic, the attention heads split and merged by Reshape with
 * shapes computed from Shape/Gather/Concat, LayerNormalization, and GELU
 * spelled with Erf — matches onnxruntime for several batch sizes and lengths.
 */
import { expect, test } from 'vitest';
import { encodeModel, type NodeSpec, type TensorSpec } from '../../../scripts/onnx-writer.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { printModule } from '../../../src/ir/text/printer.ts';
import { compareWithOrt } from '../../helpers/onnx-oracle.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';

const D = 16;
const HEADS = 2;
const i64 = (xs: number[]): BigInt64Array => BigInt64Array.from(xs.map(BigInt));
const f32 = (n: number, seed: number, scale: number): Float32Array => Float32Array.from(randomArray(n, seed, -scale, scale));

function block(): Uint8Array {
  const inits: TensorSpec[] = [
    { name: 'wq', dims: [D, D], data: f32(D * D, 1, 0.4) },
    { name: 'wk', dims: [D, D], data: f32(D * D, 2, 0.4) },
    { name: 'wv', dims: [D, D], data: f32(D * D, 3, 0.4) },
    { name: 'wo', dims: [D, D], data: f32(D * D, 4, 0.4) },
    { name: 'gamma', dims: [D], data: f32(D, 5, 1) },
    { name: 'beta', dims: [D], data: f32(D, 6, 0.5) },
    { name: 'i0', dims: [1], data: i64([0]) },
    { name: 'i1', dims: [1], data: i64([1]) },
    { name: 'heads', dims: [1], data: i64([HEADS]) },
    { name: 'hdim', dims: [1], data: i64([D / HEADS]) },
    { name: 'dmodel', dims: [1], data: i64([D]) },
    { name: 'scale', dims: [], data: Float32Array.from([Math.sqrt(D / HEADS)]) },
    { name: 'sqrt2', dims: [], data: Float32Array.from([Math.SQRT2]) },
    { name: 'one', dims: [], data: Float32Array.from([1]) },
    { name: 'half', dims: [], data: Float32Array.from([0.5]) },
  ];
  const n: NodeSpec[] = [
    { op: 'Shape', inputs: ['x'], outputs: ['shape'] },
    { op: 'Gather', inputs: ['shape', 'i0'], outputs: ['b'], attrs: { axis: 0 } },
    { op: 'Gather', inputs: ['shape', 'i1'], outputs: ['s'], attrs: { axis: 0 } },
    { op: 'Concat', inputs: ['b', 's', 'heads', 'hdim'], outputs: ['split_shape'], attrs: { axis: 0 } },
    { op: 'Concat', inputs: ['b', 's', 'dmodel'], outputs: ['merge_shape'], attrs: { axis: 0 } },
  ];
  for (const p of ['q', 'k', 'v']) {
    n.push({ op: 'MatMul', inputs: ['x', `w${p}`], outputs: [`${p}0`] });
    n.push({ op: 'Reshape', inputs: [`${p}0`, 'split_shape'], outputs: [`${p}1`] });
    n.push({ op: 'Transpose', inputs: [`${p}1`], outputs: [`${p}h`], attrs: { perm: p === 'k' ? [0, 2, 3, 1] : [0, 2, 1, 3] } });
  }
  n.push(
    { op: 'MatMul', inputs: ['qh', 'kh'], outputs: ['scores0'] },
    { op: 'Div', inputs: ['scores0', 'scale'], outputs: ['scores'] },
    { op: 'Softmax', inputs: ['scores'], outputs: ['attn'], attrs: { axis: -1 } },
    { op: 'MatMul', inputs: ['attn', 'vh'], outputs: ['ctx0'] },
    { op: 'Transpose', inputs: ['ctx0'], outputs: ['ctx1'], attrs: { perm: [0, 2, 1, 3] } },
    { op: 'Reshape', inputs: ['ctx1', 'merge_shape'], outputs: ['ctx'] },
    { op: 'MatMul', inputs: ['ctx', 'wo'], outputs: ['proj'] },
    { op: 'Add', inputs: ['x', 'proj'], outputs: ['res'] },
    {
      op: 'LayerNormalization',
      inputs: ['res', 'gamma', 'beta'],
      outputs: ['ln'],
      attrs: { axis: -1, epsilon: { float: 1e-5 } },
    },
    { op: 'Div', inputs: ['ln', 'sqrt2'], outputs: ['g0'] },
    { op: 'Erf', inputs: ['g0'], outputs: ['g1'] },
    { op: 'Add', inputs: ['g1', 'one'], outputs: ['g2'] },
    { op: 'Mul', inputs: ['ln', 'g2'], outputs: ['g3'] },
    { op: 'Mul', inputs: ['g3', 'half'], outputs: ['y'] },
  );
  return encodeModel({
    opset: 17,
    producer: 'test',
    graphName: 'block',
    inputs: [{ name: 'x', elemType: 1, dims: ['batch', 'seq', D] }],
    outputs: [{ name: 'y', elemType: 1, dims: ['batch', 'seq', D] }],
    initializers: inits,
    nodes: n,
  });
}

test('its reshapes become symbolic shapes', () => {
  const text = printModule(importOnnx(block()));
  expect(text).toContain('shape(batch, seq, 2, 8)');
  expect(text).toContain('shape(batch, seq, 16)');
});

test('it matches onnxruntime for several batch sizes and sequence lengths', async () => {
  const bytes = block();
  for (const [b, s] of [
    [1, 1],
    [2, 5],
    [3, 7],
  ] as const) {
    const [y] = await compareWithOrt(bytes, [{ name: 'x', shape: [b, s, D] }], { seed: b * 10 + s });
    expect(y!.shape).toEqual([b, s, D]);
    expect(y!.maxAbs, `batch ${b}, seq ${s}: max abs ${y!.maxAbs}, max rel ${y!.maxRel}`).toBeLessThan(1e-5);
  }
});
