/**
 * Writes two quantized variants of a small transformer block, as the quantizers of
 * onnxruntime and transformers.js leave them (run `npm run make-models`; the bytes are
 * the same every time):
 *
 *   examples/models/tiny-transformer-qdq.onnx    every projection a QDQ pair: the activation
 *       QuantizeLinear / DequantizeLinear to uint8 (per tensor), the weight int8 with one
 *       scale per output column (DequantizeLinear, axis 1), then a float MatMul
 *   examples/models/tiny-transformer-nbits.onnx  every projection a com.microsoft MatMulNBits:
 *       4-bit weights in blocks of 16 along K, one scale per (column, block); the attention
 *       projections with packed uint8 zero points, the feed-forward ones without (zero point 8)
 *
 *   input  f32[N, S, 32]
 *   x1 = x + Wo(softmax(q k^T / sqrt(32)) v), q, k, v = Wq, Wk, Wv (LayerNorm(x))
 *   y  = x1 + W2(Relu(W1(LayerNorm(x1))))                  (W1: 32 -> 64, W2: 64 -> 32)
 *   output f32[N, S, 32]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeModel, type NodeSpec, type TensorSpec } from './onnx-writer.ts';
import { random } from './seeded-random.ts';

export const D = 32;
export const FF = 64;
const BLOCK = 16;

export type Variant = 'qdq' | 'nbits';

/** A float weight [K, N], uniform in ±sqrt(3 / K) (unit variance through the layer). */
function floatWeight(rand: () => number, k: number, n: number): Float32Array {
  const a = Math.sqrt(3 / k);
  return Float32Array.from({ length: k * n }, () => (rand() * 2 - 1) * a);
}

class Builder {
  readonly initializers: TensorSpec[] = [];
  readonly nodes: NodeSpec[] = [];
  private readonly rand: () => number;
  constructor(
    private readonly variant: Variant,
    seed: number,
  ) {
    this.rand = random(seed);
  }

  init(name: string, dims: number[], data: TensorSpec['data']): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  node(op: string, inputs: string[], out: string, attrs?: NodeSpec['attrs'], domain?: string): string {
    this.nodes.push({ op, name: out, inputs, outputs: [out], ...(attrs ? { attrs } : {}), ...(domain ? { domain } : {}) });
    return out;
  }

  /** x [.., K] times a quantized [K, N] weight. `zeroPoints`: the 4-bit variant's packed zero points. */
  linear(x: string, name: string, k: number, n: number, zeroPoints: boolean): string {
    const w = floatWeight(this.rand, k, n);
    return this.variant === 'qdq' ? this.qdq(x, name, w, k, n) : this.nbits(x, name, w, k, n, zeroPoints);
  }

  /** Activation: uint8 per tensor, a scale for values in about ±4 and zero point 128; weight: symmetric int8 per column. */
  private qdq(x: string, name: string, w: Float32Array, k: number, n: number): string {
    const aScale = this.init(`${name}.a_scale`, [], Float32Array.from([8 / 255]));
    const aZp = this.init(`${name}.a_zp`, [], Uint8Array.from([128]));
    const q = this.node('QuantizeLinear', [x, aScale, aZp], `${name}.xq`);
    const xd = this.node('DequantizeLinear', [q, aScale, aZp], `${name}.xd`);
    const scales = new Float32Array(n);
    const wq = new Int8Array(k * n);
    for (let j = 0; j < n; j++) {
      let m = 0;
      for (let i = 0; i < k; i++) m = Math.max(m, Math.abs(w[i * n + j]!));
      scales[j] = m / 127;
      for (let i = 0; i < k; i++) wq[i * n + j] = Math.round(w[i * n + j]! / scales[j]!);
    }
    const wInit = this.init(`${name}.w_q`, [k, n], wq);
    const wScale = this.init(`${name}.w_scale`, [n], scales);
    const wZp = this.init(`${name}.w_zp`, [n], new Int8Array(n));
    const wd = this.node('DequantizeLinear', [wInit, wScale, wZp], `${name}.wd`, { axis: 1 });
    return this.node('MatMul', [xd, wd], `${name}.out`);
  }

  /** MatMulNBits: B [N, K / 16, 8] packed two 4-bit values a byte (low nibble first), scales [N * K / 16]. */
  private nbits(x: string, name: string, w: Float32Array, k: number, n: number, zeroPoints: boolean): string {
    const blocks = k / BLOCK;
    const packed = new Uint8Array(n * blocks * (BLOCK / 2));
    const scales = new Float32Array(n * blocks);
    const zps = new Uint8Array(n * Math.ceil(blocks / 2));
    for (let j = 0; j < n; j++) {
      for (let b = 0; b < blocks; b++) {
        let lo = 0;
        let hi = 0;
        for (let i = b * BLOCK; i < (b + 1) * BLOCK; i++) {
          lo = Math.min(lo, w[i * n + j]!);
          hi = Math.max(hi, w[i * n + j]!);
        }
        // Asymmetric with a zero point; symmetric about 8 without one.
        const scale = zeroPoints ? (hi - lo) / 15 : Math.max(-lo, hi) / 7;
        const zp = zeroPoints ? Math.min(15, Math.max(0, Math.round(-lo / scale))) : 8;
        scales[j * blocks + b] = scale;
        zps[j * Math.ceil(blocks / 2) + (b >> 1)]! |= zp << ((b & 1) * 4);
        for (let i = 0; i < BLOCK; i++) {
          const q = Math.min(15, Math.max(0, Math.round(w[(b * BLOCK + i) * n + j]! / scale) + zp));
          packed[(j * blocks + b) * (BLOCK / 2) + (i >> 1)]! |= q << ((i & 1) * 4);
        }
      }
    }
    const inputs = [
      x,
      this.init(`${name}.b`, [n, blocks, BLOCK / 2], packed),
      this.init(`${name}.scales`, [n * blocks], scales),
      ...(zeroPoints ? [this.init(`${name}.zero_points`, [n * Math.ceil(blocks / 2)], zps)] : []),
    ];
    return this.node('MatMulNBits', inputs, `${name}.out`, { K: k, N: n, bits: 4, block_size: BLOCK }, 'com.microsoft');
  }

  layerNorm(x: string, name: string): string {
    const g = this.init(
      `${name}.gamma`,
      [D],
      Float32Array.from({ length: D }, () => 0.5 + this.rand()),
    );
    const b = this.init(
      `${name}.beta`,
      [D],
      Float32Array.from({ length: D }, () => this.rand() - 0.5),
    );
    return this.node('LayerNormalization', [x, g, b], `${name}.out`, { axis: -1 });
  }
}

export function quantizedTransformer(variant: Variant): Uint8Array {
  const m = new Builder(variant, 2026);
  const h = m.layerNorm('x', 'ln1');
  const q = m.linear(h, 'wq', D, D, true);
  const k = m.linear(h, 'wk', D, D, true);
  const v = m.linear(h, 'wv', D, D, true);
  const kt = m.node('Transpose', [k], 'kt', { perm: [0, 2, 1] });
  const scores = m.node(
    'Mul',
    [m.node('MatMul', [q, kt], 'qk'), m.init('inv_sqrt_d', [], Float32Array.from([1 / Math.sqrt(D)]))],
    'scores',
  );
  const p = m.node('Softmax', [scores], 'p', { axis: -1 });
  const attn = m.linear(m.node('MatMul', [p, v], 'pv'), 'wo', D, D, true);
  const x1 = m.node('Add', ['x', attn], 'x1');
  const f = m.node('Relu', [m.linear(m.layerNorm(x1, 'ln2'), 'w1', D, FF, false)], 'f');
  const y = m.node('Add', [x1, m.linear(f, 'w2', FF, D, false)], 'y');
  return encodeModel({
    opset: 17,
    producer: 'kiln make-quantized-model',
    graphName: `tiny-transformer-${variant}`,
    inputs: [{ name: 'x', elemType: 1, dims: ['N', 'S', D] }],
    outputs: [{ name: y, elemType: 1, dims: ['N', 'S', D] }],
    initializers: m.initializers,
    nodes: m.nodes,
    ...(variant === 'nbits' ? { domains: { 'com.microsoft': 1 } } : {}),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const variant of ['qdq', 'nbits'] as const) {
    const out = fileURLToPath(new URL(`../examples/models/tiny-transformer-${variant}.onnx`, import.meta.url));
    mkdirSync(dirname(out), { recursive: true });
    const bytes = quantizedTransformer(variant);
    writeFileSync(out, bytes);
    console.log(`wrote ${out} (${bytes.length} bytes)`);
  }
}
