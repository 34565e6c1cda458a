/**
 * Loop transformations: split, fuse and reorder. Each rewrites a loop nest
 * and substitutes the old loop variables in what is beneath it; blocks see
 * loops only through their iterator values, so those values (and the block
 * predicates) are all that change inside blocks.
 */
import {
  add,
  eq,
  floordiv,
  floormod,
  ge,
  intImm,
  lt,
  mul,
  type PrimExpr,
  type PrimVar,
  primVar,
  primVars,
  product,
} from '../../ir/prim/expr.ts';
import { type For, forLoop, type PrimFunc, type Stmt } from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getLoop, pathTo, replaceStmt, withBody } from '../tree.ts';
import { substituteStmt } from '../../ir/tir/subst.ts';
import { analyzerAt, blocksUnder, describeKind, describeStmt, withPredicate } from './nest-utils.ts';

/**
 * Splits `loop` into nested loops whose extents are `factors` (outermost
 * first); one factor may be null and is then the smallest that covers the
 * extent. When the product does not provably equal the extent, the blocks
 * beneath get the predicate `combined < extent`, as in TVM.
 */
export function split(
  f: PrimFunc,
  loop: PrimVar,
  factors: readonly (number | null)[],
  ctx: PrimitiveContext,
): { func: PrimFunc; loops: PrimVar[] } {
  const target = getLoop(f, loop, ctx);
  requireSerial(target, 'split', ctx);
  if (factors.length < 2) scheduleFail(ctx, `split of loop '${loop.name}' needs at least 2 factors, found ${factors.length}`);
  if (factors.filter((x) => x === null).length > 1) {
    scheduleFail(ctx, `at most one factor may be null (inferred), found ${factors.filter((x) => x === null).length}`);
  }
  for (const x of factors) {
    if (x !== null && !(Number.isSafeInteger(x) && x > 0)) scheduleFail(ctx, `factor ${x} is not a positive integer`);
  }
  const dtype = loop.dtype;
  const analyzer = analyzerAt(f, target);
  const known = factors.reduce<number>((acc, x) => acc * (x ?? 1), 1);
  const extent = target.extent;
  const extents = factors.map((x) =>
    x === null ? analyzer.simplify(floordiv(add(extent, intImm(known - 1, dtype)), intImm(known, dtype))) : intImm(x, dtype),
  );
  const total = analyzer.simplify(product(extents, dtype));
  if (!factors.includes(null) && !analyzer.canProve(ge(total, extent))) {
    scheduleFail(
      ctx,
      analyzer.canProve(lt(total, extent))
        ? `the factors' product ${known} is less than the extent of loop '${loop.name}'`
        : `cannot prove that the factors' product ${known} covers the extent of loop '${loop.name}'; give one factor as null`,
    );
  }
  const exact = analyzer.canProve(eq(total, extent));
  const vars = factors.map((_, i) => primVar(`${loop.name}_${i}`, dtype));
  // The new loops' ranges are known, so an extent-1 loop drops out of the combined index.
  vars.forEach((v, i) => analyzer.bind(v, { min: intImm(0, dtype), extent: extents[i]! }));
  const combined = analyzer.simplify(vars.slice(1).reduce<PrimExpr>((acc, v, i) => add(mul(acc, extents[i + 1]!), v), vars[0]!));
  const isZeroMin = target.min.kind === 'int' && target.min.value === 0;
  const value = isZeroMin ? combined : analyzer.simplify(add(target.min, combined));
  let body = substituteStmt(target.body, new Map([[loop, value]]));
  if (!exact) body = guardBlocks(body, analyzer.simplify(lt(combined, extent)), loop, ctx);
  const nest = vars.reduceRight<Stmt>((inner, v, i) => forLoop(v, intImm(0, dtype), extents[i]!, inner), body);
  return { func: withBody(f, replaceStmt(f.body, target, nest)), loops: vars };
}

/** Adds `cond` to the predicate of every block under `body`; effects outside blocks have no predicate to carry it. */
function guardBlocks(body: Stmt, cond: PrimExpr, loop: PrimVar, ctx: PrimitiveContext): Stmt {
  const { blocks, loose } = blocksUnder(body);
  const bare = loose.filter((x) => x.kind !== 'block_realize');
  if (bare.length > 0) {
    scheduleFail(
      ctx,
      `the factors do not divide the extent of loop '${loop.name}', and ${describeStmt(bare[0]!)} under it is in no block ` +
        'to carry the bounds predicate; choose factors that divide the extent',
    );
  }
  return blocks.reduce((s, r) => replaceStmt(s, r, withPredicate(r, cond)), body);
}

/**
 * Fuses perfectly nested consecutive loops (outermost first) into one loop
 * `<a>_<b>_fused` whose extent is the product; each old variable becomes a
 * floordiv/floormod of the new one. One loop fuses to itself.
 */
export function fuse(f: PrimFunc, loops: readonly PrimVar[], ctx: PrimitiveContext): { func: PrimFunc; loop: PrimVar } {
  if (loops.length === 0) scheduleFail(ctx, 'no loops to fuse');
  requireDistinct(loops, ctx);
  const fors = loops.map((v) => getLoop(f, v, ctx));
  for (const l of fors) requireSerial(l, 'fused', ctx);
  if (fors.length === 1) return { func: f, loop: loops[0]! };
  for (let i = 1; i < fors.length; i++) {
    const outer = fors[i - 1]!;
    const inner = fors[i]!;
    if (outer.body === inner) continue;
    const hint = inner.body === outer ? '; give the loops outermost first' : `; its body is ${describeStmt(outer.body)}`;
    scheduleFail(
      ctx,
      `loop '${inner.loopVar.name}' is not directly nested in loop '${outer.loopVar.name}' (fuse needs perfectly nested consecutive loops)${hint}`,
    );
  }
  const dtype = loops[0]!.dtype;
  const mixed = loops.find((v) => v.dtype !== dtype);
  if (mixed) scheduleFail(ctx, `loop '${mixed.name}' has type ${mixed.dtype}, loop '${loops[0]!.name}' ${dtype}`);
  const own = new Set(loops);
  for (const l of fors) {
    const dep = [...primVars(l.min), ...primVars(l.extent)].find((v) => own.has(v));
    if (dep) scheduleFail(ctx, `the range of loop '${l.loopVar.name}' depends on loop '${dep.name}'; such loops cannot fuse`);
  }
  const analyzer = analyzerAt(f, fors[0]!);
  const extents = fors.map((l) => l.extent);
  const total = analyzer.simplify(product(extents, dtype));
  const fused = primVar(`${loops.map((v) => v.name).join('_')}_fused`, dtype);
  analyzer.bind(fused, { min: intImm(0, dtype), extent: total });
  const map = new Map<PrimVar, PrimExpr>();
  fors.forEach((l, i) => {
    const stride = product(extents.slice(i + 1), dtype);
    const q = floordiv(fused, stride);
    // The outermost quotient is below its extent already.
    const index = i === 0 ? q : floormod(q, l.extent);
    map.set(l.loopVar, analyzer.simplify(add(l.min, index)));
  });
  const inner = fors[fors.length - 1]!;
  const loop = forLoop(fused, intImm(0, dtype), total, substituteStmt(inner.body, map));
  return { func: withBody(f, replaceStmt(f.body, fors[0]!, loop)), loop: fused };
}

/**
 * Reorders loops of one perfectly nested chain into the given order (outermost
 * first). Loops of the chain between them that are not named stay where they
 * are; the named loops take the named loops' places in the new order.
 */
export function reorder(f: PrimFunc, loops: readonly PrimVar[], ctx: PrimitiveContext): PrimFunc {
  if (loops.length === 0) scheduleFail(ctx, 'no loops to reorder');
  requireDistinct(loops, ctx);
  const fors = loops.map((v) => getLoop(f, v, ctx));
  for (const l of fors) requireSerial(l, 'reordered', ctx);
  const chain = chainOf(f, fors, ctx);
  const given = new Set<For>(fors);
  const slots = chain.flatMap((l, i) => (given.has(l) ? [i] : []));
  const order = chain.slice();
  slots.forEach((slot, k) => (order[slot] = fors[k]!));
  // A loop's range may only use loops that stay outside it.
  const chainVars = new Set(chain.map((l) => l.loopVar));
  order.forEach((l, i) => {
    const inside = new Set(order.slice(i).map((x) => x.loopVar));
    const dep = [...primVars(l.min), ...primVars(l.extent)].find((v) => chainVars.has(v) && inside.has(v));
    if (dep) {
      scheduleFail(ctx, `the range of loop '${l.loopVar.name}' depends on loop '${dep.name}', which would move inside it`);
    }
  });
  const innermost = chain[chain.length - 1]!;
  // Blocks declare which iterations are independent; a bare store may carry a dependence between iterations.
  const { loose } = blocksUnder(innermost.body);
  if (loose.length > 0) {
    scheduleFail(
      ctx,
      `${describeStmt(loose[0]!)} under loop '${innermost.loopVar.name}' is not in a block with iterators; ` +
        'reorder needs those to know the iterations are independent',
    );
  }
  const nest = order.reduceRight<Stmt>((body, l) => ({ ...l, body }), innermost.body);
  return withBody(f, replaceStmt(f.body, chain[0]!, nest));
}

/** The loops from the outermost of `fors` down to the innermost, each the whole body of the one above. */
function chainOf(f: PrimFunc, fors: readonly For[], ctx: PrimitiveContext): For[] {
  const names = fors.map((l) => `'${l.loopVar.name}'`).join(', ');
  const depth = new Map(fors.map((l) => [l, pathTo(f.body, l)?.length ?? 0]));
  const outer = fors.reduce((a, b) => (depth.get(b)! < depth.get(a)! ? b : a));
  const chain: For[] = [outer];
  const remaining = new Set(fors.filter((l) => l !== outer));
  let s: For = outer;
  while (remaining.size > 0) {
    if (s.body.kind !== 'for') {
      const missing = [...remaining].map((l) => `'${l.loopVar.name}'`).join(', ');
      scheduleFail(
        ctx,
        `loops ${names} are not one chain of perfectly nested loops: below loop '${s.loopVar.name}' is ${describeStmt(s.body)}, ` +
          `not loop ${missing}`,
      );
    }
    s = s.body;
    chain.push(s);
    remaining.delete(s);
  }
  return chain;
}

function requireSerial(l: For, what: string, ctx: PrimitiveContext): void {
  if (l.forKind !== 'serial') {
    scheduleFail(ctx, `loop '${l.loopVar.name}' is ${describeKind(l)}; only a serial loop can be ${what}`);
  }
}

function requireDistinct(loops: readonly PrimVar[], ctx: PrimitiveContext): void {
  const seen = new Set<PrimVar>();
  for (const v of loops) {
    if (seen.has(v)) scheduleFail(ctx, `loop '${v.name}' is given twice`);
    seen.add(v);
  }
}
