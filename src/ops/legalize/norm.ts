/**
 * Legalizations of softmax, log_softmax and the normalizations.
 *
 * Statistics are reductions into tensors that keep the reduced dims as 1 (or,
 * for group_norm, one entry per group), so the final elementwise stage reads
 * them by its own index with the reduced dims at 0. Half floats compute in
 * float32. Variances take two passes (the mean, then the squared
 * deviations), which cancels less than E[x²] - E[x]².
 */
import { compute, maxOf, type ReduceAxis, reduceAxis, sum, SUM, type Tensor } from '../../ir/builder/te.ts';
import { add, call, castIfNeeded, div, floordiv, intImm, mul, type PrimExpr, sub } from '../../ir/prim/expr.ts';
import { convert, lit, normAxes, normAxis } from './common.ts';
import { defineLegalization, type LegalizeCall } from './registry.ts';
import { accumDtype, countOf, reduceAxesOf, reduceWith } from './reduce.ts';

/** `idx` with dim `d` replaced by `v`. */
function replaced(idx: readonly PrimExpr[], d: number, v: PrimExpr): PrimExpr[] {
  return idx.map((x, j) => (j === d ? v : x));
}

// --- softmax, log_softmax --------------------------------------------------------------

/** Numerically stable: exponentials of x - max(x), which never overflow. */
function softmax(c: LegalizeCall, log: boolean): Tensor {
  const x = c.tensor('data');
  const acc = accumDtype(x.dtype);
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  const at = (idx: readonly PrimExpr[]): PrimExpr => convert(x.at(...idx), acc);
  const kept = x.shape.map((d, a) => (a === axis ? intImm(1, d.dtype) : d));
  const k = reduceAxis(x.shape[axis]!, 'k');
  const name = `T_${c.op}`;
  const m = compute(kept, (i) => maxOf(at(replaced(i, axis, k.var)), [k]), `${name}_max`);
  const s = compute(kept, (i) => sum(call('exp', [sub(at(replaced(i, axis, k.var)), m.at(...i))]), [k]), `${name}_expsum`);
  return compute(
    c.outShape(),
    (i) => {
      const j = replaced(i, axis, intImm(0));
      const shifted = sub(at(i), m.at(...j));
      const y = log ? sub(shifted, call('log', [s.at(...j)])) : div(call('exp', [shifted]), s.at(...j));
      return convert(y, c.outDtype());
    },
    name,
  );
}

defineLegalization('softmax', (c) => softmax(c, false));
defineLegalization('log_softmax', (c) => softmax(c, true));

// --- statistics ------------------------------------------------------------------------

/** Mean and variance at an index of the statistics tensors. */
interface Moments {
  mean(j: readonly PrimExpr[]): PrimExpr;
  variance(j: readonly PrimExpr[]): PrimExpr;
}

/**
 * The moments of the `count` values `read(i)` takes over the reduce axes `k`,
 * for each index `i` of `shape`.
 */
function moments(
  shape: readonly PrimExpr[],
  read: (i: readonly PrimExpr[]) => PrimExpr,
  k: readonly ReduceAxis[],
  count: PrimExpr,
  name: string,
): Moments {
  const total = compute(shape, (i) => reduceWith(SUM, read(i), k), `${name}_sum`);
  const mean = (j: readonly PrimExpr[]): PrimExpr => div(total.at(...j), count);
  const sq = compute(
    shape,
    (i) => {
      const dev = sub(read(i), mean(i));
      return reduceWith(SUM, mul(dev, dev), k);
    },
    `${name}_sqdev`,
  );
  return { mean, variance: (j) => div(sq.at(...j), count) };
}

/** (x - mean) / sqrt(var + eps), optionally scaled and shifted. */
function normalize(
  c: LegalizeCall,
  x: PrimExpr,
  stats: Moments,
  j: readonly PrimExpr[],
  gamma: PrimExpr | undefined,
  beta: PrimExpr | undefined,
): PrimExpr {
  const eps = lit(c.attr<number>('epsilon'), x.dtype);
  let y = mul(sub(x, stats.mean(j)), call('rsqrt', [add(stats.variance(j), eps)]));
  if (gamma && c.attr<boolean>('scale')) y = mul(y, convert(gamma, x.dtype));
  if (beta && c.attr<boolean>('center')) y = add(y, convert(beta, x.dtype));
  return convert(y, c.outDtype());
}

/** Data dims reduced over `axes` kept as 1. */
function keptShape(shape: readonly PrimExpr[], axes: readonly number[]): PrimExpr[] {
  return shape.map((d, a) => (axes.includes(a) ? intImm(1, d.dtype) : d));
}

/** `idx` with the dims of `axes` at the reduce variables `k` (at 0 when `k` is absent). */
function onAxes(idx: readonly PrimExpr[], axes: readonly number[], k?: readonly ReduceAxis[]): PrimExpr[] {
  return idx.map((x, d) => {
    const j = axes.indexOf(d);
    return j < 0 ? x : k ? k[j]!.var : intImm(0);
  });
}

/** The axes as given, normalized: gamma and friends have their dims in this order. */
function givenAxes(c: LegalizeCall, ndim: number): number[] {
  return c.attr<number[]>('axes').map((a) => normAxis(a, ndim));
}

// --- layer_norm, rms_norm --------------------------------------------------------------

defineLegalization('layer_norm', (c) => {
  const x = c.tensor('data');
  const gamma = c.tensor('gamma');
  const beta = c.tensor('beta');
  const acc = accumDtype(x.dtype);
  const given = givenAxes(c, x.shape.length);
  const axes = normAxes(given, x.shape.length);
  const k = reduceAxesOf(x.shape, axes);
  const read = (i: readonly PrimExpr[]): PrimExpr => convert(x.at(...onAxes(i, axes, k)), acc);
  const stats = moments(keptShape(x.shape, axes), read, k, countOf(x.shape, axes, acc), 'T_layer_norm');
  return compute(
    c.outShape(),
    (i) => {
      const p = given.map((a) => i[a]!);
      return normalize(c, convert(x.at(...i), acc), stats, onAxes(i, axes), gamma.at(...p), beta.at(...p));
    },
    'T_layer_norm',
  );
});

/** x / sqrt(mean(x²) + eps) * weight, without centering (T5, LLaMA). */
defineLegalization('rms_norm', (c) => {
  const x = c.tensor('data');
  const weight = c.tensor('weight');
  const acc = accumDtype(x.dtype);
  const given = givenAxes(c, x.shape.length);
  const axes = normAxes(given, x.shape.length);
  const k = reduceAxesOf(x.shape, axes);
  const squares = compute(
    keptShape(x.shape, axes),
    (i) => {
      const v = convert(x.at(...onAxes(i, axes, k)), acc);
      return reduceWith(SUM, mul(v, v), k);
    },
    'T_rms_norm_sqsum',
  );
  const n = countOf(x.shape, axes, acc);
  const eps = lit(c.attr<number>('epsilon'), acc);
  return compute(
    c.outShape(),
    (i) => {
      const inv = call('rsqrt', [add(div(squares.at(...onAxes(i, axes)), n), eps)]);
      const w = convert(weight.at(...given.map((a) => i[a]!)), acc);
      return convert(mul(mul(convert(x.at(...i), acc), inv), w), c.outDtype());
    },
    'T_rms_norm',
  );
});

// --- group_norm, instance_norm ---------------------------------------------------------

/**
 * Statistics per group of channels, over `axes` and the channels of the group:
 * the statistics tensor has data's shape with the reduced dims at 1 and the
 * channel dim holding the groups. instance_norm is the case without groups
 * (one channel per group), which needs no channel reduction.
 */
function groupNorm(c: LegalizeCall, groups: number | undefined): Tensor {
  const x = c.tensor('data');
  const gamma = c.tensor('gamma');
  const beta = c.tensor('beta');
  const nd = x.shape.length;
  const acc = accumDtype(x.dtype);
  const ch = normAxis(c.attr<number>('channel_axis'), nd);
  const given = c.optionalAttr<number[]>('axes');
  const axes = normAxes(given ?? Array.from({ length: nd }, (_, i) => i).filter((i) => i !== 0 && i !== ch), nd);
  const channels = x.shape[ch]!;
  const perGroup = groups === undefined ? undefined : floordiv(channels, intImm(groups, channels.dtype));

  const k = reduceAxesOf(x.shape, axes);
  const kc = perGroup ? reduceAxis(perGroup, 'kc') : undefined;
  const shape = replaced(keptShape(x.shape, axes), ch, perGroup ? intImm(groups!, channels.dtype) : channels);
  const read = (i: readonly PrimExpr[]): PrimExpr => {
    const idx = onAxes(i, axes, k);
    return convert(x.at(...(kc ? replaced(idx, ch, add(mul(i[ch]!, perGroup!), kc.var)) : idx)), acc);
  };
  const count = perGroup ? mul(countOf(x.shape, axes, acc), castIfNeeded(acc, perGroup)) : countOf(x.shape, axes, acc);
  const name = `T_${c.op}`;
  const stats = moments(shape, read, kc ? [...k, kc] : k, count, name);
  return compute(
    c.outShape(),
    (i) => {
      const j = onAxes(i, axes);
      const sj = perGroup ? replaced(j, ch, floordiv(i[ch]!, perGroup)) : j;
      return normalize(c, convert(x.at(...i), acc), stats, sj, gamma.at(i[ch]!), beta.at(i[ch]!));
    },
    name,
  );
}

defineLegalization('group_norm', (c) => groupNorm(c, c.attr<number>('num_groups')));
defineLegalization('instance_norm', (c) => groupNorm(c, undefined));

// --- batch_norm ------------------------------------------------------------------------

/** Inference form: the running statistics stand for the batch's. */
defineLegalization('batch_norm', (c) => {
  const x = c.tensor('data');
  const acc = accumDtype(x.dtype);
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_var'].map((name) => c.tensor(name));
  const param = (t: Tensor, i: readonly PrimExpr[]): PrimExpr => convert(t.at(i[axis]!), acc);
  const stats: Moments = { mean: (i) => param(mean!, i), variance: (i) => param(variance!, i) };
  return compute(
    c.outShape(),
    (i) => normalize(c, convert(x.at(...i), acc), stats, i, param(gamma!, i), param(beta!, i)),
    'T_batch_norm',
  );
});
