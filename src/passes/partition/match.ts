/**
 * Finding a rule's pattern in a block of bindings: a chain of operator calls,
 * each consuming the one before, where every value inside the chain has that
 * one consumer (a value used elsewhere too must stay visible, so a match stops
 * before it). Symbolic shapes need nothing special: matching looks at
 * operators, arguments and dtypes, never at sizes.
 */
import { type AttrValue, attrsEqual } from '../../ir/attrs.ts';
import type { Binding, Expr, GraphVar, OpCall } from '../../ir/graph/expr.ts';
import type { CallPattern, Pattern } from './pattern.ts';

/** The `when:` conditions of a rule. */
export interface RuleConditions {
  /** The result dtype of every call in the match is one of these. */
  readonly dtype?: readonly string[];
  /** The floating-point operations of the match (symbolic dimensions counted as 1) are at least this. */
  readonly minFlops?: number;
  /** Every call in the match that has one of these attributes has this value of it. */
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

/** A binding whose value is an operator call. */
export type CallBinding = Binding & { readonly value: OpCall };

export interface MatchContext {
  /** How many times each variable is used in the function (arguments, the body, other blocks). */
  readonly uses: ReadonlyMap<GraphVar, number>;
  /** The binding that uses a variable, for a variable used once in this block. */
  readonly consumer: ReadonlyMap<GraphVar, CallBinding>;
  /** Bindings already in a match of some rule. */
  readonly claimed: ReadonlySet<Binding>;
}

function callMatches(p: CallPattern, call: OpCall, prev: GraphVar | undefined): boolean {
  if (p.op !== undefined && p.op !== call.op) return false;
  if (p.args === undefined) return prev === undefined || call.args.includes(prev);
  if (p.args.length !== call.args.length) return false;
  let prevSeen = prev === undefined;
  for (const [i, a] of p.args.entries()) {
    const arg = call.args[i]!;
    if (a === 'const' && arg.kind !== 'constant') return false;
    if (a === 'any' && arg === prev) prevSeen = true;
  }
  return prevSeen;
}

/** The bindings a pattern matches starting at `start`, in chain order; undefined when it does not match there. */
export function matchAt(pattern: Pattern, start: CallBinding, ctx: MatchContext): CallBinding[] | undefined {
  const extend = (k: number, prev: GraphVar | undefined, acc: CallBinding[]): CallBinding[] | undefined => {
    if (k === pattern.steps.length) return acc.length > 0 ? acc : undefined;
    const step = pattern.steps[k]!;
    // The first matched call is `start`; each later one is the only consumer of the one before.
    const candidate = prev === undefined ? start : ctx.uses.get(prev) === 1 ? ctx.consumer.get(prev) : undefined;
    if (candidate && !ctx.claimed.has(candidate) && step.alternatives.some((p) => callMatches(p, candidate.value, prev))) {
      const found = extend(k + 1, candidate.var, [...acc, candidate]);
      if (found) return found;
    }
    return step.optional ? extend(k + 1, prev, acc) : undefined;
  };
  return extend(0, undefined, []);
}

/** Whether the matched calls meet the rule's `when:` conditions. */
export function meetsConditions(match: readonly CallBinding[], when: RuleConditions | undefined): boolean {
  if (!when) return true;
  for (const b of match) {
    const si = b.var.sinfo;
    if (when.dtype && !(si.kind === 'tensor' && when.dtype.includes(si.dtype))) return false;
    for (const [k, v] of Object.entries(when.attrs ?? {})) {
      const have = b.value.attrs[k];
      if (have !== undefined && !attrsEqual(have, v)) return false;
    }
  }
  if (when.minFlops !== undefined && match.reduce((n, b) => n + flops(b), 0) < when.minFlops) return false;
  return true;
}

/** Elements of a tensor's shape, symbolic dimensions counted as 1. */
function elements(e: Expr | undefined): number {
  return dims(e).reduce((a, b) => a * b, 1);
}

function dims(e: Expr | undefined): number[] {
  if (e?.kind === 'constant') return [...e.shape];
  if (e?.kind !== 'graph_var' || e.sinfo.kind !== 'tensor' || !e.sinfo.shape) return [];
  return e.sinfo.shape.map((d) => (d.kind === 'int' ? d.value : 1));
}

/** A call's floating-point operations (a multiply and an add count as two), roughly: what `min-flops` compares. */
export function flops(b: CallBinding): number {
  const out = elements(b.var);
  const { op, args } = b.value;
  if (op === 'matmul') {
    const a = dims(args[0]);
    return 2 * out * (a[a.length - 1] ?? 1);
  }
  if (op.startsWith('conv')) {
    const w = dims(args[1]);
    return 2 * out * w.slice(1).reduce((x, y) => x * y, 1);
  }
  return out;
}
