/**
 * Constant integer intervals [min, max]; ±Infinity for an unknown end.
 *
 * Ends are exact integers. Past 2^53 a double rounds, possibly to the wrong
 * side of the true end, so such an end is widened to infinity instead.
 */
import { type DataType, intRange, isBool, isInt } from '../dtype.ts';

export interface Interval {
  readonly min: number;
  readonly max: number;
}

export const EVERYTHING: Interval = { min: -Infinity, max: Infinity };

export function interval(min: number, max: number): Interval {
  return { min, max };
}

export function point(v: number): Interval {
  return { min: v, max: v };
}

export function isPoint(a: Interval): boolean {
  return a.min === a.max && Number.isFinite(a.min);
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** A computed lower end that is still a lower bound: a rounded negative one may be too high. */
function low(x: number): number {
  if (x < -SAFE) return -Infinity;
  return x > SAFE ? SAFE : x;
}

/** A computed upper end that is still an upper bound. */
function high(x: number): number {
  if (x > SAFE) return Infinity;
  return x < -SAFE ? -SAFE : x;
}

function exact(min: number, max: number): Interval {
  return { min: low(min), max: high(max) };
}

export function addI(a: Interval, b: Interval): Interval {
  return exact(safeAdd(a.min, b.min, -Infinity), safeAdd(a.max, b.max, Infinity));
}

export function negI(a: Interval): Interval {
  return { min: -a.max, max: -a.min };
}

export function scaleI(a: Interval, k: number): Interval {
  if (k === 0) return point(0);
  const x = mulEnd(a.min, k);
  const y = mulEnd(a.max, k);
  return k > 0 ? exact(x, y) : exact(y, x);
}

export function mulI(a: Interval, b: Interval): Interval {
  const c = [mulEnd(a.min, b.min), mulEnd(a.min, b.max), mulEnd(a.max, b.min), mulEnd(a.max, b.max)];
  return exact(Math.min(...c), Math.max(...c));
}

/**
 * floor(x / c) for integers; Math.floor of the double quotient is exact
 * here: for |x| < 2^53 the quotient's rounding error is below 1/|c|, its
 * distance from any integer it is not equal to.
 */
export function floorDivNum(x: number, c: number): number {
  return Math.floor(x / c);
}

/** floor(a / c) for a constant c > 0. */
export function floorDivI(a: Interval, c: number): Interval {
  return { min: floorDivNum(a.min, c), max: floorDivNum(a.max, c) };
}

/** a mod c for a constant c > 0 (floor semantics): within [0, c), exact when a lies in one period. */
export function floorModI(a: Interval, c: number): Interval {
  if (Number.isFinite(a.min) && Number.isFinite(a.max) && floorDivNum(a.min, c) === floorDivNum(a.max, c)) {
    const base = floorDivNum(a.min, c) * c;
    return { min: a.min - base, max: a.max - base };
  }
  return { min: 0, max: c - 1 };
}

/** trunc(a / c) for a constant c > 0. */
export function truncDivI(a: Interval, c: number): Interval {
  return { min: Math.trunc(a.min / c) || 0, max: Math.trunc(a.max / c) || 0 };
}

/**
 * floor(a / b) for b within [1, ∞): the extremes lie at the corners when
 * everything is finite; otherwise the quotient lies between 0 and a.
 */
export function floorDivByI(a: Interval, b: Interval): Interval {
  if ([a.min, a.max, b.min, b.max].every(Number.isFinite)) {
    const c = [floorDivNum(a.min, b.min), floorDivNum(a.min, b.max), floorDivNum(a.max, b.min), floorDivNum(a.max, b.max)];
    return { min: Math.min(...c), max: Math.max(...c) };
  }
  return { min: Math.min(0, a.min), max: Math.max(0, a.max) };
}

export function minI(a: Interval, b: Interval): Interval {
  return { min: Math.min(a.min, b.min), max: Math.min(a.max, b.max) };
}

export function maxI(a: Interval, b: Interval): Interval {
  return { min: Math.max(a.min, b.min), max: Math.max(a.max, b.max) };
}

export function unionI(a: Interval, b: Interval): Interval {
  return { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

export function intersectI(a: Interval, b: Interval): Interval {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}

/** Whether every value of a lies in b. */
export function withinI(a: Interval, b: Interval): boolean {
  return a.min >= b.min && a.max <= b.max;
}

/** A quotient rounded toward zero, of a by a divisor of at least 1, lies between 0 and a. */
export function towardZero(a: Interval): Interval {
  return interval(Math.min(0, a.min), Math.max(0, a.max));
}

/** The smallest 2^k - 1 at or above x ≥ 0. */
export function allOnesAbove(x: number): number {
  if (!Number.isFinite(x)) return Infinity;
  let p = 1;
  while (p <= x) p *= 2;
  return p - 1;
}

/** The values of an integer type as an interval, with int64 and uint64 open-ended. */
export function dtypeBound(t: DataType): Interval {
  if (t === 'int64') return EVERYTHING;
  if (t === 'uint64') return interval(0, Infinity);
  return isInt(t) || isBool(t) ? typeRange(t) : EVERYTHING;
}

/** The values of an integer or bool type, 64-bit ends included (approximately). */
export function typeRange(t: DataType): Interval {
  const r = intRange(t);
  return interval(r.min, r.max);
}

/** 0 × ∞ is 0 here: a term that is certainly zero stays zero. */
function mulEnd(x: number, y: number): number {
  if (x === 0 || y === 0) return 0;
  return x * y;
}

function safeAdd(x: number, y: number, whenConflict: number): number {
  const s = x + y;
  return Number.isNaN(s) ? whenConflict : s;
}
