/** Constant integer intervals [min, max]; ±Infinity for an unknown end. */

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

export function addI(a: Interval, b: Interval): Interval {
  return { min: safeAdd(a.min, b.min, -Infinity), max: safeAdd(a.max, b.max, Infinity) };
}

export function negI(a: Interval): Interval {
  return { min: -a.max, max: -a.min };
}

export function scaleI(a: Interval, k: number): Interval {
  if (k === 0) return point(0);
  const x = mulEnd(a.min, k);
  const y = mulEnd(a.max, k);
  return k > 0 ? { min: x, max: y } : { min: y, max: x };
}

export function mulI(a: Interval, b: Interval): Interval {
  const c = [mulEnd(a.min, b.min), mulEnd(a.min, b.max), mulEnd(a.max, b.min), mulEnd(a.max, b.max)];
  return { min: Math.min(...c), max: Math.max(...c) };
}

/** floor(a / c) for a constant c > 0. */
export function floorDivI(a: Interval, c: number): Interval {
  return { min: Math.floor(a.min / c), max: Math.floor(a.max / c) };
}

/** a mod c for a constant c > 0 (floor semantics): within [0, c), exact when a lies in one period. */
export function floorModI(a: Interval, c: number): Interval {
  if (Number.isFinite(a.min) && Number.isFinite(a.max) && Math.floor(a.min / c) === Math.floor(a.max / c)) {
    const base = Math.floor(a.min / c) * c;
    return { min: a.min - base, max: a.max - base };
  }
  return { min: 0, max: c - 1 };
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

/** 0 × ∞ is 0 here: a term that is certainly zero stays zero. */
function mulEnd(x: number, y: number): number {
  if (x === 0 || y === 0) return 0;
  return x * y;
}

function safeAdd(x: number, y: number, whenConflict: number): number {
  const s = x + y;
  return Number.isNaN(s) ? whenConflict : s;
}
