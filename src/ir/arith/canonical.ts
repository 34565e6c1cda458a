/**
 * The canonical form of integer expressions: a constant plus a sum of
 * monomials with integer coefficients. A monomial is a product of atoms; an
 * atom is anything that is not +, - or × (a variable, `x floordiv 3`,
 * `min(a, b)`, a load, a cast, ...).
 *
 * Two expressions that are equal as polynomials have the same canonical
 * form, so `n*4 - 4*n` is `0` and `(a + b) * 2` is `a*2 + b*2`.
 */
import { type DataType } from '../dtype.ts';
import { intrinsicInfo } from '../prim/intrinsics.ts';
import { add, binary, boolImm, type CompareOp, intImm, mul, type PrimExpr, type PrimVar, sub } from '../prim/expr.ts';

export interface Monomial {
  /** Atoms in key order, repeated for powers. */
  readonly atoms: readonly PrimExpr[];
  readonly key: string;
}

export interface Term {
  readonly mono: Monomial;
  readonly coeff: number;
}

export interface Sum {
  readonly dtype: DataType;
  readonly base: number;
  /** Monomial key → term; no zero coefficients. */
  readonly terms: ReadonlyMap<string, Term>;
}

/** Thrown when a coefficient leaves the safe-integer range; callers keep the expression as it was. */
export class CanonicalOverflow extends Error {}

function safe(x: number): number {
  if (!Number.isSafeInteger(x)) throw new CanonicalOverflow();
  return x === 0 ? 0 : x;
}

// --- atom keys ----------------------------------------------------------------

let nextVarId = 0;
const varIds = new WeakMap<PrimVar, number>();
const keyCache = new WeakMap<PrimExpr, string>();

function varId(v: PrimVar): number {
  let id = varIds.get(v);
  if (id === undefined) {
    id = nextVarId++;
    varIds.set(v, id);
  }
  return id;
}

/**
 * A key that identifies an atom: equal keys mean the same expression.
 * Variables sort by name first, so canonical output does not depend on the
 * order in which variables were created; the id breaks ties between
 * different variables of one name.
 */
export function atomKey(e: PrimExpr): string {
  const cached = keyCache.get(e);
  if (cached !== undefined) return cached;
  let k: string;
  switch (e.kind) {
    case 'var':
      k = `$${e.name}#${varId(e)}`;
      break;
    case 'int':
    case 'float':
      k = `(${e.kind} ${e.dtype} ${Object.is(e.value, -0) ? '-0' : String(e.value)})`;
      break;
    case 'bool':
      k = `(bool ${e.value})`;
      break;
    case 'binary':
      k = `(${e.op} ${atomKey(e.a)} ${atomKey(e.b)})`;
      break;
    case 'not':
      k = `(not ${atomKey(e.a)})`;
      break;
    case 'select':
      k = `(select ${atomKey(e.cond)} ${atomKey(e.t)} ${atomKey(e.f)})`;
      break;
    case 'cast':
      k = `(cast ${e.dtype} ${atomKey(e.value)})`;
      break;
    case 'call':
      // A call with effects is its own value: barrier() - barrier() is not 0.
      k =
        intrinsicInfo(e.op).pure === false ? `(call ${e.op} @${objectId(e)})` : `(call ${e.op} ${e.args.map(atomKey).join(' ')})`;
      break;
    case 'load':
      k = `(load ${bufferKey(e.buffer)} ${e.indices.map(atomKey).join(' ')})`;
      break;
  }
  keyCache.set(e, k);
  return k;
}

let nextObjectId = 0;
const objectIds = new WeakMap<object, number>();
/** A number that identifies an object (a buffer, a call with effects) for as long as it lives. */
function objectId(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return id;
}

function bufferKey(b: { name: string }): string {
  return `${b.name}#${objectId(b)}`;
}

// --- construction ---------------------------------------------------------------

const EMPTY = new Map<string, Term>();

export function constSum(value: number, dtype: DataType): Sum {
  return { dtype, base: safe(value), terms: EMPTY };
}

function monomial(atoms: PrimExpr[]): Monomial {
  const keyed = atoms.map((a) => ({ a, k: atomKey(a) })).sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
  return { atoms: keyed.map((x) => x.a), key: keyed.map((x) => x.k).join('*') };
}

export function atomSum(atom: PrimExpr, coeff = 1): Sum {
  const mono = monomial([atom]);
  return { dtype: atom.dtype, base: 0, terms: new Map([[mono.key, { mono, coeff }]]) };
}

export function isConst(s: Sum): boolean {
  return s.terms.size === 0;
}

export function isZero(s: Sum): boolean {
  return s.terms.size === 0 && s.base === 0;
}

/** The sum of one term. */
export function termSum(t: Term, dtype: DataType): Sum {
  return { dtype, base: 0, terms: new Map([[t.mono.key, t]]) };
}

export function addSums(a: Sum, b: Sum, scaleB = 1): Sum {
  const terms = new Map(a.terms);
  for (const [k, t] of b.terms) {
    const c = safe((terms.get(k)?.coeff ?? 0) + t.coeff * scaleB);
    if (c === 0) terms.delete(k);
    else terms.set(k, { mono: t.mono, coeff: c });
  }
  return { dtype: a.dtype, base: safe(a.base + b.base * scaleB), terms };
}

export function scaleSum(a: Sum, k: number): Sum {
  if (k === 0) return constSum(0, a.dtype);
  if (k === 1) return a;
  const terms = new Map<string, Term>();
  for (const [key, t] of a.terms) terms.set(key, { mono: t.mono, coeff: safe(t.coeff * k) });
  return { dtype: a.dtype, base: safe(a.base * k), terms };
}

export function mulSums(a: Sum, b: Sum): Sum {
  if (isConst(a)) return scaleSum(b, a.base);
  if (isConst(b)) return scaleSum(a, b.base);
  let out = constSum(safe(a.base * b.base), a.dtype);
  out = addSums(out, scaleSum(withoutBase(b), a.base));
  out = addSums(out, scaleSum(withoutBase(a), b.base));
  for (const ta of a.terms.values()) {
    for (const tb of b.terms.values()) {
      const mono = monomial([...ta.mono.atoms, ...tb.mono.atoms]);
      out = addSums(out, { dtype: a.dtype, base: 0, terms: new Map([[mono.key, { mono, coeff: safe(ta.coeff * tb.coeff) }]]) });
    }
  }
  return out;
}

/** The sum with the constant part removed. */
export function withoutBase(s: Sum): Sum {
  return s.base === 0 ? s : { ...s, base: 0 };
}

/** The single atom of a sum that is exactly `1 * atom`, if it is one. */
export function asSingleAtom(s: Sum): PrimExpr | undefined {
  if (s.base !== 0 || s.terms.size !== 1) return undefined;
  const t = s.terms.values().next().value!;
  return t.coeff === 1 && t.mono.atoms.length === 1 ? t.mono.atoms[0] : undefined;
}

export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The gcd of the coefficients, without the constant (0 for a constant sum). */
export function coeffGcd(s: Sum): number {
  let g = 0;
  for (const t of s.terms.values()) g = gcd(g, t.coeff);
  return g;
}

/** The gcd of all coefficients and the constant (0 for the zero sum). */
export function contentOf(s: Sum): number {
  let g = Math.abs(s.base);
  for (const t of s.terms.values()) g = gcd(g, t.coeff);
  return g;
}

/** Divides every coefficient and the constant by k, which must divide them all. */
export function divideExact(s: Sum, k: number): Sum {
  const terms = new Map<string, Term>();
  for (const [key, t] of s.terms) terms.set(key, { mono: t.mono, coeff: t.coeff / k });
  return { dtype: s.dtype, base: safe(s.base / k), terms };
}

/**
 * s / d when d is a single monomial (with a coefficient) dividing every term
 * of s exactly and s has no constant part: `(b*s*h*d) / (b*s*h)` is `d`.
 */
export function divideByMonomial(s: Sum, d: Sum): Sum | undefined {
  if (d.base !== 0 || d.terms.size !== 1 || s.base !== 0) return undefined;
  const dt = d.terms.values().next().value!;
  let out = constSum(0, s.dtype);
  for (const t of s.terms.values()) {
    if (t.coeff % dt.coeff !== 0) return undefined;
    const rest = [...t.mono.atoms];
    for (const a of dt.mono.atoms) {
      const key = atomKey(a);
      const i = rest.findIndex((x) => atomKey(x) === key);
      if (i < 0) return undefined;
      rest.splice(i, 1);
    }
    const term =
      rest.length === 0 ? constSum(t.coeff / dt.coeff, s.dtype) : scaleSum(productSum(rest, s.dtype), t.coeff / dt.coeff);
    out = addSums(out, term);
  }
  return out;
}

/** k when s == k * d for a constant k ≠ 0, else undefined. */
export function constantRatio(s: Sum, d: Sum): number | undefined {
  if (isConst(d)) return undefined;
  const first = d.terms.values().next().value!;
  const other = s.terms.get(first.mono.key);
  if (!other || other.coeff % first.coeff !== 0) return undefined;
  const k = other.coeff / first.coeff;
  const diff = addSums(s, d, -k);
  return isConst(diff) && diff.base === 0 ? k : undefined;
}

/** The product of atoms, as a sum of one term with coefficient 1. */
export function productSum(atoms: readonly PrimExpr[], dtype: DataType): Sum {
  if (atoms.length === 0) return constSum(1, dtype);
  const mono = monomial([...atoms]);
  return { dtype, base: 0, terms: new Map([[mono.key, { mono, coeff: 1 }]]) };
}

// --- back to expressions -------------------------------------------------------

function monoExpr(m: Monomial): PrimExpr {
  return m.atoms.reduce((acc, a) => mul(acc, a));
}

function sortedTerms(s: Sum): Term[] {
  return [...s.terms.values()].sort((x, y) => {
    const dx = x.mono.atoms.length;
    const dy = y.mono.atoms.length;
    if (dx !== dy) return dy - dx;
    return x.mono.key < y.mono.key ? -1 : x.mono.key > y.mono.key ? 1 : 0;
  });
}

/** The term that `sumToExpr` writes first, if there is one. */
export function leadingTerm(s: Sum): Term | undefined {
  return sortedTerms(s)[0];
}

/**
 * The canonical expression: positive terms first (higher degree first, then
 * by key), negative terms subtracted, the constant last; coefficients on the
 * right (`n * 4`).
 */
export function sumToExpr(s: Sum): PrimExpr {
  const dtype = s.dtype;
  const terms = sortedTerms(s);
  if (terms.length === 0) return intImm(s.base, dtype);
  const scaled = (t: Term, k: number): PrimExpr => (k === 1 ? monoExpr(t.mono) : mul(monoExpr(t.mono), intImm(k, dtype)));
  const pos = terms.filter((t) => t.coeff > 0);
  const neg = terms.filter((t) => t.coeff < 0);
  let acc: PrimExpr;
  let base = s.base;
  if (pos.length > 0) {
    acc = scaled(pos[0]!, pos[0]!.coeff);
    for (const t of pos.slice(1)) acc = add(acc, scaled(t, t.coeff));
  } else if (base > 0) {
    acc = intImm(base, dtype);
    base = 0;
  } else {
    acc = scaled(neg[0]!, neg[0]!.coeff);
    neg.shift();
  }
  for (const t of neg) acc = sub(acc, scaled(t, -t.coeff));
  if (base > 0) acc = add(acc, intImm(base, dtype));
  else if (base < 0) acc = sub(acc, intImm(-base, dtype));
  return acc;
}

// --- division and comparison ------------------------------------------------------

/** a = q*b + r, where q gathers the terms of a that b divides when b is a single monomial. */
export function splitMultiples(a: Sum, b: Sum): { q: Sum; r: Sum } {
  let q = constSum(0, a.dtype);
  if (b.base !== 0 || b.terms.size !== 1) return { q, r: a };
  let r = constSum(a.base, a.dtype);
  for (const t of a.terms.values()) {
    const part = termSum(t, a.dtype);
    const quotient = divideByMonomial(part, b);
    if (quotient) q = addSums(q, quotient);
    else r = addSums(r, part);
  }
  return { q, r };
}

/**
 * `d op 0` as `lhs op' rhs` with positive terms on the left and negative
 * ones on the right: > and >= become < and <= of -d, and a common factor of
 * the coefficients divides out, rounding the constant as integers allow.
 */
export function compareToExpr(op: CompareOp, d: Sum): PrimExpr {
  let o: 'eq' | 'ne' | 'lt' | 'le';
  if (op === 'gt' || op === 'ge') {
    o = op === 'gt' ? 'lt' : 'le';
    d = scaleSum(d, -1);
  } else {
    o = op;
  }
  const g = coeffGcd(d);
  if (g > 1) {
    const rest = divideExact(withoutBase(d), g);
    if (o === 'eq' || o === 'ne') {
      if (d.base % g !== 0) return boolImm(o === 'ne');
      d = addSums(rest, constSum(d.base / g, d.dtype));
    } else {
      // g*t + c < 0 ⇔ t + floor(c/g) < 0;  g*t + c <= 0 ⇔ t + ceil(c/g) <= 0
      d = addSums(rest, constSum(o === 'lt' ? Math.floor(d.base / g) : Math.ceil(d.base / g), d.dtype));
    }
  }
  // x == y and y == x print alike.
  if ((o === 'eq' || o === 'ne') && (leadingTerm(d)?.coeff ?? 0) < 0) d = scaleSum(d, -1);
  const dtype = d.dtype;
  let lhs = constSum(Math.max(d.base, 0), dtype);
  let rhs = constSum(Math.max(-d.base, 0), dtype);
  for (const t of d.terms.values()) {
    if (t.coeff > 0) lhs = addSums(lhs, termSum(t, dtype));
    else rhs = addSums(rhs, termSum(t, dtype), -1);
  }
  return binary(o, sumToExpr(lhs), sumToExpr(rhs));
}
