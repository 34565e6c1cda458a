/**
 * Runs one PrimFunc at build time through the JavaScript kernel the js target
 * emits for it, so a value computed here is bit for bit what the artifact
 * computes on the CPU. Constant folding uses it.
 */
import { byteSize, type DataType } from '../../ir/dtype.ts';
import type { PrimFunc } from '../../ir/tir/stmt.ts';
import { helperSources } from './helpers.ts';
import { emitKernel } from './kernel.ts';

/** A tensor at build time: its dtype, static shape and little-endian bytes. */
export interface HostTensor {
  readonly dtype: DataType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

type TypedArrayCtor = new (buffer: ArrayBuffer) => ArrayLike<unknown> & { readonly buffer: ArrayBuffer };

const STORAGE: Record<DataType, TypedArrayCtor> = {
  bool: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
};

interface KernelTensor {
  readonly dtype: DataType;
  readonly shape: readonly number[];
  readonly data: ArrayLike<unknown> & { readonly buffer: ArrayBuffer };
}

function kernelTensor(dtype: DataType, shape: readonly number[], bytes?: Uint8Array): KernelTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const buffer = new ArrayBuffer(n * byteSize(dtype));
  if (bytes) new Uint8Array(buffer).set(bytes);
  return { dtype, shape, data: new STORAGE[dtype](buffer) };
}

/**
 * Calls `f` (kernel `name`, for messages) on `inputs` (tensors, or numbers for
 * scalar parameters) followed by fresh `outputs`, then `scalars` (tir_vars);
 * returns the outputs' bytes.
 */
export function evaluatePrimFunc(
  name: string,
  f: PrimFunc,
  inputs: readonly (HostTensor | number)[],
  outputs: readonly { readonly dtype: DataType; readonly shape: readonly number[] }[],
  scalars: readonly number[] = [],
): Uint8Array[] {
  const k = emitKernel(name, f, 'kernel');
  const source = [...helperSources(k.helpers), k.source, 'return kernel;'].join('\n\n');
  // The kernel is code Kiln generated from the module, run at build time as the artifact would run it.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
  const fn = new Function(source)() as (a: unknown[]) => void;
  const outs = outputs.map((o) => kernelTensor(o.dtype, o.shape));
  const args: unknown[] = inputs.map((x) => (typeof x === 'number' ? x : kernelTensor(x.dtype, x.shape, x.bytes)));
  fn([...args, ...outs, ...scalars]);
  return outs.map((o) => new Uint8Array(o.data.buffer));
}
