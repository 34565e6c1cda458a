/**
 * Division and modulo on canonical forms: multiples of the divisor split
 * out, what remains reduced with its bounds (`floordiv(i*4 + j, 4)` is `i`
 * when 0 <= j < 4), common factors cancelled, nested divisions merged, and
 * the fused-loop identity `floordiv(x, b)*b + floormod(x, b) = x`. Part of
 * the analyzer.
 */
import { binary } from '../prim/expr.ts';
import {
  addSums,
  asSingleAtom,
  atomSum,
  constantRatio,
  constSum,
  contentOf,
  divideByMonomial,
  divideExact,
  gcd,
  isConst,
  isZero,
  mulSums,
  scaleSum,
  splitMultiples,
  type Sum,
  sumToExpr,
  termSum,
} from './canonical.ts';
import type { ArithContext } from './context.ts';
import { floorDivNum } from './interval.ts';

export class DivMod {
  constructor(private readonly ctx: ArithContext) {}

  /** floordiv(a, b) on canonical forms. */
  floorDiv(a: Sum, b: Sum): Sum {
    if (isConst(b)) {
      const c = b.base;
      if (c === 1) return a;
      if (c > 0) return this.floorDivConst(a, c);
      if (c === 0 || !isConst(a)) return divAtom('floordiv', a, b);
      return constSum(floorDivNum(a.base, c), a.dtype);
    }
    if (isZero(a)) return a;
    const exact = divideByMonomial(a, b);
    if (exact) return exact;
    const k = constantRatio(a, b);
    if (k !== undefined) return constSum(k, a.dtype);
    // floordiv(q*b + r, b) = q + floordiv(r, b), and floordiv(r, b) = 0 when 0 <= r < b
    const { q, r } = splitMultiples(a, b);
    if (this.inDivisorRange(r, b)) return q;
    return isZero(q) ? divAtom('floordiv', a, b) : addSums(q, divAtom('floordiv', r, b));
  }

  floorDivConst(a: Sum, c: number): Sum {
    const dtype = a.dtype;
    const baseQ = floorDivNum(a.base, c);
    let q = constSum(baseQ, dtype);
    let r = constSum(a.base - baseQ * c, dtype);
    for (const t of a.terms.values()) {
      const part = termSum(t, dtype);
      if (t.coeff % c === 0) q = addSums(q, divideExact(part, c));
      else r = addSums(r, part);
    }
    if (isConst(r)) return q;
    const rb = this.ctx.bounds.sumBound(r);
    const lo = floorDivNum(rb.min, c);
    if (lo === floorDivNum(rb.max, c) && Number.isFinite(lo)) return addSums(q, constSum(lo, dtype));
    // floordiv(g*y + k, g*d) = floordiv(g*y, g*d) for 0 <= k < g: g*y + k never passes a multiple of g*d
    // beyond g*y (a tile's last index, `floordiv(bx*8 + 7, 64)`, is its first's; a vector lane's
    // `floordiv(j0*8 + lane, 32)` for lanes 0..7 is the lane's tile's).
    r = this.withoutSubMultiplePart(withoutSubMultipleBase(r, c), c);
    // floordiv(g*y, g*d) = floordiv(y, d)
    const g = gcd(contentOf(r), c);
    let rest = r;
    let divisor = c;
    if (g > 1) {
      rest = divideExact(r, g);
      divisor = c / g;
      if (divisor === 1) return addSums(q, rest);
    }
    // floordiv(floordiv(x, a), c) = floordiv(x, a*c)
    const inner = asSingleAtom(rest);
    if (inner?.kind === 'binary' && inner.op === 'floordiv' && inner.b.kind === 'int' && inner.b.value > 0) {
      const outer = inner.b.value * divisor;
      if (Number.isSafeInteger(outer)) return addSums(q, this.floorDivConst(this.ctx.canonical(inner.a), outer));
    }
    return addSums(q, divAtom('floordiv', rest, constSum(divisor, dtype)));
  }

  /** floormod(a, b) on canonical forms. */
  floorMod(a: Sum, b: Sum): Sum {
    if (isConst(b)) {
      const c = b.base;
      if (c === 1) return constSum(0, a.dtype);
      if (c > 0) return this.floorModConst(a, c);
      if (c === 0 || !isConst(a)) return divAtom('floormod', a, b);
      return constSum(a.base - floorDivNum(a.base, c) * c, a.dtype);
    }
    if (isZero(a) || divideByMonomial(a, b) || constantRatio(a, b) !== undefined) return constSum(0, a.dtype);
    // floormod(q*b + r, b) = floormod(r, b), which is r when 0 <= r < b
    const { r } = splitMultiples(a, b);
    if (this.inDivisorRange(r, b)) return r;
    return divAtom('floormod', r, b);
  }

  floorModConst(a: Sum, c: number): Sum {
    const dtype = a.dtype;
    let r = constSum(a.base - floorDivNum(a.base, c) * c, dtype);
    for (const t of a.terms.values()) if (t.coeff % c !== 0) r = addSums(r, termSum(t, dtype));
    if (isConst(r)) return r;
    const rb = this.ctx.bounds.sumBound(r);
    const lo = floorDivNum(rb.min, c);
    if (lo === floorDivNum(rb.max, c) && Number.isFinite(lo)) return addSums(r, constSum(-lo * c, dtype));
    // floormod(g*y + k, g*d) = floormod(g*y, g*d) + k for 0 <= k < g
    const big = this.withoutSubMultiplePart(r, c);
    if (big !== r) return addSums(this.floorModConst(big, c), addSums(r, big, -1));
    const shifted = withoutSubMultipleBase(r, c);
    if (shifted !== r) return addSums(this.floorModConst(shifted, c), constSum(r.base - shifted.base, dtype));
    // floormod(g*y, g*d) = g * floormod(y, d)
    const g = gcd(contentOf(r), c);
    if (g > 1) return scaleSum(this.floorModConst(divideExact(r, g), c / g), g);
    // floormod(floormod(x, k*c), c) = floormod(x, c)
    const inner = asSingleAtom(r);
    if (inner?.kind === 'binary' && inner.op === 'floormod' && inner.b.kind === 'int' && inner.b.value % c === 0) {
      return this.floorModConst(this.ctx.canonical(inner.a), c);
    }
    return divAtom('floormod', r, constSum(c, dtype));
  }

  /**
   * `r` less its terms k (and constant) that are not multiples of some g > 1 dividing c, when
   * 0 <= k < g is proven and the rest is all multiples of g: floordiv(r, c) and floordiv(r - k, c)
   * then agree. `r` itself when there is no such part. The g tried are gcd(c, a term's coefficient).
   */
  private withoutSubMultiplePart(r: Sum, c: number): Sum {
    const terms = [...r.terms.values()];
    if (terms.length < 2) return r;
    const candidates = [...new Set(terms.map((t) => gcd(c, Math.abs(t.coeff))))].filter((g) => g > 1).sort((a, b) => b - a);
    for (const g of candidates) {
      let big = constSum(floorDivNum(r.base, g) * g, r.dtype);
      let small = constSum(r.base - floorDivNum(r.base, g) * g, r.dtype);
      for (const t of terms) {
        if (t.coeff % g === 0) big = addSums(big, termSum(t, r.dtype));
        else small = addSums(small, termSum(t, r.dtype));
      }
      if (isConst(small) || big.terms.size === 0) continue;
      const b = this.ctx.bounds.sumBound(small);
      if (b.min >= 0 && b.max < g) return big;
    }
    return r;
  }

  /** 0 <= r < b, so that floordiv(r, b) is 0 and floormod(r, b) is r. */
  inDivisorRange(r: Sum, b: Sum): boolean {
    return (
      this.ctx.prover.proveNonNegative(r) &&
      this.ctx.prover.proveNonNegative(addSums(addSums(b, r, -1), constSum(1, b.dtype), -1))
    );
  }

  /** Exact on constants and on exact multiples; floor semantics once the dividend is known non-negative. */
  truncDivMod(op: 'truncdiv' | 'truncmod', a: Sum, b: Sum): Sum {
    if (isConst(b) && b.base !== 0) {
      const c = b.base;
      if (isConst(a)) {
        const q = Math.trunc(a.base / c);
        return constSum(op === 'truncdiv' ? q : a.base - q * c, a.dtype);
      }
      // An exact multiple divides the same way under every rounding.
      if (contentOf(a) % c === 0) return op === 'truncdiv' ? divideExact(a, c) : constSum(0, a.dtype);
    }
    const positiveDivisor = isConst(b) ? b.base > 0 : this.ctx.prover.proveNonNegative(addSums(b, constSum(1, b.dtype), -1));
    if (positiveDivisor && this.ctx.prover.proveNonNegative(a)) {
      return op === 'truncdiv' ? this.floorDiv(a, b) : this.floorMod(a, b);
    }
    return divAtom(op, a, b);
  }

  /**
   * k*b*floordiv(x, b) + k*floormod(x, b) = k*x: what splitting a fused loop
   * leaves behind, for a constant or symbolic b.
   */
  fuseDivMod(s: Sum): Sum {
    for (const t of s.terms.values()) {
      const m = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
      if (m?.kind !== 'binary' || m.op !== 'floormod') continue;
      const quotient = scaleSum(mulSums(atomSum(binary('floordiv', m.a, m.b)), this.ctx.canonical(m.b)), t.coeff);
      if (quotient.terms.size === 0) continue;
      let matches = true;
      for (const [key, u] of quotient.terms) if (s.terms.get(key)?.coeff !== u.coeff) matches = false;
      if (!matches) continue;
      const rest = addSums(addSums(s, quotient, -1), termSum(t, s.dtype), -1);
      return this.fuseDivMod(addSums(rest, scaleSum(this.ctx.canonical(m.a), t.coeff)));
    }
    return s;
  }
}

export function divAtom(op: 'floordiv' | 'floormod' | 'truncdiv' | 'truncmod', a: Sum, b: Sum): Sum {
  return atomSum(binary(op, sumToExpr(a), sumToExpr(b)));
}

/**
 * `r` less the part k of its constant below g, where g > 1 is the gcd of c
 * and r's coefficients (the constant aside): with 0 <= k < g, floordiv(r, c)
 * and floordiv(r - k, c) agree. `r` itself when there is no such part.
 */
function withoutSubMultipleBase(r: Sum, c: number): Sum {
  let g = c;
  for (const t of r.terms.values()) g = gcd(g, t.coeff);
  if (g <= 1) return r;
  const k = r.base - floorDivNum(r.base, g) * g;
  return k === 0 ? r : addSums(r, constSum(-k, r.dtype));
}
