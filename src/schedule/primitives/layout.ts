/**
 * transform_layout of a read-only buffer parameter: the kernel takes the
 * parameter in another layout, given as a list of the new axes, each a source
 * axis as is, or the quotient or remainder of one by a factor. A matmul's B
 * [K, N] taken as panels [N/8, K, 8] is `[div 1 8, axis 0, mod 1 8]`: every
 * load `B[k, j]` becomes `Bp[j // 8, k, j % 8]`, which the simplifier folds
 * to constant offsets once j is split by 8. The caller supplies the tensor in
 * the new layout (TVM's layout-free buffers, rewritten by MetaSchedule's
 * RewriteLayout): the schedule stage inserts `layoutTransformFunc` before
 * every call, on the constant the argument is, and folds it at build time.
 * Only whole blocks of a factor: a factor that does not divide its axis would
 * need padding, which a read-only layout change cannot express.
 *
 * `pad` widens an axis with zeros before and after it (a convolution's input
 * copied padded once per call): reads shift by the padding, and a guard that
 * only kept an accumulation `y += x * w` from reading x outside the old
 * bounds, now zeros, is dropped where the padding covers every index the
 * read can take — the taps that fall in the padding add 0 * w, as the
 * operator defines them.
 */
import type { AttrMap } from '../../ir/attrs.ts';
import { Analyzer } from '../../ir/arith/analyzer.ts';
import { type Buffer, buffer as makeBuffer } from '../../ir/tir/buffer.ts';
import { inferBlockRegions } from '../../ir/tir/regions.ts';
import {
  add,
  and,
  conjuncts,
  floatImm,
  ge,
  lt,
  sub,
  floordiv,
  floormod,
  intImm,
  load,
  mapPrimChildren,
  mul,
  type PrimExpr,
  type PrimVar,
  primVar,
  primVars,
  substitute,
  visitPrim,
} from '../../ir/prim/expr.ts';
import {
  block,
  type BufferRegion,
  forLoop,
  iterVar,
  mapStmtChildren,
  type PrimFunc,
  primFunc,
  range,
  type Stmt,
  type StmtMapper,
  store,
  visitStmts,
  blockRealize,
  ifThenElse,
} from '../../ir/tir/stmt.ts';
import { isFloat } from '../../ir/dtype.ts';
import { simplify } from '../../ir/arith/analyzer.ts';
import { primExprEqual } from '../../ir/structural.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';

/**
 * One axis of the new layout: source axis `i`, its quotient / remainder by `f`, or every `f`-th element
 * of it (`step`: the kernel reads only those, a stride-2 1x1 convolution's input; the others are dropped).
 */
export type LayoutAxis =
  | readonly ['axis', number]
  | readonly ['div', number, number]
  | readonly ['mod', number, number]
  | readonly ['step', number, number]
  | readonly ['pad', number, number, number];

/** Whether `v` has the form of a layout map (a trace attribute read back); layoutProblem checks the rest. */
export function isLayoutMap(v: unknown): v is LayoutAxis[] {
  return (
    Array.isArray(v) &&
    v.every(
      (a) =>
        Array.isArray(a) &&
        ((a[0] === 'axis' && a.length === 2) ||
          (['div', 'mod', 'step'].includes(a[0] as string) && a.length === 3) ||
          (a[0] === 'pad' && a.length === 4)) &&
        a.slice(1).every((x: unknown) => typeof x === 'number'),
    )
  );
}

/** Why `map` is not a blocking of a buffer of `shape` (every source axis once, whole blocks), or undefined. */
export function layoutProblem(shape: readonly PrimExpr[], map: readonly LayoutAxis[]): string | undefined {
  const seen = new Map<number, string[]>();
  for (const a of map) {
    const i = a[1];
    if (!Number.isInteger(i) || i < 0 || i >= shape.length) return `axis ${i} is not an axis of a rank-${shape.length} buffer`;
    seen.set(i, [...(seen.get(i) ?? []), a[0] === 'step' || a[0] === 'pad' ? 'axis' : a[0]]);
    if (a[0] === 'pad') {
      if (![a[2], a[3]].every((x) => Number.isInteger(x) && x >= 0)) return `padding of axis ${i} must be whole numbers >= 0`;
    } else if (a[0] === 'step') {
      if (!Number.isInteger(a[2]) || a[2] < 1) return `step ${a[2]} of axis ${i} is not a positive integer`;
      if (shape[i]!.kind !== 'int') return `axis ${i} is symbolic; a step needs a constant extent`;
    } else if (a[0] !== 'axis') {
      const f = a[2];
      const d = shape[i]!;
      if (!Number.isInteger(f) || f < 1) return `factor ${f} of axis ${i} is not a positive integer`;
      if (d.kind !== 'int' || d.value % f !== 0)
        return `axis ${i} (extent ${d.kind === 'int' ? d.value : 'symbolic'}) is not a whole number of blocks of ${f}`;
    }
  }
  for (let i = 0; i < shape.length; i++) {
    const uses = (seen.get(i) ?? []).sort().join(',');
    if (uses !== 'axis' && uses !== 'div,mod') return `axis ${i} must appear once, or once as div and once as mod`;
  }
  for (const a of map) {
    if (a[0] === 'div' && !map.some((b) => b[0] === 'mod' && b[1] === a[1] && b[2] === a[2])) {
      return `axis ${a[1]} is divided and taken modulo by different factors`;
    }
  }
  return undefined;
}

/** The shape of the buffer in the new layout. */
export function layoutShape(shape: readonly PrimExpr[], map: readonly LayoutAxis[]): PrimExpr[] {
  return map.map((a) => {
    if (a[0] === 'axis') return shape[a[1]]!;
    if (a[0] === 'mod') return intImm(a[2]);
    if (a[0] === 'step') return intImm(Math.ceil((shape[a[1]]! as { value: number }).value / a[2]));
    if (a[0] === 'pad') return simplify(add(shape[a[1]]!, a[2] + a[3]));
    return intImm((shape[a[1]]! as { value: number }).value / a[2]);
  });
}

/** Indices into the new layout of the element at `indices` of the old one. */
export function layoutIndices(indices: readonly PrimExpr[], map: readonly LayoutAxis[]): PrimExpr[] {
  return map.map((a) =>
    a[0] === 'axis'
      ? indices[a[1]]!
      : a[0] === 'pad'
        ? simplify(add(indices[a[1]]!, a[2]))
        : a[0] === 'div' || a[0] === 'step'
          ? floordiv(indices[a[1]]!, a[2])
          : floormod(indices[a[1]]!, a[2]),
  );
}

/** Indices into the old layout of the element at `indices` of the new one (the map's inverse). */
function sourceIndices(rank: number, indices: readonly PrimExpr[], map: readonly LayoutAxis[]): PrimExpr[] {
  return Array.from({ length: rank }, (_, i) => {
    const plain = map.findIndex((a) => a[0] === 'axis' && a[1] === i);
    if (plain >= 0) return indices[plain]!;
    const pad = map.findIndex((a) => a[0] === 'pad' && a[1] === i);
    if (pad >= 0) return sub(indices[pad]!, (map[pad] as readonly ['pad', number, number, number])[2]);
    const step = map.findIndex((a) => a[0] === 'step' && a[1] === i);
    if (step >= 0) return mul(indices[step]!, (map[step] as readonly ['step', number, number])[2]);
    const q = map.findIndex((a) => a[0] === 'div' && a[1] === i);
    const r = map.findIndex((a) => a[0] === 'mod' && a[1] === i);
    return add(mul(indices[q]!, (map[q] as readonly ['div', number, number])[2]), indices[r]!);
  });
}

export function transformLayout(f: PrimFunc, param: number, map: readonly LayoutAxis[], ctx: PrimitiveContext): PrimFunc {
  const old = f.params[param];
  if (old?.kind !== 'buffer') scheduleFail(ctx, `parameter ${param} is not a buffer parameter`);
  if (old.strides.length > 0) scheduleFail(ctx, `buffer '${old.name}' has explicit strides`);
  const problem = layoutProblem(old.shape, map);
  if (problem) scheduleFail(ctx, `layout of '${old.name}': ${problem}`);
  visitStmts(f.body, (s) => {
    if (s.kind === 'store' && s.buffer === old)
      scheduleFail(ctx, `buffer '${old.name}' is written; only an input's layout can change`);
    if (s.kind === 'block_realize' && s.block.writes.some((w) => w.buffer === old)) {
      scheduleFail(ctx, `block '${s.block.name}' writes buffer '${old.name}'; only an input's layout can change`);
    }
  });
  // A stepped axis drops the elements between steps: every read of it must land on a step.
  const steps = map.filter((a): a is readonly ['step', number, number] => a[0] === 'step');
  if (steps.length > 0) {
    const analyzer = boundAnalyzer(f);
    const check = (indices: readonly PrimExpr[]): void => {
      for (const [, axis, step] of steps) {
        const r = analyzer.simplify(floormod(indices[axis]!, step));
        if (r.kind !== 'int' || r.value !== 0) {
          scheduleFail(ctx, `buffer '${old.name}' is read off the step of ${step} along axis ${axis}`);
        }
      }
    };
    visitStmts(f.body, (s) => {
      const exprs = s.kind === 'store' ? [s.value, ...s.indices] : s.kind === 'if' ? [s.cond] : s.kind === 'let' ? [s.value] : [];
      for (const e of exprs) {
        visitPrim(e, (x) => {
          if (x.kind === 'load' && x.buffer === old) check(x.indices);
        });
      }
    });
  }
  const fresh: Buffer = makeBuffer(old.name, layoutShape(old.shape, map), old.dtype, { scope: old.scope });
  const expr = (e: PrimExpr): PrimExpr => {
    const x = mapPrimChildren(e, expr);
    return x.kind === 'load' && x.buffer === old ? load(fresh, layoutIndices(x.indices, map)) : x;
  };
  // A point region (a block reading one element) maps to a point; a wider one to the whole buffer.
  const region = (r: BufferRegion): BufferRegion => {
    if (r.buffer !== old) return r;
    const point = r.region.every((x) => x.extent.kind === 'int' && x.extent.value === 1);
    return point
      ? {
          buffer: fresh,
          region: layoutIndices(
            r.region.map((x) => x.min),
            map,
          ).map((m) => range(m, 1)),
        }
      : { buffer: fresh, region: fresh.shape.map((d) => range(0, d)) };
  };
  const pads = map.filter((a): a is readonly ['pad', number, number, number] => a[0] === 'pad');
  const unguard = pads.length > 0 ? paddingGuards(f, old, pads) : (s: Stmt): Stmt => s;
  const stmt = (s: Stmt): Stmt => {
    const m: StmtMapper = { stmt, expr };
    const x = mapStmtChildren(unguard(s), m);
    if (x.kind !== 'block_realize') return x;
    const reads = x.block.reads.map(region);
    if (reads.every((r, i) => r === x.block.reads[i])) return x;
    // A block whose body reads the new buffer directly gets its region inferred as the text format does.
    const inferred = inferBlockRegions(x.block).reads.find((r) => r.buffer === fresh);
    return { ...x, block: { ...x.block, reads: reads.map((r) => (r.buffer === fresh && inferred ? inferred : r)) } };
  };
  const params = f.params.map((p, i) => (i === param ? fresh : p));
  return primFunc(params, stmt(f.body), f.attrs);
}

/**
 * Drops, from a guard around `y = y + x * w` with x a read of `old`, each bound check of x's index along
 * a padded axis that the padding makes true (the read lands on a zero, adding nothing).
 */
export function paddingGuards(
  f: PrimFunc,
  old: Buffer,
  pads: readonly (readonly ['pad', number, number, number])[],
): (s: Stmt) => Stmt {
  const analyzer = boundAnalyzer(f);
  return (s) => {
    if (s.kind !== 'if' || s.else || s.then.kind !== 'store') return s;
    const update = s.then;
    const v = update.value;
    if (v.kind !== 'binary' || v.op !== 'add') return s;
    const acc = [v.a, v.b].find((e) => e.kind === 'load' && e.buffer === update.buffer);
    const prod = v.a === acc ? v.b : v.a;
    if (!acc || prod.kind !== 'binary' || prod.op !== 'mul') return s;
    const x = [prod.a, prod.b].find((e): e is PrimExpr & { kind: 'load' } => e.kind === 'load' && e.buffer === old);
    if (!x) return s;
    // The checks the padding answers: index >= 0 where `before` covers its least value, index < extent
    // where `after` covers its greatest.
    const covered = (c: PrimExpr): boolean =>
      pads.some(([, axis, before, after]) => {
        const e = x.indices[axis]!;
        const extent = old.shape[axis]!;
        if (c.kind !== 'binary') return false;
        const is = (a: PrimExpr, b: PrimExpr): boolean => primExprEqual(a, b);
        const lower = (c.op === 'ge' && is(c.a, e) && is(c.b, intImm(0))) || (c.op === 'le' && is(c.b, e) && is(c.a, intImm(0)));
        const upper = (c.op === 'lt' && is(c.a, e) && is(c.b, extent)) || (c.op === 'gt' && is(c.b, e) && is(c.a, extent));
        if (lower) return analyzer.canProve(ge(e, -before));
        if (upper) return analyzer.canProve(lt(e, add(extent, after)));
        return false;
      });
    const kept = conjuncts(s.cond).filter((c) => !covered(c));
    if (kept.length === conjuncts(s.cond).length) return s;
    return kept.length === 0
      ? update
      : ifThenElse(
          kept.reduce((a, b) => and(a, b)),
          update,
        );
  };
}

/** An analyzer that knows the range of every loop variable and block iterator of `f`. */
function boundAnalyzer(f: PrimFunc): Analyzer {
  const analyzer = new Analyzer();
  visitStmts(f.body, (s) => {
    if (s.kind === 'block_realize') for (const iv of s.block.iterVars) analyzer.bind(iv.var, iv.dom);
    if (s.kind === 'for') analyzer.bind(s.loopVar, range(s.min, s.extent));
  });
  return analyzer;
}

/** Whether expression `e` loads from `b`. */
export function loadsFrom(e: PrimExpr, b: Buffer): boolean {
  let found = false;
  visitPrim(e, (x) => {
    if (x.kind === 'load' && x.buffer === b) found = true;
  });
  return found;
}

/**
 * The kernel that rewrites a tensor of `source`'s shape into the layout `map`:
 * one block over the new layout's elements gathering each from the old one.
 */
export function layoutTransformFunc(source: Buffer, map: readonly LayoutAxis[], attrs: AttrMap = {}): PrimFunc {
  // Its own symbolic sizes: a PrimFunc defines the variables of its parameters' shapes.
  const fresh = new Map<PrimVar, PrimExpr>();
  for (const d of source.shape) for (const v of primVars(d)) if (!fresh.has(v)) fresh.set(v, primVar(v.name, v.dtype));
  const src = makeBuffer(
    source.name,
    source.shape.map((d) => substitute(d, fresh)),
    source.dtype,
  );
  const dstShape = layoutShape(src.shape, map);
  const dst = makeBuffer(`${source.name}_packed`, dstShape, source.dtype);
  const loops = dstShape.map((_, i) => primVar(`i${i}`));
  const iters = dstShape.map((d, i) => iterVar(primVar(`v${i}`), range(0, d), 'spatial'));
  const vs = iters.map((iv) => iv.var);
  const from = sourceIndices(src.shape.length, vs, map);
  // A padded axis reads the source only inside it; the padding is zeros.
  const inside = map.flatMap((a) => (a[0] === 'pad' ? [ge(from[a[1]]!, 0), lt(from[a[1]]!, src.shape[a[1]]!)] : []));
  const copy = store(dst, vs, load(src, from));
  const zero = store(dst, vs, isFloat(src.dtype) ? floatImm(0, src.dtype) : intImm(0, src.dtype));
  const body = blockRealize(
    loops,
    block({
      name: 'layout_transform',
      iterVars: iters,
      reads: [{ buffer: src, region: from.map((x) => range(x, 1)) }],
      writes: [{ buffer: dst, region: vs.map((x) => range(x, 1)) }],
      body:
        inside.length === 0
          ? copy
          : ifThenElse(
              inside.reduce((a, b) => and(a, b)),
              copy,
              zero,
            ),
    }),
  );
  const nest = loops.reduceRight<Stmt>((inner, v, i) => forLoop(v, 0, dstShape[i]!, inner), body);
  return primFunc([src, dst], nest, attrs);
}
