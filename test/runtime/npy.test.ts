/** .npy files: round trips for every dtype .npy has, headers of each version, and clear refusals. */
import { describe, expect, test } from 'vitest';
import { tensor } from '../../src/runtime/ndarray.ts';
import { readNpy, writeNpy } from '../../src/runtime/npy.ts';
import type { DType } from '../../src/runtime/dtype.ts';

function npy(header: string, data: Uint8Array, version = 1): Uint8Array {
  const lenBytes = version === 1 ? 2 : 4;
  const pre = 6 + 2 + lenBytes;
  let h = header;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  out.set(data, pre + h.length);
  return out;
}

describe('npy', () => {
  const cases: [DType, number[]][] = [
    ['float32', [1.5, -2, 0.25, 3]],
    ['float64', [1e-300, -2, Math.PI, 3]],
    ['float16', [1.5, -2, 0.25, 65504]],
    ['int8', [-128, 127, 0, 5]],
    ['int32', [-5, 2 ** 31 - 1, 0, 7]],
    ['int64', [-5, 2 ** 40, 0, 7]],
    ['uint8', [0, 255, 3, 4]],
    ['bool', [0, 1, 1, 0]],
  ];
  for (const [dtype, values] of cases) {
    test(`${dtype} round trips with its shape`, () => {
      const t = tensor(values, [2, 2], dtype);
      const back = readNpy(writeNpy(t));
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 2]);
      expect(back.toNumbers()).toEqual(values);
    });
  }

  test('0-d and 1-d shapes, and headers of version 2', () => {
    expect(readNpy(writeNpy(tensor([7], [], 'int32'))).shape).toEqual([]);
    expect(readNpy(writeNpy(tensor([1, 2, 3], [3], 'int32'))).shape).toEqual([3]);
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const t = readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, 2));
    expect(t.toNumbers()).toEqual([1, 2]);
  });

  test('refusals say what is wrong', () => {
    const data = new Uint8Array(8);
    expect(() => readNpy(new Uint8Array([1, 2, 3]), 'x.npy')).toThrow('x.npy: not a .npy file');
    expect(() => readNpy(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data))).toThrow('big-endian');
    expect(() => readNpy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data))).toThrow('Fortran-order');
    expect(() => readNpy(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data))).toThrow(
      "dtype '<c8' is not supported",
    );
    expect(() => readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", data))).toThrow(
      'the data is cut short',
    );
  });
});
