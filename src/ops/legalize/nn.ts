/**
 * Legalizations of the operators of src/ops/nn.ts: convolutions, pooling and
 * pad, channel-first (NCW / NCHW).
 *
 * Padding is never materialized: a reduction skips the taps that fall in it
 * (its `where` guards the load), so a convolution adds nothing for them and
 * max pooling ignores them, as if the input were padded with zeros / -inf.
 */
import { Analyzer } from '../../ir/arith/analyzer.ts';
import {
  compute,
  computeMany,
  maxOf,
  reduceAxis,
  type ReduceAxis,
  reduction,
  type Reduction,
  sum,
  type Tensor,
} from '../../ir/builder/te.ts';
import { bits, type DataType, isFloat, isInt } from '../../ir/dtype.ts';
import {
  add,
  and,
  castIfNeeded,
  constInt,
  div,
  eq,
  floordiv,
  floormod,
  ge,
  intImm,
  lt,
  max,
  min,
  mul,
  type PrimExpr,
  type PrimVar,
  select,
  sub,
  truncdiv,
} from '../../ir/prim/expr.ts';
import { convert, lit } from './common.ts';
import { accumDtype, argReducer, ravel } from './reduce.ts';
import { defineLegalization, type LegalizeCall } from './registry.ts';

const analyzer = new Analyzer();

/** How a sliding window walks one spatial dim. */
interface Window {
  readonly stride: number;
  readonly dilation: number;
  readonly before: number;
  readonly after: number;
}

function windows(c: LegalizeCall, nd: number): Window[] {
  const strides = c.attr<number[]>('strides');
  const dilation = c.attr<number[]>('dilation');
  const padding = c.attr<number[]>('padding');
  return strides.map((stride, d) => ({ stride, dilation: dilation[d]!, before: padding[d]!, after: padding[nd + d]! }));
}

// `e * k` and `e + k` without the trivial ones, so kernels stay readable.
const scaled = (e: PrimExpr, k: number): PrimExpr => (k === 1 ? e : mul(e, k));
const shifted = (e: PrimExpr, k: number): PrimExpr => (k === 0 ? e : k < 0 ? sub(e, -k) : add(e, k));

/** `size - 1`, folded for a literal size. */
const last = (size: PrimExpr): PrimExpr => analyzer.simplify(sub(size, 1));

/** The product of tap counts, folded where they are literals (and not expanded where they are not). */
function product(xs: readonly PrimExpr[]): PrimExpr {
  const ks = xs.map(constInt);
  if (ks.every((k) => k !== undefined)) return intImm(ks.reduce((a, b) => a * b, 1));
  return xs.reduce((a, b) => mul(a, b));
}

/** The conjunction of `conds`, or undefined for none (a reduction without `where`). */
function allOf(conds: readonly PrimExpr[]): PrimExpr | undefined {
  return conds.length === 0 ? undefined : conds.reduce((a, b) => and(a, b));
}

/**
 * The input index of tap `r` of the window at output `o`, and the conditions
 * for it to lie inside the input: a side needs a check only where padding (or
 * ceil_mode's last window) can reach past it.
 */
function tap(o: PrimExpr, r: PrimExpr, w: Window, size: PrimExpr, overhang = false): { idx: PrimExpr; conds: PrimExpr[] } {
  const idx = shifted(add(scaled(o, w.stride), scaled(r, w.dilation)), -w.before);
  const conds: PrimExpr[] = [];
  if (w.before > 0) conds.push(ge(idx, 0));
  if (w.after > 0 || overhang) conds.push(lt(idx, size));
  return { idx, conds };
}

/** Floats of fewer than 32 bits accumulate in float32; integers in int64. */
function accumulator(t: DataType): DataType {
  if (isFloat(t)) return bits(t) < 32 ? 'float32' : t;
  return isInt(t) ? 'int64' : t;
}

/** `e / k` of integer shape values, folded when both are literals. */
function divide(e: PrimExpr, k: number): PrimExpr {
  return analyzer.simplify(floordiv(e, k));
}

// --- convolutions -------------------------------------------------------------------

/** The reduce axis over spatial dim `d` of a window. */
const spatialAxis = (extent: PrimExpr | number, nd: number, d: number): ReduceAxis =>
  reduceAxis(extent, ['rd', 'rh', 'rw'].slice(3 - nd)[d]);

function conv(c: LegalizeCall, nd: number): Tensor {
  const x = c.tensor('data');
  const w = c.tensor('weight');
  const groups = c.attr<number>('groups');
  const win = windows(c, nd);
  const [outChannels, inPerGroup, ...kernel] = w.shape;
  const outPerGroup = divide(outChannels!, groups);
  const rc = reduceAxis(inPerGroup!, 'rc');
  const rk = kernel.map((k, d) => spatialAxis(k, nd, d));
  return accumulated(c, `conv${nd}d`, (acc) => ([n, o, ...out]) => {
    // Output channel o reads the input channels of its group.
    const ci = groups === 1 ? rc.var : add(mul(floordiv(o!, outPerGroup), inPerGroup!), rc.var);
    const taps = out.map((v, d) => tap(v, rk[d]!.var, win[d]!, x.shape[2 + d]!));
    const term = mul(
      convert(x.at(n!, ci, ...taps.map((t) => t.idx)), acc),
      convert(w.at(o!, rc.var, ...rk.map((r) => r.var)), acc),
    );
    return sum(term, [rc, ...rk], allOf(taps.flatMap((t) => t.conds)));
  });
}

/**
 * The output of a convolution whose sum `body` builds in the accumulator
 * dtype: float32 for float16 / bfloat16 (as matmul does), then converted in
 * a stage of its own; the out dtype itself otherwise.
 */
function accumulated(c: LegalizeCall, name: string, body: (acc: DataType) => (i: PrimExpr[]) => Reduction): Tensor {
  const dtype = c.outDtype();
  const acc = accumDtype(dtype);
  if (acc === dtype) return compute(c.outShape(), body(acc), name);
  const r = compute(c.outShape(), body(acc), `${name}_acc`);
  return compute(c.outShape(), (i) => convert(r.at(...i), dtype), name);
}

defineLegalization('conv1d', (c) => conv(c, 1));
defineLegalization('conv2d', (c) => conv(c, 2));
defineLegalization('conv3d', (c) => conv(c, 3));

/**
 * A transposed convolution as a gather: output y takes input h through tap
 * k when y + pad_before = h * stride + k * dilation, along each spatial dim.
 */
function convTranspose(c: LegalizeCall, nd: number): Tensor {
  const x = c.tensor('data');
  const w = c.tensor('weight');
  const groups = c.attr<number>('groups');
  const win = windows(c, nd);
  const [inChannels, outPerGroup, ...kernel] = w.shape;
  const inPerGroup = divide(inChannels!, groups);
  const rc = reduceAxis(inPerGroup, 'rc');
  const rk = kernel.map((k, d) => spatialAxis(k, nd, d));
  return accumulated(c, `conv${nd}d_transpose`, (acc) => ([n, o, ...out]) => {
    const g = groups === 1 ? undefined : floordiv(o!, outPerGroup!);
    const ci = g ? add(mul(g, inPerGroup), rc.var) : rc.var;
    const co = g ? floormod(o!, outPerGroup!) : o!;
    const conds: PrimExpr[] = [];
    const idx = out.map((v, d) => {
      const { stride, dilation, before } = win[d]!;
      const t = shifted(sub(v, scaled(rk[d]!.var, dilation)), before);
      const i = stride === 1 ? t : floordiv(t, stride);
      conds.push(ge(t, 0), lt(i, x.shape[2 + d]!));
      if (stride !== 1) conds.push(eq(floormod(t, stride), 0));
      return i;
    });
    const term = mul(convert(x.at(n!, ci, ...idx), acc), convert(w.at(ci, co, ...rk.map((r) => r.var)), acc));
    return sum(term, [rc, ...rk], allOf(conds));
  });
}

for (const nd of [1, 2, 3]) defineLegalization(`conv${nd}d_transpose`, (c) => convTranspose(c, nd));

// --- pooling ------------------------------------------------------------------------

/**
 * Averages `x` over windows: a sum (skipping the taps `where` excludes), then
 * a division by the number of taps counted for each output. An empty window
 * averages to 0. Integers divide rounding toward zero (PyTorch).
 */
function average(
  c: LegalizeCall,
  name: string,
  at: (idx: readonly PrimVar[]) => { value: PrimExpr; where: PrimExpr | undefined; count: PrimExpr },
  axes: readonly ReduceAxis[],
): Tensor {
  const dtype = c.outDtype();
  const acc = accumulator(dtype);
  const total = compute(
    c.outShape(),
    (idx) => {
      const { value, where } = at(idx);
      return sum(convert(value, acc), axes, where);
    },
    `${name}_sum`,
  );
  return compute(
    c.outShape(),
    (idx) => {
      const count = at(idx).count;
      const k = constInt(count);
      const divisor = k === undefined ? convert(max(count, 1), acc) : lit(Math.max(k, 1), acc);
      const s = total.at(...idx);
      return convert(isFloat(acc) ? div(s, divisor) : truncdiv(s, divisor), dtype);
    },
    name,
  );
}

interface PoolAttrs {
  readonly win: Window[];
  readonly size: number[];
  readonly ceil: boolean;
  readonly includePad: boolean;
}

/**
 * The number of taps of a window that count towards an average: those inside
 * the input, or (count_include_pad) inside the padded input; with ceil_mode,
 * what the last window hangs past the padding never counts (PyTorch, ONNX).
 */
function tapCount(o: PrimExpr, w: Window, k: number, size: PrimExpr, p: PoolAttrs): PrimExpr {
  const lo = p.includePad ? -w.before : 0;
  const hi = p.includePad ? add(size, w.after) : size;
  const staysInside = p.includePad ? !p.ceil : !p.ceil && w.before === 0 && w.after === 0;
  if (staysInside) return intImm(k);
  // Taps t in [0, k) with lo <= start + t * dilation < hi.
  const start = shifted(scaled(o, w.stride), -w.before);
  const first = max(floordiv(sub(lo + w.dilation - 1, start), w.dilation), 0);
  const final = min(floordiv(sub(last(hi), start), w.dilation), k - 1);
  return analyzer.simplify(max(add(sub(final, first), 1), 0));
}

function pool(c: LegalizeCall, kind: 'max' | 'avg', nd: number): Tensor {
  const x = c.tensor('data');
  const p: PoolAttrs = {
    win: windows(c, nd),
    size: c.attr<number[]>('pool_size'),
    ceil: c.attr<boolean>('ceil_mode'),
    includePad: c.attr<boolean>('count_include_pad'),
  };
  const axes = p.size.map((k, d) => spatialAxis(k, nd, d));
  const window = ([n, ch, ...out]: readonly PrimVar[]): { value: PrimExpr; where: PrimExpr | undefined; count: PrimExpr } => {
    const taps = out.map((v, d) => tap(v, axes[d]!.var, p.win[d]!, x.shape[2 + d]!, p.ceil));
    const counts = out.map((v, d) => tapCount(v, p.win[d]!, p.size[d]!, x.shape[2 + d]!, p));
    return {
      value: x.at(n!, ch!, ...taps.map((t) => t.idx)),
      where: allOf(taps.flatMap((t) => t.conds)),
      count: product(counts),
    };
  };
  const name = `${kind}_pool${nd}d`;
  if (kind === 'avg') return average(c, name, window, axes);
  return compute(
    c.outShape(),
    (idx) => {
      const { value, where } = window(idx);
      return maxOf(value, axes, where);
    },
    name,
  );
}

for (const nd of [1, 2, 3]) {
  defineLegalization(`max_pool${nd}d`, (c) => pool(c, 'max', nd));
  defineLegalization(`avg_pool${nd}d`, (c) => pool(c, 'avg', nd));
}

/**
 * max_pool{nd}d_indices: an argmax over the window of (flat row-major input
 * index, value) pairs, the lowest index winning ties, which is the first in
 * the window's order; column_major then re-spells the spatial part of the
 * index with the first spatial dim fastest.
 */
function maxPoolIndices(c: LegalizeCall, nd: number): Tensor {
  const x = c.tensor('data');
  const win = windows(c, nd);
  const size = c.attr<number[]>('pool_size');
  const ceil = c.attr<boolean>('ceil_mode');
  const axes = size.map((k, d) => spatialAxis(k, nd, d));
  const name = `max_pool${nd}d_indices`;
  const rowMajor = c.attr<string>('index_order') === 'row_major';
  const [flat] = computeMany(
    c.outShape(),
    ([n, ch, ...out]) => {
      const taps = out.map((v, d) => tap(v, axes[d]!.var, win[d]!, x.shape[2 + d]!, ceil));
      const at = [n!, ch!, ...taps.map((t) => t.idx)];
      const index = castIfNeeded('int64', ravel(at, x.shape));
      return reduction(argReducer(true), [index, x.at(...at)], axes, allOf(taps.flatMap((t) => t.conds)));
    },
    [rowMajor ? name : `${name}_row_major`, `${name}_value`],
  );
  if (rowMajor) return flat!;
  const spatial = x.shape.slice(2).map((d) => castIfNeeded('int64', d));
  const image = spatial.reduce((a, b) => mul(a, b));
  return compute(
    c.outShape(),
    (i) => {
      const r = flat!.at(...i);
      const within = floormod(r, image);
      // The spatial coordinates, last dim fastest in r; then re-raveled first dim fastest.
      const coords: PrimExpr[] = [];
      let rest = within;
      for (let d = nd - 1; d >= 0; d--) {
        coords[d] = floormod(rest, spatial[d]!);
        rest = floordiv(rest, spatial[d]!);
      }
      const column = coords.reduceRight<PrimExpr | undefined>(
        (acc, v, d) => (acc === undefined ? v : add(mul(acc, spatial[d]!), v)),
        undefined,
      )!;
      return add(sub(r, within), column);
    },
    name,
  );
}

for (const nd of [1, 2, 3]) defineLegalization(`max_pool${nd}d_indices`, (c) => maxPoolIndices(c, nd));

/**
 * The window of adaptive pooling of output o over one dim (PyTorch):
 * [floor(o * in / out), ceil((o + 1) * in / out)).
 */
function adaptiveWindow(o: PrimExpr, size: PrimExpr, outSize: PrimExpr): { start: PrimExpr; end: PrimExpr } {
  return { start: floordiv(mul(o, size), outSize), end: floordiv(add(mul(add(o, 1), size), last(outSize)), outSize) };
}

/** The largest adaptive window: ceil(in / out), plus one when out does not divide in. */
function largestWindow(size: PrimExpr, outSize: PrimExpr): PrimExpr {
  return analyzer.simplify(add(floordiv(add(size, last(outSize)), outSize), min(floormod(size, outSize), 1)));
}

function adaptivePool(c: LegalizeCall, nd: number): Tensor {
  const x = c.tensor('data');
  const outShape = c.outShape();
  const inSizes = x.shape.slice(2);
  const outSizes = outShape.slice(2);
  const name = `adaptive_avg_pool${nd}d`;
  // Output as large as the input: each window is one element.
  if (inSizes.every((s, d) => analyzer.proveEqual(s, outSizes[d]!))) return compute(outShape, (idx) => x.at(...idx), name);
  const axes = inSizes.map((s, d) => spatialAxis(largestWindow(s, outSizes[d]!), nd, d));
  // Windows of one size (out divides in) need no bound on the taps.
  const uniform = inSizes.map((s, d) => analyzer.canProve(eq(floormod(s, outSizes[d]!), 0)));
  const window = ([n, ch, ...out]: readonly PrimVar[]): { value: PrimExpr; where: PrimExpr | undefined; count: PrimExpr } => {
    const wins = out.map((o, d) => adaptiveWindow(o, inSizes[d]!, outSizes[d]!));
    const idx = wins.map((w, d) => add(w.start, axes[d]!.var));
    const conds = wins.flatMap((w, d) => (uniform[d] ? [] : [lt(idx[d]!, w.end)]));
    const counts = wins.map((w, d) => (uniform[d] ? axes[d]!.dom.extent : sub(w.end, w.start)));
    return { value: x.at(n!, ch!, ...idx), where: allOf(conds), count: product(counts) };
  };
  return average(c, name, window, axes);
}

defineLegalization('adaptive_avg_pool1d', (c) => adaptivePool(c, 1));
defineLegalization('adaptive_avg_pool2d', (c) => adaptivePool(c, 2));

// --- pad ----------------------------------------------------------------------------

type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** The input index read for `src` (an output index minus the padding before) outside [0, size). */
function padSource(mode: Exclude<PadMode, 'constant'>, src: PrimExpr, size: PrimExpr): PrimExpr {
  switch (mode) {
    case 'replicate':
      return min(max(src, 0), last(size));
    case 'circular':
      return floormod(src, size);
    case 'reflect': {
      // Reflection (without repeating the edge) is periodic with period 2 * (size - 1);
      // a size of 1 reflects onto its only element.
      const period = analyzer.simplify(max(mul(sub(size, 1), 2), 1));
      const m = floormod(src, period);
      return min(m, sub(period, m));
    }
  }
}

defineLegalization('pad', (c) => {
  const x = c.tensor('data');
  const width = c.attr<number[]>('pad_width');
  const mode = c.attr<PadMode>('pad_mode');
  const dtype = c.outDtype();
  return compute(
    c.outShape(),
    (out) => {
      const conds: PrimExpr[] = [];
      const idx = out.map((o, a) => {
        const before = width[2 * a]!;
        const after = width[2 * a + 1]!;
        const size = x.shape[a]!;
        const src = shifted(o, -before);
        if (before <= 0 && after <= 0) return src;
        if (mode !== 'constant') return padSource(mode, src, size);
        // The load is clamped as well: a select may evaluate both of its branches.
        let clamped = src;
        if (before > 0) {
          conds.push(ge(src, 0));
          clamped = max(clamped, 0);
        }
        if (after > 0) {
          conds.push(lt(src, size));
          clamped = min(clamped, last(size));
        }
        return clamped;
      });
      const value = x.at(...idx);
      const inside = allOf(conds);
      return inside ? select(inside, value, lit(c.attr<number>('pad_value'), dtype)) : value;
    },
    'pad',
  );
});
