/**
 * One BERT-style transformer encoder layer as ONNX exporters write it (opset
 * 17): Q/K/V projections (MatMul + Add), heads split by Reshape + Transpose,
 * scaled dot-product attention with Softmax, the output projection, a
 * residual Add and LayerNormalization, then the feed-forward block (MatMul,
 * GELU written out with Erf as PyTorch exports it, MatMul) with its own
 * residual and LayerNormalization. Seeded random weights; BERT-base sizes by
 * default (hidden 768, 12 heads, feed-forward 3072). Input `x`
 * [batch, seq, hidden], output `y` of the same shape.
 */
import { encodeModel, type NodeSpec, type TensorSpec } from '../onnx-writer.ts';

export interface EncoderLayerOptions {
  readonly batch?: number;
  readonly seq?: number;
  readonly hidden?: number;
  readonly heads?: number;
  readonly ffn?: number;
  readonly seed?: number;
}

export function encoderLayerOnnx(o: EncoderLayerOptions = {}): Uint8Array {
  const batch = o.batch ?? 1;
  const seq = o.seq ?? 128;
  const hidden = o.hidden ?? 768;
  const heads = o.heads ?? 12;
  const ffn = o.ffn ?? 3072;
  const headDim = hidden / heads;
  if (!Number.isInteger(headDim)) throw new Error(`hidden ${hidden} is not a multiple of heads ${heads}`);
  let seed = (o.seed ?? 1) >>> 0;
  const random = (n: number, scale: number): Float32Array =>
    Float32Array.from({ length: n }, () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return ((seed / 4294967296) * 2 - 1) * scale;
    });
  const inits: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  const weight = (name: string, rows: number, cols: number): string => {
    inits.push({ name, dims: [rows, cols], data: random(rows * cols, Math.sqrt(3 / rows)) });
    return name;
  };
  const vector = (name: string, n: number, scale: number, offset = 0): string => {
    inits.push({ name, dims: [n], data: random(n, scale).map((v) => v + offset) });
    return name;
  };
  const shape = (name: string, dims: number[]): string => {
    inits.push({ name, dims: [dims.length], data: BigInt64Array.from(dims.map(BigInt)) });
    return name;
  };
  const node = (op: string, inputs: string[], output: string, attrs?: NodeSpec['attrs']): string => {
    nodes.push({ op, inputs, outputs: [output], ...(attrs ? { attrs } : {}) });
    return output;
  };
  const linear = (x: string, name: string, rows: number, cols: number): string =>
    node(
      'Add',
      [node('MatMul', [x, weight(`${name}.weight`, rows, cols)], `${name}.mm`), vector(`${name}.bias`, cols, 0.02)],
      name,
    );
  const layerNorm = (x: string, name: string): string =>
    node('LayerNormalization', [x, vector(`${name}.gamma`, hidden, 0.1, 1), vector(`${name}.beta`, hidden, 0.1)], name, {
      axis: -1,
      epsilon: { float: 1e-12 },
    });

  const headsShape = shape('heads_shape', [batch, seq, heads, headDim]);
  const split = (x: string, name: string, perm: number[]): string =>
    node('Transpose', [node('Reshape', [x, headsShape], `${name}.split`)], name, { perm });
  const q = split(linear('x', 'q', hidden, hidden), 'qh', [0, 2, 1, 3]);
  const k = split(linear('x', 'k', hidden, hidden), 'kh', [0, 2, 3, 1]);
  const v = split(linear('x', 'v', hidden, hidden), 'vh', [0, 2, 1, 3]);
  inits.push({ name: 'scale', dims: [], data: Float32Array.of(1 / Math.sqrt(headDim)) });
  const scores = node('Mul', [node('MatMul', [q, k], 'qk'), 'scale'], 'scores');
  const probs = node('Softmax', [scores], 'probs', { axis: -1 });
  const context = node('MatMul', [probs, v], 'context');
  const merged = node(
    'Reshape',
    [node('Transpose', [context], 'context.t', { perm: [0, 2, 1, 3] }), shape('merged_shape', [batch, seq, hidden])],
    'merged',
  );
  const attn = layerNorm(node('Add', [linear(merged, 'o', hidden, hidden), 'x'], 'attn.res'), 'attn.ln');

  // GELU(h) = h * 0.5 * (1 + erf(h / sqrt 2)), as torch.onnx writes it.
  inits.push({ name: 'sqrt2', dims: [], data: Float32Array.of(Math.SQRT2) });
  inits.push({ name: 'one', dims: [], data: Float32Array.of(1) });
  inits.push({ name: 'half', dims: [], data: Float32Array.of(0.5) });
  const h = linear(attn, 'ffn.in', hidden, ffn);
  const erf = node('Erf', [node('Div', [h, 'sqrt2'], 'gelu.div')], 'gelu.erf');
  const gelu = node('Mul', [node('Mul', [h, node('Add', [erf, 'one'], 'gelu.add')], 'gelu.mul'), 'half'], 'gelu');
  const out = layerNorm(node('Add', [linear(gelu, 'ffn.out', ffn, hidden), attn], 'ffn.res'), 'y');

  return encodeModel({
    opset: 17,
    producer: 'kiln bench',
    graphName: 'encoder_layer',
    inputs: [{ name: 'x', elemType: 1, dims: [batch, seq, hidden] }],
    outputs: [{ name: out, elemType: 1, dims: [batch, seq, hidden] }],
    initializers: inits,
    nodes,
  });
}
