/**
 * Zod building blocks for operator attributes. Each normalizes to one
 * canonical spelling (a single axis becomes a list of one, `f32` becomes
 * `float32`, 1 or 2 padding values become all four) so equal calls get
 * equal attributes, and each canonical output parses back to itself.
 */
import { z } from 'zod';
import { type DataType, parseDataType } from '../ir/dtype.ts';

export const NO_ATTRS_SCHEMA = z.object({});

/** A single (possibly negative) axis. */
export function axis(def: number) {
  return z.int().default(def);
}

/** A single axis, or null for "no axis" (ops that then work on the flattened tensor). */
export function optionalAxis() {
  return z.int().nullable().default(null);
}

const intList = z.union([z.int(), z.array(z.int())], { error: 'expected an integer or a list of integers' });

function asList(v: number | number[]): number[] {
  return typeof v === 'number' ? [v] : v;
}

/** A list of axes (one integer stands for a list of one) or null for all axes. */
export function optionalAxes() {
  return intList
    .nullable()
    .default(null)
    .transform((v) => (v === null ? null : asList(v)));
}

/** A list of axes with a default list. */
export function axes(def: readonly number[]) {
  return intList.default([...def]).transform(asList);
}

/** A list of integers, as is (pad widths, repeats). */
export function ints(def?: readonly number[]) {
  const base = z.array(z.int());
  return def === undefined ? base : base.default([...def]);
}

const dtypeName = z.string().transform((name, ctx): DataType => {
  const t = parseDataType(name);
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown dtype '${name}'` });
    return z.NEVER;
  }
  return t;
});

/** A dtype (long or short spelling, stored long), with a default, or required when there is none. */
export function dtype(def?: DataType) {
  return def === undefined ? dtypeName : dtypeName.default(def);
}

/** A dtype, or null for "the dtype the inputs give". */
export function optionalDtype() {
  return dtypeName.nullable().default(null);
}

/** One value per spatial dim (one integer stands for all of them), each at least `min`. */
export function spatial(nd: number, def: number, min: number) {
  const error = `expected an integer >= ${min} or a list of ${nd} such integers`;
  const v = z.int({ error }).min(min, { error });
  return z
    .union([v, z.array(v, { error }).length(nd, { error })], { error })
    .default(Array.from({ length: nd }, () => def))
    .transform((x) => (typeof x === 'number' ? Array.from({ length: nd }, () => x) : x));
}

/**
 * Padding of `nd` spatial dims as 2·nd values: all befores, then all afters
 * (for 2-D: top, left, bottom, right). One value pads everything; nd values
 * pad both sides of each dim alike.
 */
export function padding(nd: number) {
  const lengths = nd === 1 ? '1 or 2' : `1, ${nd} or ${2 * nd}`;
  const error = `expected a non-negative integer or a list of ${lengths} of them`;
  const v = z.int({ error }).min(0, { error });
  return z
    .union([v, z.array(v, { error }).refine((xs) => xs.length === 1 || xs.length === nd || xs.length === 2 * nd, { error })], {
      error,
    })
    .default(Array.from({ length: 2 * nd }, () => 0))
    .transform((x) => {
      const xs = typeof x === 'number' ? [x] : x;
      if (xs.length === 2 * nd) return xs;
      const half = xs.length === 1 ? Array.from({ length: nd }, () => xs[0]!) : xs;
      return [...half, ...half];
    });
}

/** A finite number with a default (epsilon, alpha, ...). */
export function num(def: number) {
  return z.number().default(def);
}

export function flag(def: boolean) {
  return z.boolean().default(def);
}

/** One of a fixed set of strings. */
export function choice<const T extends readonly [string, ...string[]]>(values: T, def: T[number]) {
  return z.enum(values).default(def);
}

/** A list of axes with no default (one integer stands for a list of one). */
export function requiredAxes() {
  return intList.transform(asList);
}
