/**
 * What the parts of the analyzer (bounds, proofs, division rules) see of it:
 * the canonical form, the facts bound to variables, and each other.
 */
import type { PrimExpr, PrimVar } from '../prim/expr.ts';
import type { Range } from '../tir/stmt.ts';
import type { ConstBounds } from './bounds.ts';
import type { Sum } from './canonical.ts';
import type { DivMod } from './divmod.ts';
import type { Interval } from './interval.ts';
import type { Prover } from './prover.ts';

export interface Binding {
  /** A range [min, min + extent) whose ends may mention other variables. */
  readonly range?: Range;
  /** Constant facts, narrowed as more are bound. */
  readonly bound: Interval;
}

export interface ArithContext {
  canonical(e: PrimExpr): Sum;
  binding(v: PrimVar): Binding | undefined;
  /** Variables whose range is being looked into, to stop at ranges that mention each other. */
  readonly resolving: Set<PrimVar>;
  readonly bounds: ConstBounds;
  readonly prover: Prover;
  readonly divmod: DivMod;
}
