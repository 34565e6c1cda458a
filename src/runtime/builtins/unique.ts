/**
 * kiln.unique: ONNX Unique (numpy's unique with return_index, return_inverse
 * and return_counts): the distinct elements — or, with an axis, the distinct
 * slices along it, compared element by element — sorted ascending or in order
 * of first appearance.
 */
import { isBigIntDType } from '../dtype.ts';
import { numbersOf } from '../ndarray.ts';
import type { Value } from '../values.ts';
import { builtinAttrs, hostElements, int64Result, rawResult, tensorArg } from './host.ts';

type Key = number | bigint;

/** NaN sorts after every number and equals itself, as in numpy. */
function compareKeys(a: Key, b: Key): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function unique(...args: Value[]): Promise<Value> {
  const x = tensorArg(args, 0, 'kiln.unique');
  const attrs = builtinAttrs(args[1], 'kiln.unique');
  const raw = await hostElements(x);
  const keys: readonly Key[] = isBigIntDType(x.dtype) ? Array.from(raw as BigInt64Array) : numbersOf(x.dtype, raw);

  // Slices along the axis: `length` of them, each `outer` runs of `inner` elements.
  const axis = typeof attrs.axis === 'number' ? (attrs.axis + x.shape.length) % x.shape.length : null;
  const length = axis === null ? keys.length : x.shape[axis]!;
  const outer = axis === null ? 1 : x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = axis === null ? 1 : x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const at = (slice: number, k: number): number => (Math.floor(k / inner) * length + slice) * inner + (k % inner);
  const width = outer * inner;
  const compareSlices = (a: number, b: number): number => {
    for (let k = 0; k < width; k++) {
      const c = compareKeys(keys[at(a, k)]!, keys[at(b, k)]!);
      if (c !== 0) return c;
    }
    return 0;
  };

  // Equal slices end up next to each other, the first occurrence first (the sort is stable).
  const order = Array.from({ length }, (_, i) => i).sort((a, b) => compareSlices(a, b) || a - b);
  const groups: { first: number; members: number[] }[] = [];
  for (const i of order) {
    const last = groups[groups.length - 1];
    if (last && compareSlices(last.first, i) === 0) last.members.push(i);
    else groups.push({ first: i, members: [i] });
  }
  if (attrs.sorted === false) groups.sort((a, b) => a.first - b.first);

  const inverse = new Array<number>(length);
  groups.forEach((g, pos) => g.members.forEach((m) => (inverse[m] = pos)));
  const values = new (raw.constructor as new (n: number) => typeof raw)(groups.length * width);
  groups.forEach((g, pos) => {
    for (let k = 0; k < width; k++) {
      const dst = axis === null ? pos : (Math.floor(k / inner) * groups.length + pos) * inner + (k % inner);
      values[dst] = raw[at(g.first, k)]!;
    }
  });
  const shape = axis === null ? [groups.length] : x.shape.map((d, i) => (i === axis ? groups.length : d));
  const u = [groups.length];
  return [
    await rawResult(x.device, shape, x.dtype, values),
    await int64Result(
      x.device,
      u,
      groups.map((g) => g.first),
    ),
    await int64Result(x.device, [length], inverse),
    await int64Result(
      x.device,
      u,
      groups.map((g) => g.members.length),
    ),
  ];
}
