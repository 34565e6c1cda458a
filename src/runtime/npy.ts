/**
 * NumPy's .npy format (version 1.0 to 3.0), the tensor file format of
 * `kiln run`: little-endian, C order, the dtypes Kiln has.
 */
import { type DType, storageOf } from './dtype.ts';
import { NDArray, sizeOf, cpu } from './ndarray.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, DType> = {
  '|b1': 'bool',
  '|i1': 'int8',
  '<i2': 'int16',
  '<i4': 'int32',
  '<i8': 'int64',
  '|u1': 'uint8',
  '<u2': 'uint16',
  '<u4': 'uint32',
  '<u8': 'uint64',
  '<f2': 'float16',
  '<f4': 'float32',
  '<f8': 'float64',
};

const DESCR_OF = Object.fromEntries(Object.entries(DESCR).map(([k, v]) => [v, k])) as Partial<Record<DType, string>>;

/** Parses a .npy file; `what` (a file name) starts the error messages. */
export function readNpy(bytes: Uint8Array, what = 'npy'): NDArray {
  const bad = (problem: string): never => {
    throw new Error(`${what}: ${problem}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad('not a .npy file (the magic string \\x93NUMPY is missing)');
  const major = bytes[6]!;
  if (major < 1 || major > 3) bad(`unsupported .npy version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) bad('the header is cut short');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) bad(`cannot parse the header ${header.trim()}`);
  const normalized = descr!.replace(/^=/, '<').replace(/^\|(?=[iuf][248])/, '<');
  const dtype = DESCR[normalized] ?? DESCR[normalized.replace(/^</, '|')];
  if (!dtype) {
    bad(
      descr!.startsWith('>')
        ? `big-endian data (${descr}) is not supported; save it little-endian`
        : `dtype '${descr}' is not supported (supported: ${Object.keys(DESCR).join(' ')})`,
    );
  }
  if (fortran === 'True') bad('Fortran-order arrays are not supported; save it with np.ascontiguousarray');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(d) || d < 0) bad(`invalid dimension '${s}'`);
      return d;
    });
  const Storage = storageOf(dtype!);
  const count = sizeOf(shape);
  const dataStart = start + headerLen;
  const byteLength = count * Storage.BYTES_PER_ELEMENT;
  if (bytes.length - dataStart < byteLength) {
    bad(`the data is cut short: shape (${shape.join(', ')}) needs ${byteLength} bytes, the file has ${bytes.length - dataStart}`);
  }
  const copy = bytes.slice(dataStart, dataStart + byteLength);
  return new NDArray(shape, dtype!, cpu, new Storage(copy.buffer, 0, count));
}

/** Serializes a CPU tensor as .npy (version 1.0). */
export function writeNpy(t: NDArray): Uint8Array {
  const descr = DESCR_OF[t.dtype];
  if (!descr) throw new Error(`.npy cannot hold dtype ${t.dtype}`);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The header ends with a newline and pads the data start to a multiple of 64 bytes.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad === 64 ? 0 : pad) + '\n';
  const data = t.data;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
