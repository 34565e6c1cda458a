/**
 * Proofs of `s >= 0` under the facts bound to variables. In order: constant
 * interval bounds; a symbolic lower bound, each variable with a (possibly
 * symbolic) range replaced by the end of it that minimizes its term;
 * `c*floordiv(x, c)` traded for `x - floormod(x, c)`; and a case split over
 * the operands of a min, max or select. Part of the analyzer.
 */
import type { DataType } from '../dtype.ts';
import { add, binary, type PrimExpr, type PrimVar, sub, visitPrim } from '../prim/expr.ts';
import {
  addSums,
  atomSum,
  CanonicalOverflow,
  constSum,
  mulSums,
  productSum,
  scaleSum,
  type Sum,
  type Term,
  termSum,
} from './canonical.ts';
import type { ArithContext } from './context.ts';
import { scaleI } from './interval.ts';

export class Prover {
  /** Symbolic lower bounds by sum key: proofs ask for the same dividends again and again. */
  private lowerMemo = new Map<string, Sum>();

  constructor(private readonly ctx: ArithContext) {}

  reset(): void {
    this.lowerMemo = new Map();
  }

  /** True when s ≥ 0 is proven for every value of the bound variables. */
  proveNonNegative(s: Sum, depth = 0): boolean {
    try {
      if (this.ctx.bounds.sumBound(s).min >= 0) return true;
      if (this.ctx.bounds.sumBound(this.symbolicLowerBound(s)).min >= 0) return true;
      if (depth >= 3) return false;
      const expanded = this.expandFloorDiv(s);
      if (expanded && this.proveNonNegative(expanded, depth + 1)) return true;
      return this.proveByCases(s, depth + 1);
    } catch (err) {
      if (err instanceof CanonicalOverflow) return false;
      throw err;
    }
  }

  /**
   * A lower bound of s: each variable with a range is replaced by the end of
   * its range that minimizes its term, repeatedly (ranges may mention other
   * variables). Terms that cannot be bounded that way stay as they are.
   */
  symbolicLowerBound(s: Sum): Sum {
    const key = sumKey(s);
    let out = this.lowerMemo.get(key);
    if (!out) {
      out = this.symbolicLowerBoundUncached(s);
      this.lowerMemo.set(key, out);
    }
    return out;
  }

  symbolicLowerBoundUncached(s: Sum): Sum {
    let cur = s;
    for (let round = 0; round < 8; round++) {
      let next = constSum(cur.base, cur.dtype);
      let replaced = false;
      for (const t of cur.terms.values()) {
        const lower = this.termLowerBound(t, cur.dtype);
        if (lower) replaced = true;
        next = addSums(next, lower ?? termSum(t, cur.dtype));
      }
      cur = next;
      if (!replaced) break;
    }
    return cur;
  }

  /** A lower bound of one term with fewer range variables in it, or undefined to keep the term. */
  termLowerBound(t: Term, dtype: DataType): Sum | undefined {
    const atoms = t.mono.atoms;
    const at = atoms.findIndex((a) => a.kind === 'var' && this.ctx.binding(a)?.range !== undefined);
    if (at >= 0) {
      const range = this.ctx.binding(atoms[at] as PrimVar)!.range!;
      const rest = atoms.filter((_, k) => k !== at);
      // coeff * v * rest is smallest at one end of v's range when rest keeps one sign.
      const rb = this.ctx.bounds.monoBound(rest);
      const upper = rb.min >= 0 ? t.coeff < 0 : rb.max <= 0 ? t.coeff > 0 : undefined;
      if (upper !== undefined) {
        const end = upper ? sub(add(range.min, range.extent), 1) : range.min;
        return scaleSum(mulSums(this.ctx.canonical(end), productSum(rest, dtype)), t.coeff);
      }
    }
    const atom = atoms.length === 1 ? atoms[0]! : undefined;
    // floordiv by a positive constant grows with its dividend: bound the dividend.
    if (
      atom?.kind === 'binary' &&
      atom.op === 'floordiv' &&
      atom.b.kind === 'int' &&
      atom.b.value > 0 &&
      this.mentionsRangeVar(atom.a)
    ) {
      const x = this.ctx.canonical(atom.a);
      const end = t.coeff > 0 ? this.symbolicLowerBound(x) : scaleSum(this.symbolicLowerBound(scaleSum(x, -1)), -1);
      if (![...end.terms.values()].some((u) => u.mono.atoms.some((a) => this.mentionsRangeVar(a)))) {
        return scaleSum(this.ctx.divmod.floorDivConst(end, atom.b.value), t.coeff);
      }
    }
    // floormod(x, b) lies in [0, b - 1] when b >= 1, b symbolic.
    if (
      atom?.kind === 'binary' &&
      atom.op === 'floormod' &&
      atom.b.kind !== 'int' &&
      this.ctx.bounds.constIntBound(atom.b).min >= 1
    ) {
      if (!Number.isFinite(scaleI(this.ctx.bounds.atomBound(atom), t.coeff).min)) {
        return t.coeff > 0 ? constSum(0, dtype) : scaleSum(addSums(this.ctx.canonical(atom.b), constSum(1, dtype), -1), t.coeff);
      }
    }
    if (atoms.some((a) => this.mentionsRangeVar(a))) {
      const b = scaleI(this.ctx.bounds.monoBound(atoms), t.coeff);
      if (Number.isFinite(b.min)) return constSum(b.min, dtype);
    }
    return undefined;
  }

  /**
   * s with one c*floordiv(x, c) traded for x - floormod(x, c), s scaled by c
   * first when the coefficient is not a multiple of c. The dividend bounds
   * better than the quotient: `floordiv(n + 31, 32)*32 >= n` for every n.
   */
  expandFloorDiv(s: Sum): Sum | undefined {
    for (const t of s.terms.values()) {
      const a = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
      if (a?.kind !== 'binary' || a.op !== 'floordiv' || a.b.kind !== 'int' || a.b.value <= 1) continue;
      const c = a.b.value;
      const scale = t.coeff % c === 0 ? 1 : c;
      const withoutQuotient = addSums(scaleSum(s, scale), termSum(t, s.dtype), -scale);
      const dividendMinusMod = addSums(this.ctx.canonical(a.a), atomSum(binary('floormod', a.a, a.b)), -1);
      return addSums(withoutQuotient, scaleSum(dividendMinusMod, (t.coeff * scale) / c));
    }
    return undefined;
  }

  /**
   * A min, max or select term takes the value of one of its operands: s ≥ 0
   * when it holds for each choice, or for one choice when that choice bounds
   * the term from below (`n - min(n, 2) >= n - n`).
   */
  proveByCases(s: Sum, depth: number): boolean {
    for (const t of s.terms.values()) {
      const a = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
      let choices: [PrimExpr, PrimExpr];
      if (a?.kind === 'binary' && (a.op === 'min' || a.op === 'max')) choices = [a.a, a.b];
      else if (a?.kind === 'select') choices = [a.t, a.f];
      else continue;
      const rest = addSums(s, termSum(t, s.dtype), -1);
      const prove = (c: PrimExpr): boolean =>
        this.proveNonNegative(addSums(rest, scaleSum(this.ctx.canonical(c), t.coeff)), depth);
      const eitherBounds = a.kind === 'binary' && (a.op === 'min') === t.coeff < 0;
      return eitherBounds ? prove(choices[0]) || prove(choices[1]) : prove(choices[0]) && prove(choices[1]);
    }
    return false;
  }

  mentionsRangeVar(e: PrimExpr): boolean {
    let found = false;
    visitPrim(e, (x) => {
      if (x.kind === 'var' && this.ctx.binding(x)?.range !== undefined) found = true;
    });
    return found;
  }
}

function sumKey(s: Sum): string {
  let k = `${s.dtype}:${s.base}`;
  for (const [key, t] of s.terms) k += `+${t.coeff}*${key}`;
  return k;
}
