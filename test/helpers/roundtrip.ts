/** Modules that a test builds ill-formed on purpose opt out of the suite-wide round-trip check. */
import type { IRModule } from '../../src/ir/module.ts';

const excluded = new WeakSet<IRModule>();

export function skipRoundTrip<T extends IRModule>(m: T): T {
  excluded.add(m);
  return m;
}

export function isRoundTripSkipped(m: IRModule): boolean {
  return excluded.has(m);
}
