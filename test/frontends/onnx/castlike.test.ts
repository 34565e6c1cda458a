/**
 * CastLike's `like` input: only its element type is read, so a graph input used only there
 * (or not used at all) takes any shape. ONNX 1.12's bfloat16 CastLike tests declare `like`
 * as [3, 4] and feed a single element; the run used to fail with "parameter 'like' has
 * rank 1 (shape [1]), expected rank 2".
 */
import { describe, expect, test } from 'vitest';
import { encodeModel, type NodeSpec } from '../../../scripts/onnx-writer.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { printModule } from '../../../src/ir/text/printer.ts';
import { tensor, type NDArray } from '../../../src/runtime/ndarray.ts';
import { buildAndLoad } from '../../helpers/build-run.ts';

const castLike = (nodes: NodeSpec[], likeElem: number, outElem: number): Uint8Array =>
  encodeModel({
    opset: 17,
    producer: 'test',
    graphName: 'g',
    inputs: [
      { name: 'input', elemType: 1, dims: [3, 4] },
      { name: 'like', elemType: likeElem, dims: [3, 4] },
    ],
    outputs: [{ name: 'output', elemType: outElem, dims: [3, 4] }],
    initializers: [],
    nodes,
  });

describe('CastLike', () => {
  test("'like' declared [3, 4] takes one element (to bfloat16, rounded to nearest even)", async () => {
    const bytes = castLike([{ op: 'CastLike', inputs: ['input', 'like'], outputs: ['output'] }], 16, 16);
    const m = importOnnx(bytes);
    expect(printModule(m)).toContain('like: Tensor[bf16]');
    const kiln = await buildAndLoad(m);
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even is 1; 1 + 3 * 2^-8 rounds up to 1 + 2^-6.
    const x = [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.5, 0.1, 3, 4, 5, 6, 7, 8, 9];
    const out = (await kiln.call('main', tensor(x, [3, 4]), tensor([0], [1], 'bfloat16'))) as NDArray;
    expect(out.dtype).toBe('bfloat16');
    expect(out.toNumbers().slice(0, 5)).toEqual([1, 1, 1 + 2 ** -6, -2.5, 0.10009765625]);
  });

  test("the expanded form (a Cast that leaves 'like' unread) takes it in any shape too", async () => {
    const bytes = castLike([{ op: 'Cast', inputs: ['input'], outputs: ['output'], attrs: { to: 11 } }], 11, 11);
    const kiln = await buildAndLoad(importOnnx(bytes));
    const out = (await kiln.call(
      'main',
      tensor([1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 4]),
      tensor([0], [1], 'float64'),
    )) as NDArray;
    expect(out.dtype).toBe('float64');
    expect(out.toNumbers()[0]).toBe(1.5);
  });

  test('an input that a node reads keeps its declared shape', () => {
    const bytes = castLike([{ op: 'Add', inputs: ['input', 'like'], outputs: ['output'] }], 1, 1);
    expect(printModule(importOnnx(bytes))).toContain('like: Tensor[(3, 4), f32]');
  });
});
