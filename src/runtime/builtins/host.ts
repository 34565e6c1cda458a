/**
 * What the builtins share: they run on the host, so a tensor of any device is
 * downloaded first and the result goes back to the device its input came from.
 */
import type { DType, TypedArray } from '../dtype.ts';
import { type Device, NDArray, numbersOf, tensor } from '../ndarray.ts';

/** A tensor's elements on the host, as a typed array of its dtype's storage. */
export async function hostElements(t: NDArray): Promise<TypedArray> {
  const host = await t.device.download(t);
  return host.device.hostData ? host.device.hostData(host) : host.data;
}

/** A tensor's elements as numbers (float16/bfloat16 decoded, 64-bit integers rounded). */
export async function hostNumbers(t: NDArray): Promise<number[]> {
  return numbersOf(t.dtype, await hostElements(t));
}

/** The elements of an int64 result, placed on `device`. */
export async function int64Result(device: Device, shape: readonly number[], values: readonly number[]): Promise<NDArray> {
  return device.upload(
    tensor(
      BigInt64Array.from(values, (v) => BigInt(v)),
      shape,
      'int64',
    ),
  );
}

/** A result of `dtype` whose storage elements are already in a typed array, placed on `device`. */
export async function rawResult(device: Device, shape: readonly number[], dtype: DType, data: TypedArray): Promise<NDArray> {
  return device.upload(tensor(data, shape, dtype));
}

/** The attributes a builtin receives as its last argument (JSON, from legalize). */
export function builtinAttrs(json: unknown, name: string): Record<string, unknown> {
  if (typeof json !== 'string') throw new TypeError(`${name}: the last argument must be the attributes as JSON`);
  return JSON.parse(json) as Record<string, unknown>;
}

/** The single tensor argument `i` of a builtin call; anything else is a malformed program. */
export function tensorArg(args: readonly unknown[], i: number, name: string): NDArray {
  const t = args[i];
  if (!(t instanceof NDArray)) throw new TypeError(`${name}: argument ${i} must be a tensor`);
  return t;
}
