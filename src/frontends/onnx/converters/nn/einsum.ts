/**
 * Einsum of one or two operands. A letter repeated within an operand takes
 * the diagonal; letters of one operand that the output lacks are summed
 * away; then two operands become one batched matmul: each is transposed to
 * (batch, kept, contracted) or (batch, contracted, kept) and flattened to
 * three dims, and the product is unflattened and transposed to the output's
 * order. An ellipsis stands for the same dims in every operand (no
 * broadcasting between operands).
 */
import { add, mul, type PrimExpr, product } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import { literal } from '../../context.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { reshape } from './common.ts';

/** An operand as it is rewritten: its value, and one label and dim per axis. */
interface Term {
  value: Value;
  labels: string[];
  dims: PrimExpr[];
}

/** Labels of a term, with the ellipsis expanded to `count` labels (digits, which letters cannot be). */
function parseTerm(ctx: NodeContext, text: string, rank: number | undefined): string[] {
  const parts = text.split('...');
  if (parts.length > 2) return ctx.fail(`'${text}' has more than one ellipsis`);
  for (const p of parts) {
    if (!/^[A-Za-z]*$/.test(p)) return ctx.fail(`'${text}' is not a list of letters with at most one ellipsis`);
  }
  const letters = parts.join('').length;
  const count = parts.length === 2 ? (rank ?? letters) - letters : 0;
  if (count < 0) return ctx.fail(`'${text}' has more letters than its operand has dims`);
  const ellipsis = Array.from({ length: count }, (_, i) => String(count - 1 - i));
  return parts.length === 2 ? [...parts[0]!, ...ellipsis, ...parts[1]!] : [...parts[0]!];
}

function permuted(ctx: NodeContext, t: Term, order: readonly string[]): Term {
  const perm = order.map((l) => t.labels.indexOf(l));
  if (perm.every((p, i) => p === i)) return t;
  return { value: ctx.op('permute_dims', [t.value], { axes: perm }), labels: [...order], dims: perm.map((p) => t.dims[p]!) };
}

/** The diagonal over every letter repeated in `t`. */
function diagonals(ctx: NodeContext, t: Term): Term {
  for (;;) {
    const l = t.labels.find((x, i) => t.labels.indexOf(x) !== i);
    if (l === undefined) return t;
    const [p, q] = [t.labels.indexOf(l), t.labels.indexOf(l, t.labels.indexOf(l) + 1)];
    // The two axes last, flattened: the diagonal is every (n + 1)-th element.
    const rest = t.labels.flatMap((_, i) => (i === p || i === q ? [] : [i]));
    const perm = [...rest, p, q];
    const moved = perm.every((x, i) => x === i) ? t.value : ctx.op('permute_dims', [t.value], { axes: perm });
    const n = t.dims[p]!;
    const restDims = rest.map((i) => t.dims[i]!);
    const flat = reshape(ctx, moved, [...restDims, mul(n, n)]);
    const positions = ctx.op(
      'arange',
      [ctx.primArg(literal(0, 'int64')), ctx.primArg(ctx.simplify(mul(n, n))), ctx.primArg(ctx.simplify(add(n, 1)))],
      { dtype: 'int64' },
    );
    const value = ctx.op('take', [flat, positions], { axis: rest.length });
    t = { value, labels: [...rest.map((i) => t.labels[i]!), l], dims: [...restDims, n] };
  }
}

/** Sums away the letters of `t` that `keep` lacks. */
function summed(ctx: NodeContext, t: Term, keep: ReadonlySet<string>): Term {
  const axes = t.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return t;
  return {
    value: ctx.op('sum', [t.value], { axis: axes }),
    labels: t.labels.filter((l) => keep.has(l)),
    dims: t.dims.filter((_, i) => !axes.includes(i)),
  };
}

/** `v` (of dims `from`) reshaped to `to`, unless that changes nothing. */
function reshaped(ctx: NodeContext, v: Value, from: readonly PrimExpr[], to: readonly PrimExpr[]): Value {
  const same = from.length === to.length && from.every((d, i) => ctx.analyzer.proveEqual(d, to[i]!));
  return same ? v : reshape(ctx, v, to);
}

/** `t` transposed to the groups' order and flattened to one dim per group. */
function flattened(ctx: NodeContext, t: Term, groups: readonly (readonly string[])[]): Value {
  const ordered = permuted(ctx, t, groups.flat());
  const dims = groups.map((g) => ctx.simplify(product(g.map((l) => ordered.dims[ordered.labels.indexOf(l)]!))));
  return reshaped(ctx, ordered.value, ordered.dims, dims);
}

defineConverter('Einsum', (ctx) => {
  const equation = ctx.attr.string('equation').replace(/\s/g, '');
  const [lhs, rhs] = equation.split('->') as [string, string | undefined];
  const texts = lhs.split(',');
  if (texts.length !== ctx.inputCount)
    return ctx.fail(`'${equation}' has ${texts.length} operands but the node ${ctx.inputCount} inputs`);
  if (texts.length > 2) return ctx.fail(`only one or two operands are supported, not ${texts.length}`);
  let terms: Term[] = texts.map((text, i) => {
    const labels = parseTerm(ctx, text, ctx.rank(i));
    if (labels.length !== ctx.rank(i))
      return ctx.fail(`'${text}' has ${labels.length} labels for an input of rank ${ctx.rank(i)}`);
    return { value: ctx.input(i), labels, dims: [...ctx.shape(i)] };
  });

  const ellipsisCount = Math.max(...terms.map((t) => t.labels.filter((l) => /\d/.test(l)).length));
  let output: string[];
  if (rhs !== undefined) {
    output = parseTerm(ctx, rhs, rhs.replace('...', '').length + ellipsisCount);
  } else {
    // Implicit output: the ellipsis, then the letters used once, alphabetically.
    const all = terms.flatMap((t) => t.labels);
    const once = [...new Set(all)].filter((l) => /[A-Za-z]/.test(l) && all.indexOf(l) === all.lastIndexOf(l));
    output = [...Array.from({ length: ellipsisCount }, (_, i) => String(ellipsisCount - 1 - i)), ...once.sort()];
  }
  if (new Set(output).size !== output.length) return ctx.fail(`the output '${rhs}' repeats a letter`);
  const known = new Set(terms.flatMap((t) => t.labels));
  const missing = output.find((l) => !known.has(l));
  if (missing !== undefined) return ctx.fail(`the output letter '${missing}' is in no operand`);

  terms = terms.map((t) => diagonals(ctx, t));
  const outSet = new Set(output);
  if (terms.length === 1) {
    const t = summed(ctx, terms[0]!, outSet);
    return permuted(ctx, t, output).value;
  }
  const [a0, b0] = terms as [Term, Term];
  const a = summed(ctx, a0, new Set([...output, ...b0.labels]));
  const b = summed(ctx, b0, new Set([...output, ...a.labels]));
  const inB = new Set(b.labels);
  const inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && outSet.has(l));
  const contracted = a.labels.filter((l) => inB.has(l) && !outSet.has(l));
  const left = a.labels.filter((l) => !inB.has(l));
  const right = b.labels.filter((l) => !inA.has(l));
  const y = ctx.op('matmul', [flattened(ctx, a, [batch, left, contracted]), flattened(ctx, b, [batch, contracted, right])]);
  const labels = [...batch, ...left, ...right];
  const dimOf = (l: string): PrimExpr => (inA.has(l) ? a.dims[a.labels.indexOf(l)]! : b.dims[b.labels.indexOf(l)]!);
  const dims = labels.map(dimOf);
  const result: Term = { value: reshaped(ctx, y, y.sinfo.shape, dims), labels, dims };
  return permuted(ctx, result, output).value;
});
