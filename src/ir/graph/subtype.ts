/**
 * The subtyping relation on struct info: whether every value described by
 * `derived` is also described by `base`. Symbolic dimensions are compared
 * with the arithmetic analyzer, so the answer can be "unknown" (n vs m).
 */
import { Analyzer } from '../arith/analyzer.ts';
import { eq, type PrimExpr } from '../prim/expr.ts';
import type { StructInfo } from './struct-info.ts';

export type Verdict = 'yes' | 'no' | 'unknown';

function both(a: Verdict, b: Verdict): Verdict {
  if (a === 'no' || b === 'no') return 'no';
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  return 'yes';
}

function sameValue(a: PrimExpr, b: PrimExpr, analyzer: Analyzer): Verdict {
  if (a === b) return 'yes';
  if (a.dtype !== b.dtype) return 'no';
  const same = analyzer.simplify(eq(a, b));
  return same.kind === 'bool' ? (same.value ? 'yes' : 'no') : 'unknown';
}

function sameDims(base: readonly PrimExpr[] | undefined, derived: readonly PrimExpr[] | undefined, analyzer: Analyzer): Verdict {
  if (!base) return 'yes';
  if (!derived) return 'unknown';
  if (base.length !== derived.length) return 'no';
  return base.reduce<Verdict>((acc, d, i) => both(acc, sameValue(d, derived[i]!, analyzer)), 'yes');
}

export function isBaseOf(base: StructInfo, derived: StructInfo, analyzer: Analyzer = new Analyzer()): Verdict {
  if (base.kind === 'object') return 'yes';
  // A value known only as an object may be of any kind: a run-time check (match_cast) can tell.
  if (derived.kind === 'object') return 'unknown';
  switch (base.kind) {
    case 'tensor': {
      if (derived.kind !== 'tensor' || derived.dtype !== base.dtype) return 'no';
      if (base.device !== undefined && derived.device !== undefined && base.device !== derived.device) return 'no';
      // A tensor not pinned to a device may or may not be on the one the base asks for.
      const device: Verdict = base.device !== undefined && derived.device === undefined ? 'unknown' : 'yes';
      if (base.ndim < 0) return device;
      if (derived.ndim >= 0 && derived.ndim !== base.ndim) return 'no';
      if (derived.ndim < 0) return 'unknown';
      return both(device, sameDims(base.shape, derived.shape, analyzer));
    }
    case 'shape': {
      if (derived.kind !== 'shape') return 'no';
      if (base.ndim < 0) return 'yes';
      if (derived.ndim >= 0 && derived.ndim !== base.ndim) return 'no';
      if (derived.ndim < 0) return 'unknown';
      return sameDims(base.values, derived.values, analyzer);
    }
    case 'prim': {
      if (derived.kind !== 'prim' || derived.dtype !== base.dtype) return 'no';
      if (!base.value) return 'yes';
      if (!derived.value) return 'unknown';
      return sameValue(base.value, derived.value, analyzer);
    }
    case 'tuple': {
      if (derived.kind !== 'tuple' || derived.fields.length !== base.fields.length) return 'no';
      return base.fields.reduce<Verdict>((acc, f, i) => both(acc, isBaseOf(f, derived.fields[i]!, analyzer)), 'yes');
    }
    case 'func': {
      if (derived.kind !== 'func') return 'no';
      let v = isBaseOf(base.ret, derived.ret, analyzer);
      if (!base.params) return v;
      if (!derived.params) return both(v, 'unknown');
      if (derived.params.length !== base.params.length) return 'no';
      // Parameters are contravariant.
      base.params.forEach((p, i) => (v = both(v, isBaseOf(derived.params![i]!, p, analyzer))));
      return v;
    }
  }
}
