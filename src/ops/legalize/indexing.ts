/**
 * Legalizations of the operators of src/ops/indexing.ts. The gathers are one
 * compute each; scatter_elements is a hand-written loop nest, since later
 * updates see earlier ones. Index tensors may be of any integer type: they
 * are cast to the type of the dims, and a negative index counts from the end,
 * as in ONNX.
 */
import { Analyzer, simplify } from '../../ir/arith/analyzer.ts';
import { compute } from '../../ir/builder/te.ts';
import { isBool, isFloat } from '../../ir/dtype.ts';
import {
  add,
  and,
  castIfNeeded,
  div,
  floordiv,
  floormod,
  ge,
  intImm,
  load,
  lt,
  max,
  min,
  mul,
  or,
  type PrimExpr,
  primVar,
  product,
  select,
  sub,
} from '../../ir/prim/expr.ts';
import { type Buffer, buffer } from '../../ir/tir/buffer.ts';
import { allocate, forLoop, letStmt, seq, type Stmt, store } from '../../ir/tir/stmt.ts';
import { normAxis } from './common.ts';
import { unravel } from './manipulate.ts';
import { defineLegalization, type HandWritten, type LegalizeCall } from './registry.ts';

/** An element of an index tensor as an index into a dim of size `size`; negative counts from the end. */
function fromEnd(index: PrimExpr, size: PrimExpr): PrimExpr {
  const i = castIfNeeded(size.dtype, index);
  return select(lt(i, 0), add(i, size), i);
}

/** `a + b`, or `a` when b is the literal 0. */
function offset(a: PrimExpr, b: PrimExpr): PrimExpr {
  return b.kind === 'int' && b.value === 0 ? a : add(a, b);
}

// --- split --------------------------------------------------------------------------

defineLegalization('split', (c) => {
  const x = c.tensor('data');
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  const size = x.shape[axis]!;
  const ios = c.attr<number | readonly number[]>('indices_or_sections');
  // Where each part starts: sections are all as long as the first; cut points past the end clamp to it.
  const starts: PrimExpr[] =
    typeof ios === 'number'
      ? Array.from({ length: ios }, (_, k) => simplify(mul(c.outShape(0)[axis]!, k)))
      : [intImm(0), ...ios.map((cut) => simplify(min(intImm(cut), size)))];
  return starts.map((start, k) =>
    compute(c.outShape(k), (i) => x.at(...i.map((v, d) => (d === axis ? offset(v, start) : v))), `T_split${k}`),
  );
});

// --- strided_slice --------------------------------------------------------------------

/** Constants at least this large stand for "to the end" (ONNX and PyTorch write INT32_MAX or INT64_MAX). */
const HUGE = 2 ** 31 - 1;

/**
 * The first index a slice with begin `b` and step `step` reads, normalized as
 * numpy does (and as the inference counts): negative counts from the end, then
 * clamped to [0, size] for a positive step and to [-1, size - 1] for a negative one.
 */
function sliceStart(an: Analyzer, b: PrimExpr, size: PrimExpr, step: number, inbound: boolean): PrimExpr {
  const v = b.kind === 'int' ? b.value : undefined;
  // assume_inbound trusts the bounds: only a literal negative begin is counted from the end.
  if (inbound) return v !== undefined && v < 0 ? add(b, size) : b;
  const lo = step > 0 ? 0 : -1;
  const hi = step > 0 ? size : sub(size, 1);
  if (v !== undefined && v >= HUGE) return hi;
  if (v !== undefined && v <= -HUGE) return intImm(lo);
  const fromEndClamped = an.simplify(max(add(b, size), lo));
  const fromStartClamped = an.simplify(min(b, hi));
  if (an.canProve(ge(b, 0))) return fromStartClamped;
  if (an.canProve(lt(b, 0))) return fromEndClamped;
  return select(lt(b, 0), fromEndClamped, fromStartClamped);
}

defineLegalization('strided_slice', (c) => {
  const x = c.tensor('data');
  const begin = c.shape('begin');
  const strides = c.has('strides') ? c.shape('strides') : undefined;
  const inbound = c.attr<boolean>('assume_inbound');
  const axes = (c.optionalAttr<readonly number[]>('axes') ?? begin.map((_, i) => i)).map((a) => normAxis(a, x.shape.length));
  // Dims are never negative, which settles the sign of a begin such as `n`.
  const an = new Analyzer();
  for (const d of x.shape) if (d.kind === 'var') an.bindNonNegative(d);
  const slices = new Map<number, { start: PrimExpr; step: number }>();
  axes.forEach((a, i) => {
    const s = strides?.[i];
    // The inference knows the result's shape only for literal strides, so a call that got here has them.
    if (s !== undefined && s.kind !== 'int') throw new Error('strided_slice: legalized with a symbolic stride');
    const step = s?.value ?? 1;
    slices.set(a, { start: an.simplify(sliceStart(an, begin[i]!, x.shape[a]!, step, inbound)), step });
  });
  return compute(
    c.outShape(),
    (i) =>
      x.at(
        ...i.map((v, k) => {
          const sl = slices.get(k);
          if (!sl) return v;
          return offset(sl.step === 1 ? v : mul(v, sl.step), sl.start);
        }),
      ),
    'T_strided_slice',
  );
});

// --- gathers ----------------------------------------------------------------------------

/** take's index into a dim of `size`: fast trusts it (negative from the end), clip clamps, wrap wraps around. */
function takeIndex(index: PrimExpr, size: PrimExpr, mode: string): PrimExpr {
  const i = castIfNeeded(size.dtype, index);
  switch (mode) {
    case 'clip':
      // numpy's clip: a negative index is clipped to 0, not counted from the end.
      return min(max(i, 0), sub(size, 1));
    case 'wrap':
      return floormod(i, size);
    default:
      return fromEnd(i, size);
  }
}

defineLegalization('take', (c) => {
  const x = c.tensor('data');
  const indices = c.tensor('indices');
  const mode = c.attr<string>('mode');
  const axis = c.optionalAttr<number>('axis');
  if (axis === undefined) {
    // No axis: index the flattened tensor.
    const count = product([...x.shape]);
    return compute(c.outShape(), (i) => x.at(...unravel(takeIndex(indices.at(...i), count, mode), x.shape)), 'T_take');
  }
  const a = normAxis(axis, x.shape.length);
  const r = indices.shape.length;
  return compute(
    c.outShape(),
    (i) => x.at(...i.slice(0, a), takeIndex(indices.at(...i.slice(a, a + r)), x.shape[a]!, mode), ...i.slice(a + r)),
    'T_take',
  );
});

defineLegalization('gather_elements', (c) => {
  const x = c.tensor('data');
  const indices = c.tensor('indices');
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  return compute(
    c.outShape(),
    (i) => x.at(...i.map((v, k) => (k === axis ? fromEnd(indices.at(...i), x.shape[k]!) : v))),
    'T_gather_elements',
  );
});

defineLegalization('gather_nd', (c) => {
  const x = c.tensor('data');
  const indices = c.tensor('indices');
  const batch = c.attr<number>('batch_dims');
  const m = indices.shape.length - 1;
  const depth = indices.shape[m]!;
  // The inference knows the result's rank only when the index depth is a literal.
  if (depth.kind !== 'int') throw new Error('gather_nd: legalized with a symbolic index depth');
  return compute(
    c.outShape(),
    (o) => {
      const at = o.slice(0, m);
      const addressed = Array.from({ length: depth.value }, (_, j) => fromEnd(indices.at(...at, j), x.shape[batch + j]!));
      return x.at(...o.slice(0, batch), ...addressed, ...o.slice(m));
    },
    'T_gather_nd',
  );
});

// --- scatter_elements -------------------------------------------------------------------

/** A loop nest over `shape`; `body` gets the index. */
function loopNest(shape: readonly PrimExpr[], name: string, body: (idx: PrimExpr[]) => Stmt): Stmt {
  const vars = shape.map((d, k) => primVar(`${name}${k}`, d.dtype));
  let s = body(vars);
  for (let k = shape.length - 1; k >= 0; k--) s = forLoop(vars[k]!, intImm(0, shape[k]!.dtype), shape[k]!, s);
  return s;
}

/**
 * How a scattered value combines with the current one. bool has no
 * arithmetic: add and max are `or`, mul and min are `and`, as numpy's bool
 * ops; mean is `or` (a mean of 0s and 1s is non-zero when any is 1).
 */
function combine(reduction: string, cur: PrimExpr, update: PrimExpr): PrimExpr {
  const bool = isBool(cur.dtype);
  switch (reduction) {
    case 'add':
    case 'mean':
      return bool ? or(cur, update) : add(cur, update);
    case 'mul':
      return bool ? and(cur, update) : mul(cur, update);
    case 'max':
      return bool ? or(cur, update) : max(cur, update);
    case 'min':
      return bool ? and(cur, update) : min(cur, update);
    default:
      return update;
  }
}

/**
 * Copies data, then visits the updates in row-major order and combines each
 * into the element it addresses. mean averages each element's original value
 * with every update it gets (PyTorch's scatter_reduce with include_self):
 * a sum and a count, divided at the end (floored for integers).
 */
function scatterElements(c: LegalizeCall): HandWritten {
  const x = c.tensor('data');
  const indices = c.tensor('indices');
  const updates = c.tensor('updates');
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  const reduction = c.attr<string>('reduction');
  const out = buffer('T_scatter_elements', c.outShape(), c.outDtype());
  const mean = reduction === 'mean' && !isBool(out.dtype);
  const count: Buffer = buffer('scatter_count', x.shape, 'int64');

  const copy = loopNest(x.shape, 'i', (i) =>
    seq([store(out, i, x.at(...i)), ...(mean ? [store(count, i, intImm(1, 'int64'))] : [])]),
  );
  const scatter = loopNest(indices.shape, 'j', (j) => {
    const target = primVar('target', x.shape[axis]!.dtype);
    const at = j.map((v, k) => (k === axis ? target : v));
    const cur = load(out, at);
    const updated = [store(out, at, combine(reduction, cur, updates.at(...j)))];
    if (mean) updated.push(store(count, at, add(load(count, at), intImm(1, 'int64'))));
    return letStmt(target, fromEnd(indices.at(...j), x.shape[axis]!), seq(updated));
  });
  if (!mean) return { kind: 'tir', outputs: [out], body: seq([copy, scatter]) };

  const average = loopNest(x.shape, 'k', (k) => {
    const sum = load(out, k);
    const n = load(count, k);
    const value = isFloat(out.dtype) ? div(sum, castIfNeeded(out.dtype, n)) : floordiv(sum, castIfNeeded(out.dtype, n));
    return store(out, k, value);
  });
  return { kind: 'tir', outputs: [out], body: allocate(count, seq([copy, scatter, average])) };
}

defineLegalization('scatter_elements', scatterElements);
