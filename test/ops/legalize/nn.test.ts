/** Convolution, pooling and pad legalizations against float64 references, on random inputs with symbolic and odd shapes. */
import { afterAll, describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { expectClose, type OpInput, ref, type RefTensor, runOp, tensorArg } from '../../helpers/run-op.ts';
import {
  adaptiveAvgPool,
  conv1d,
  conv2d,
  conv2dTranspose,
  type Nd,
  pad,
  type PadMode,
  pool1d,
  pool2d,
} from '../../helpers/reference/nn.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';

const F32 = { rtol: 1e-5, atol: 1e-5 };
const EXACT = { rtol: 0, atol: 0 };

/** Max errors per operator, printed once at the end. */
const worst = new Map<string, { abs: number; rel: number }>();
afterAll(() => {
  for (const [op, e] of worst)
    console.log(`${op}: max abs error ${e.abs.toExponential(2)}, max rel error ${e.rel.toExponential(2)}`);
});

let seed = 1;
/** A random tensor (integers for integer dtypes), never constant. */
function rand(shape: readonly number[], dtype: DataType = 'float32', lo = -1, hi = 1): RefTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = randomArray(n, seed++, lo, hi);
  return ref(shape, dtype, dtype.startsWith('float') ? values : values.map(Math.round));
}

function check(
  op: string,
  inputs: readonly OpInput[],
  attrs: AttrMap,
  expected: Nd,
  tol: { rtol: number; atol: number } = F32,
): void {
  const { outputs } = runOp(op, inputs, attrs);
  const out = outputs[0]!;
  expect(out.shape).toEqual(expected.shape);
  const e = expectClose(out.data, expected.data, tol, `${op} ${JSON.stringify(attrs)}`);
  const w = worst.get(op) ?? { abs: 0, rel: 0 };
  worst.set(op, { abs: Math.max(w.abs, e.abs), rel: Math.max(w.rel, e.rel) });
}

describe('conv2d', () => {
  const cases: {
    name: string;
    x: number[];
    w: number[];
    dims?: (string | number)[];
    strides?: number[];
    pads?: number[];
    dilation?: number[];
    groups?: number;
  }[] = [
    { name: 'same padding, symbolic batch', x: [1, 3, 7, 6], w: [4, 3, 3, 3], dims: ['n', 3, 7, 6], pads: [1, 1, 1, 1] },
    { name: 'no padding, odd kernel', x: [2, 2, 5, 7], w: [3, 2, 2, 3] },
    {
      name: 'strides, asymmetric padding, dilation, symbolic h and w',
      x: [2, 3, 9, 8],
      w: [4, 3, 3, 2],
      dims: ['n', 3, 'h', 'w'],
      strides: [2, 3],
      pads: [1, 0, 2, 1],
      dilation: [2, 1],
    },
    { name: 'groups', x: [1, 4, 5, 5], w: [6, 2, 3, 2], strides: [1, 2], pads: [1, 1, 1, 1], groups: 2 },
    { name: 'depthwise', x: [1, 4, 6, 5], w: [4, 1, 3, 3], pads: [1, 1, 1, 1], groups: 4, dims: ['n', 4, 'h', 'w'] },
    { name: 'depthwise with a channel multiplier', x: [1, 3, 5, 4], w: [6, 1, 3, 3], pads: [2, 1, 0, 1], groups: 3 },
    { name: '1x1 over size-1 dims', x: [1, 3, 1, 7], w: [5, 3, 1, 1] },
    // On WebGPU: several output tiles per dim (the last ones partial) and three channel steps of the conv rule.
    { name: 'several tiles and channel steps', x: [2, 24, 20, 36], w: [40, 24, 3, 3], pads: [1, 1, 1, 1] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const x = rand(c.x);
      const w = rand(c.w);
      const win = { strides: c.strides ?? [1, 1], dilation: c.dilation ?? [1, 1], pads: c.pads ?? [0, 0, 0, 0] };
      const attrs = { strides: win.strides, padding: win.pads, dilation: win.dilation, groups: c.groups ?? 1 };
      check('conv2d', [tensorArg(x, c.dims), tensorArg(w)], attrs, conv2d(x, w, win, c.groups));
    });
  }

  test('float16 sums in float32: 3000 products of one give 3000, where a float16 sum sticks at 2048', () => {
    const ones = (shape: number[]): RefTensor =>
      ref(shape, 'float16', new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(1));
    for (const op of ['conv2d', 'conv2d_transpose']) {
      const w = op === 'conv2d' ? ones([2, 3000, 1, 1]) : ones([3000, 2, 1, 1]);
      const { outputs } = runOp(op, [tensorArg(ones([1, 3000, 2, 2])), tensorArg(w)], {});
      expect(outputs[0]!.dtype).toBe('float16');
      expect([...outputs[0]!.data]).toEqual(new Array(8).fill(3000));
    }
  });

  test('float16 (accumulated in float32; on WebGPU, float16 tiles in workgroup memory)', () => {
    const win = { strides: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1] };
    const x = rand([1, 6, 10, 9], 'float16');
    const w = rand([8, 6, 3, 3], 'float16');
    check('conv2d', [tensorArg(x), tensorArg(w)], { padding: win.pads }, conv2d(x, w, win), { rtol: 1e-2, atol: 1e-2 });
  });

  test('integers, exactly; int8 inputs with an int32 out_dtype', () => {
    const win = { strides: [1, 2], dilation: [1, 1], pads: [1, 1, 1, 1] };
    const attrs = { strides: win.strides, padding: win.pads };
    const x = rand([1, 2, 4, 5], 'int32', -50, 50);
    const w = rand([3, 2, 3, 3], 'int32', -50, 50);
    check('conv2d', [tensorArg(x), tensorArg(w)], attrs, conv2d(x, w, win), EXACT);
    const x8 = rand([1, 2, 4, 5], 'int8', -100, 100);
    const w8 = rand([3, 2, 3, 3], 'int8', -100, 100);
    const { outputs } = runOp('conv2d', [tensorArg(x8), tensorArg(w8)], { ...attrs, out_dtype: 'int32' });
    expect(outputs[0]!.dtype).toBe('int32');
    expectClose(outputs[0]!.data, conv2d(x8, w8, win).data, EXACT, 'conv2d int8 -> int32');
  });
});

describe('conv1d', () => {
  test('strides, padding, dilation, symbolic batch and width', () => {
    const x = rand([2, 3, 11]);
    const w = rand([4, 3, 3]);
    const attrs = { strides: 2, padding: [1, 2], dilation: 2 };
    check('conv1d', [tensorArg(x, ['n', 3, 'w']), tensorArg(w)], attrs, conv1d(x, w, 2, [1, 2], 2));
  });
  test('depthwise, same padding', () => {
    const x = rand([1, 3, 7]);
    const w = rand([3, 1, 3]);
    check('conv1d', [tensorArg(x, ['n', 3, 7]), tensorArg(w)], { padding: 1, groups: 3 }, conv1d(x, w, 1, [1, 1], 1, 3));
  });
  test('groups, width-1 kernel', () => {
    const x = rand([1, 4, 5]);
    const w = rand([6, 2, 1]);
    check('conv1d', [tensorArg(x), tensorArg(w)], { groups: 2 }, conv1d(x, w, 1, [0, 0], 1, 2));
  });
});

describe('conv2d_transpose', () => {
  const cases: {
    name: string;
    x: number[];
    w: number[];
    dims?: (string | number)[];
    strides?: number[];
    pads?: number[];
    dilation?: number[];
    outputPadding?: number[];
    groups?: number;
  }[] = [
    {
      name: 'stride 2, padding 1, output_padding 1',
      x: [1, 4, 3, 4],
      w: [4, 2, 3, 3],
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      outputPadding: [1, 1],
    },
    { name: 'stride 1, symbolic batch', x: [2, 3, 4, 3], w: [3, 2, 2, 3], dims: ['n', 3, 4, 3] },
    {
      name: 'dilation, asymmetric strides and padding, symbolic h and w',
      x: [1, 2, 4, 5],
      w: [2, 3, 3, 2],
      dims: ['n', 2, 'h', 'w'],
      strides: [3, 2],
      pads: [2, 0, 1, 1],
      dilation: [2, 1],
      outputPadding: [1, 0],
    },
    { name: 'groups', x: [1, 4, 3, 3], w: [4, 3, 2, 3], strides: [2, 1], pads: [0, 1, 1, 0], groups: 2 },
    { name: 'depthwise', x: [1, 3, 4, 4], w: [3, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], groups: 3 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const x = rand(c.x);
      const w = rand(c.w);
      const win = { strides: c.strides ?? [1, 1], dilation: c.dilation ?? [1, 1], pads: c.pads ?? [0, 0, 0, 0] };
      const outputPadding = c.outputPadding ?? [0, 0];
      const attrs = {
        strides: win.strides,
        padding: win.pads,
        dilation: win.dilation,
        output_padding: outputPadding,
        groups: c.groups ?? 1,
      };
      check('conv2d_transpose', [tensorArg(x, c.dims), tensorArg(w)], attrs, conv2dTranspose(x, w, win, outputPadding, c.groups));
    });
  }
});

describe('pool2d', () => {
  const cases: {
    name: string;
    x: number[];
    kernel: number[];
    dims?: (string | number)[];
    strides?: number[];
    pads?: number[];
    dilation?: number[];
    ceil?: boolean;
  }[] = [
    { name: '2x2 stride 2', x: [1, 2, 6, 6], kernel: [2, 2], strides: [2, 2], dims: ['n', 2, 6, 6] },
    {
      name: '3x3 stride 2 padding 1, symbolic h and w',
      x: [2, 3, 7, 6],
      kernel: [3, 3],
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      dims: ['n', 3, 'h', 'w'],
    },
    { name: 'ceil_mode', x: [1, 2, 7, 5], kernel: [2, 3], strides: [2, 2], ceil: true },
    { name: 'ceil_mode with padding', x: [1, 2, 6, 7], kernel: [3, 3], strides: [2, 3], pads: [1, 0, 1, 1], ceil: true },
    {
      name: 'dilation, asymmetric padding',
      x: [1, 2, 7, 8],
      kernel: [2, 3],
      strides: [1, 2],
      pads: [0, 2, 1, 1],
      dilation: [2, 2],
    },
    { name: 'size-1 dims', x: [1, 3, 1, 5], kernel: [1, 2], strides: [1, 1] },
  ];
  for (const c of cases) {
    for (const kind of ['max', 'avg'] as const) {
      for (const countIncludePad of kind === 'avg' ? [false, true] : [false]) {
        test(`${kind}${countIncludePad ? ' counting the padding' : ''}: ${c.name}`, () => {
          const x = rand(c.x);
          const p = {
            kernel: c.kernel,
            strides: c.strides ?? [1, 1],
            dilation: c.dilation ?? [1, 1],
            pads: c.pads ?? [0, 0, 0, 0],
            ceil: c.ceil ?? false,
            countIncludePad,
          };
          const attrs = {
            pool_size: p.kernel,
            strides: p.strides,
            padding: p.pads,
            dilation: p.dilation,
            ceil_mode: p.ceil,
            count_include_pad: countIncludePad,
          };
          check(`${kind}_pool2d`, [tensorArg(x, c.dims)], attrs, pool2d(kind, x, p));
        });
      }
    }
  }

  test('integers: max exactly, avg truncating', () => {
    const x = rand([1, 2, 5, 5], 'int32', -100, 100);
    const p = { kernel: [3, 3], strides: [2, 2], dilation: [1, 1], pads: [1, 1, 1, 1] };
    const attrs = { pool_size: p.kernel, strides: p.strides, padding: p.pads };
    check('max_pool2d', [tensorArg(x)], attrs, pool2d('max', x, p), EXACT);
    check('avg_pool2d', [tensorArg(x)], attrs, pool2d('avg', x, { ...p, truncate: true }), EXACT);
  });
});

describe('pool1d', () => {
  const cases = [
    { name: 'stride 2, padding, symbolic width', x: [2, 3, 9], dims: ['n', 3, 'w'], kernel: 3, stride: 2, pads: [1, 1] as const },
    { name: 'ceil_mode, asymmetric padding', x: [1, 2, 8], kernel: 3, stride: 2, pads: [0, 1] as const, ceil: true },
    { name: 'dilation', x: [1, 2, 9], kernel: 2, stride: 1, pads: [2, 0] as const, dilation: 3 },
  ];
  for (const c of cases) {
    for (const kind of ['max', 'avg'] as const) {
      for (const countIncludePad of kind === 'avg' ? [false, true] : [false]) {
        test(`${kind}${countIncludePad ? ' counting the padding' : ''}: ${c.name}`, () => {
          const x = rand(c.x);
          const p = {
            kernel: c.kernel,
            stride: c.stride,
            dilation: c.dilation ?? 1,
            pads: c.pads,
            ceil: c.ceil ?? false,
            countIncludePad,
          };
          const attrs = {
            pool_size: p.kernel,
            strides: p.stride,
            padding: [...p.pads],
            dilation: p.dilation,
            ceil_mode: p.ceil,
            count_include_pad: countIncludePad,
          };
          check(`${kind}_pool1d`, [tensorArg(x, c.dims)], attrs, pool1d(kind, x, p));
        });
      }
    }
  }
});

describe('adaptive_avg_pool', () => {
  const cases2d: { name: string; x: number[]; out: number[] | null; dims?: (string | number)[] }[] = [
    { name: 'uneven windows', x: [1, 3, 7, 5], out: [3, 2] },
    { name: 'even windows, symbolic batch', x: [2, 2, 6, 4], out: [3, 2], dims: ['n', 2, 6, 4] },
    { name: 'global', x: [2, 3, 5, 3], out: [1, 1] },
    { name: 'upsampling windows', x: [1, 2, 3, 2], out: [5, 3] },
    { name: 'symbolic h and w', x: [1, 2, 7, 6], out: [3, 4], dims: ['n', 2, 'h', 'w'] },
    { name: 'no output size keeps the size', x: [1, 2, 3, 4], out: null, dims: ['n', 2, 'h', 'w'] },
  ];
  for (const c of cases2d) {
    test(`2d: ${c.name}`, () => {
      const x = rand(c.x);
      const attrs: AttrMap = c.out ? { output_size: c.out } : {};
      check('adaptive_avg_pool2d', [tensorArg(x, c.dims)], attrs, adaptiveAvgPool(x, c.out ?? c.x.slice(2)));
    });
  }
  test('1d: uneven windows, symbolic width; global', () => {
    const x = rand([2, 3, 10]);
    check('adaptive_avg_pool1d', [tensorArg(x, ['n', 3, 'w'])], { output_size: 4 }, adaptiveAvgPool(x, [4]));
    check('adaptive_avg_pool1d', [tensorArg(x)], { output_size: 1 }, adaptiveAvgPool(x, [1]));
    check('adaptive_avg_pool1d', [tensorArg(x)], { output_size: 3 }, adaptiveAvgPool(x, [3]));
  });
});

describe('pad', () => {
  const modes: PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];
  const cases: { name: string; x: number[]; width: number[]; dims?: (string | number)[] }[] = [
    { name: '1-d', x: [5], width: [2, 3] },
    { name: '2-d, one axis untouched, symbolic', x: [3, 4], width: [0, 0, 1, 2], dims: ['n', 'm'] },
    { name: '4-d spatial padding', x: [1, 2, 3, 4], width: [0, 0, 0, 0, 2, 1, 1, 3], dims: ['n', 2, 'h', 'w'] },
    { name: 'wider than the input (repeated reflection)', x: [2, 3], width: [1, 0, 5, 4] },
    { name: 'size-1 axis', x: [1, 3], width: [2, 1, 0, 1] },
  ];
  for (const c of cases) {
    for (const mode of modes) {
      test(`${mode}: ${c.name}`, () => {
        const x = rand(c.x);
        const attrs = { pad_width: c.width, pad_mode: mode, pad_value: 0.75 };
        check('pad', [tensorArg(x, c.dims)], attrs, pad(x, c.width, mode, 0.75), EXACT);
      });
    }
  }
  for (const mode of modes) {
    test(`${mode}: negative widths crop (after padding, as ONNX Pad)`, () => {
      const x = rand([4, 5]);
      const width = [-1, 2, 1, -2];
      const attrs = { pad_width: width, pad_mode: mode, pad_value: -3 };
      check('pad', [tensorArg(x, ['n', 5])], attrs, pad(x, width, mode, -3), EXACT);
    });
  }
  test('integers', () => {
    const x = rand([3, 4], 'int32', -100, 100);
    check('pad', [tensorArg(x)], { pad_width: [1, 1, 2, 0], pad_value: 7 }, pad(x, [1, 1, 2, 0], 'constant', 7), EXACT);
    check('pad', [tensorArg(x)], { pad_width: [2, 1, 1, 2], pad_mode: 'reflect' }, pad(x, [2, 1, 1, 2], 'reflect'), EXACT);
  });
});

describe('max_pool2d_indices', () => {
  /** The first maximum of each window in window order, as a flat input index (row- or column-major spatially). */
  function reference(x: RefTensor, k: number, s: number, pad: number, columnMajor: boolean): number[] {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const oh = Math.floor((h + 2 * pad - k) / s) + 1;
    const ow = Math.floor((w + 2 * pad - k) / s) + 1;
    const out: number[] = [];
    for (let p = 0; p < n * c; p++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let best = -Infinity;
          let at = [0, 0];
          for (let a = 0; a < k; a++)
            for (let b = 0; b < k; b++) {
              const [y, z] = [i * s - pad + a, j * s - pad + b];
              if (y < 0 || y >= h || z < 0 || z >= w) continue;
              const v = x.data[(p * h + y) * w + z]!;
              if (v > best) [best, at] = [v, [y, z]];
            }
          out.push(p * h * w + (columnMajor ? at[1]! * h + at[0]! : at[0]! * w + at[1]!));
        }
    return out;
  }

  test('picks the first of equal maxima, row- and column-major, with padding and a symbolic batch', () => {
    // Few distinct values, so that windows hold ties.
    const x = ref(
      [2, 2, 5, 6],
      'float32',
      randomArray(120, 7, 0, 4).map((v) => Math.floor(v)),
    );
    for (const columnMajor of [false, true]) {
      const attrs = { pool_size: 3, strides: 2, padding: 1, index_order: columnMajor ? 'column_major' : 'row_major' };
      const got = runOp('max_pool2d_indices', [tensorArg(x, ['n', 2, 5, 6])], attrs);
      expect(Array.from(got.outputs[0]!.data)).toEqual(reference(x, 3, 2, 1, columnMajor));
    }
  });
});
