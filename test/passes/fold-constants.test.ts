/**
 * fold-constants: Before/Expected modules in the text format, and numerics:
 * folded values are bit for bit what the CPU artifact computes at run time,
 * batch_norm folding keeps the vision model within 1e-4 of onnxruntime.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { evaluatePrimFunc } from '../../src/codegen/js/evaluate.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { foldConstants, foldModule } from '../../src/passes/fold-constants.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import { buildAndLoad } from '../helpers/build-run.ts';
import { compareWithOrt } from '../helpers/onnx-oracle.ts';
import { REPO } from '../helpers/workspace.ts';
import { expectPass, expectUnchanged, parse } from './helpers.ts';

const fold = foldConstants({ evaluate: evaluatePrimFunc });

describe('calls of constants', () => {
  test('an operator call of constants becomes its value; calls of inputs stay; dead code goes', () => {
    expectPass(
      fold,
      `
func main(x: Tensor[(n, 3), f32]) -> Tensor[(n, 3), f32] {
  w = permute_dims(const(f32[3, 2], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), axes=[1, 0])
  b = add(w, const(f32[2, 3], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]))
  c = sum(b, axis=[0], keepdims=false)
  y = add(x, c)
  return y
}`,
      `
func main(x: Tensor[(n, 3), f32]) -> Tensor[(n, 3), f32] {
  y = add(x, const(f32[3], [4.0, 8.0, 12.0]))
  return y
}`,
    );
  });

  test('a call_tir of constants after legalize is folded and its kernel removed', () => {
    expectPass(
      fold,
      `
prim_func neg(A: f32[2], B: f32[2]) {
  for i in grid(2) {
    B[i] = 0.0 - A[i]
  }
}
prim_func addk(A: f32[n, 2], C: f32[2], B: f32[n, 2]) {
  for i, j in grid(n, 2) {
    B[i, j] = A[i, j] + C[j]
  }
}
func main(x: Tensor[(n, 2), f32]) -> Tensor[(n, 2), f32] {
  c = call_tir(neg, (const(f32[2], [1.5, -2.0]),), out: Tensor[(2,), f32])
  y = call_tir(addk, (x, c), out: Tensor[(n, 2), f32])
  return y
}`,
      `
prim_func addk(A: f32[n, 2], C: f32[2], B: f32[n, 2]) {
  for i, j in grid(n, 2) {
    B[i, j] = A[i, j] + C[j]
  }
}
func main(x: Tensor[(n, 2), f32]) -> Tensor[(n, 2), f32] {
  y = call_tir(addk, (x, const(f32[2], [-1.5, 2.0])), out: Tensor[(n, 2), f32])
  return y
}`,
    );
  });

  test('nothing to fold: the module comes back as it was', () => {
    expectUnchanged(
      fold,
      `
func main(x: Tensor[(n, 3), f32]) -> Tensor[(n, 3), f32] {
  y = relu(x)
  return y
}`,
    );
  });

  test('a result over max-bytes is left to run time', () => {
    const small = foldConstants({ evaluate: evaluatePrimFunc, maxBytes: 16 });
    expectUnchanged(
      small,
      `
func main(x: Tensor[(8,), f32]) -> Tensor[(8,), f32] {
  b = broadcast_to(const(f32[1], [2.0]), shape(8))
  y = add(x, b)
  return y
}`,
    );
  });

  test('folded values are bit for bit what the artifact computes at run time', async () => {
    const text = `
func main(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {
  e = exp(const(f32[4], [0.1, -1.7, 3.3, 0.77]))
  s = sqrt(e)
  t = tanh(s)
  y = add(x, t)
  return y
}`;
    const before = legalizeModule(parse(text));
    const after = foldModule(before, { evaluate: evaluatePrimFunc });
    expect([...after.functions.keys()].filter((n) => after.functions.get(n)!.kind === 'prim_func')).toHaveLength(1);
    const x = tensor(new Float32Array([0, 1, -2, 0.25]), [4]);
    const run = async (m: IRModule): Promise<Float32Array> =>
      ((await (await buildAndLoad(m)).call('main', x)) as NDArray).data as Float32Array;
    expect(Array.from(await run(after))).toEqual(Array.from(await run(before)));
  });
});

describe('batch_norm into the weights before it', () => {
  test('conv2d + batch_norm becomes conv2d with scaled weights + a per-channel bias', () => {
    expectPass(
      fold,
      `
func main(x: Tensor[(n, 1, 4, 4), f32]) -> Tensor[(n, 2, 4, 4), f32] {
  c = conv2d(x, const(f32[2, 1, 1, 1], [1.0, 2.0]))
  y = batch_norm(c, const(f32[2], [3.0, 1.0]), const(f32[2], [0.5, 0.0]), const(f32[2], [1.0, 0.0]), const(f32[2], [9.0, 0.25]), axis=1, epsilon=0.0)
  return y
}`,
      `
func main(x: Tensor[(n, 1, 4, 4), f32]) -> Tensor[(n, 2, 4, 4), f32] {
  c = conv2d(x, const(f32[2, 1, 1, 1], [1.0, 4.0]))
  y = add(c, const(f32[2, 1, 1], [-0.5, 0.0]))
  return y
}`,
    );
  });

  test('conv2d + bias + batch_norm: the bias is scaled and shifted too', () => {
    expectPass(
      fold,
      `
func main(x: Tensor[(n, 1, 4, 4), f32]) -> Tensor[(n, 2, 4, 4), f32] {
  c = conv2d(x, const(f32[2, 1, 1, 1], [1.0, 2.0]))
  r = reshape(const(f32[2], [1.0, 2.0]), shape(2, 1, 1))
  d = add(c, r)
  y = batch_norm(d, const(f32[2], [3.0, 1.0]), const(f32[2], [0.5, 0.0]), const(f32[2], [1.0, 0.0]), const(f32[2], [9.0, 0.25]), axis=1, epsilon=0.0)
  return y
}`,
      `
func main(x: Tensor[(n, 1, 4, 4), f32]) -> Tensor[(n, 2, 4, 4), f32] {
  c = conv2d(x, const(f32[2, 1, 1, 1], [1.0, 4.0]))
  d = add(c, const(f32[2, 1, 1], [0.5, 4.0]))
  y = d
  return y
}`,
    );
  });

  test('matmul by a constant + batch_norm over the last axis', () => {
    expectPass(
      fold,
      `
func main(x: Tensor[(n, 2), f32]) -> Tensor[(n, 2), f32] {
  m = matmul(x, const(f32[2, 2], [1.0, 2.0, 3.0, 4.0]))
  y = batch_norm(m, const(f32[2], [3.0, 1.0]), const(f32[2], [0.0, 1.0]), const(f32[2], [0.0, 2.0]), const(f32[2], [9.0, 0.25]), axis=1, epsilon=0.0)
  return y
}`,
      `
func main(x: Tensor[(n, 2), f32]) -> Tensor[(n, 2), f32] {
  m = matmul(x, const(f32[2, 2], [1.0, 4.0, 3.0, 8.0]))
  y = add(m, const(f32[2], [0.0, -3.0]))
  return y
}`,
    );
  });

  test('a convolution whose result is used elsewhere too is left alone', () => {
    expectUnchanged(
      fold,
      `
func main(x: Tensor[(n, 1, 4, 4), f32]) -> Tensor[(n, 2, 4, 4), f32] {
  c = conv2d(x, const(f32[2, 1, 1, 1], [1.0, 2.0]))
  y = batch_norm(c, const(f32[2], [3.0, 1.0]), const(f32[2], [0.5, 0.0]), const(f32[2], [1.0, 0.0]), const(f32[2], [9.0, 0.25]), axis=1, epsilon=0.0)
  z = add(y, c)
  return z
}`,
    );
  });

  test('the vision model, folded, still matches onnxruntime within 1e-4 at batch 1 and 3', async () => {
    const bytes = new Uint8Array(readFileSync(join(REPO, 'examples/models/tiny-resnet.onnx')));
    let folded = 0;
    for (const batch of [1, 3]) {
      const [probs] = await compareWithOrt(bytes, [{ name: 'input', shape: [batch, 3, 32, 32] }], {
        seed: batch,
        transform: (m) => {
          const stats = { folded: 0, batchNorms: 0 };
          const out = foldModule(m, { evaluate: evaluatePrimFunc }, stats);
          folded = stats.batchNorms;
          return out;
        },
      });
      expect(probs!.maxRel, `batch ${batch}: max rel ${probs!.maxRel}`).toBeLessThan(1e-4);
    }
    expect(folded).toBe(6);
  });
});
