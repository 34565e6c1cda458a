/**
 * plan-memory: static storage planning of each binding block of a graph
 * function (TVM Relax's StaticPlanBlockMemory).
 *
 * The intermediates of a block (call_tir results used only as arguments of
 * later call_tir in the block) get storage tokens, walking the bindings in
 * order: a token is free again after the last use of the tensor in it; a new
 * tensor takes a free token whose size is provably at least its own (the
 * smallest such), else grows a free one (the size becomes the larger of the
 * two, symbolically `max(a, b)` when neither is provably larger), else a new
 * token. An elementwise kernel whose input dies at the call writes its output
 * over that input (in place). Sizes are symbolic byte counts rounded up to 64;
 * the tokens lie one after the other in one arena per block, so every offset
 * is an expression the VM evaluates at run time.
 *
 * The plan is IR: `storage = alloc_storage(shape(bytes))` at the start of the
 * block, `t = alloc_tensor(storage, prim(offset), shape(...), dtype=...)`
 * before each planned call, and `call_tir(..., dst: t)`. Values that leave the
 * block, or are used by anything but a kernel's arguments, keep being
 * allocated by the VM. Tensors whose shape uses a variable defined inside the
 * function (by a match_cast) are left alone too.
 */
import { isComposite } from '../ir/graph/composite.ts';
import { Analyzer } from '../ir/arith/analyzer.ts';
import { byteSize } from '../ir/dtype.ts';
import {
  type Binding,
  bindingBlock,
  type BindingBlock,
  type CallTIR,
  callTIR,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  graphVar,
  opCall,
  primValue,
  type SeqExpr,
  seqExpr,
  shapeExpr,
  varBinding,
} from '../ir/graph/expr.ts';
import { type TensorStructInfo, tensorSI, visitStructInfoExprs } from '../ir/graph/struct-info.ts';
import { irModule, type IRModule, type ModuleFunction } from '../ir/module.ts';
import { add, constInt, floordiv, intImm, max, mul, type PrimExpr, type PrimVar, primVars, substitute } from '../ir/prim/expr.ts';
import { collectBlocks } from '../ir/tir/stmt.ts';
import { visitSeqVars } from './fuse-ops.ts';
import { kernelPattern } from './op-pattern.ts';
import type { Pass } from './registry.ts';

export const ARENA_ALIGN = 64;

export interface BlockPlanStats {
  /** Planned tensors and the tokens they share. */
  readonly tensors: number;
  readonly tokens: number;
  readonly inPlace: number;
  /** Bytes, as expressions over the function's symbolic variables. */
  readonly naive: PrimExpr;
  readonly planned: PrimExpr;
  /** The most bytes live at once: what no plan can go below. */
  readonly peak: PrimExpr;
}

export interface PlanStats {
  readonly functions: Record<string, BlockPlanStats[]>;
}

export function planMemory(): Pass {
  return { name: 'plan-memory', run: (m) => planModule(m) };
}

export function planModule(m: IRModule, stats?: PlanStats): IRModule {
  let changed = false;
  const out = new Map<string, ModuleFunction>();
  for (const [name, f] of m.functions) {
    if (f.kind !== 'func' || isComposite(f)) {
      out.set(name, f);
      continue;
    }
    const blockStats: BlockPlanStats[] = [];
    const g = planFunc(m, f, blockStats);
    if (stats && blockStats.length > 0) stats.functions[name] = blockStats;
    if (g !== f) changed = true;
    out.set(name, g);
  }
  return changed ? irModule(out, m.attrs) : m;
}

/** An analyzer that knows every symbolic variable of the function is non-negative and within its upper bound. */
export function functionAnalyzer(f: GraphFunc): Analyzer {
  const a = new Analyzer();
  const vars = new Set<PrimVar>();
  for (const p of f.params) visitStructInfoExprs(p.sinfo, (e) => primVars(e, vars));
  a.bindNonNegative(...vars);
  return a;
}

function tensorBytes(s: TensorStructInfo): PrimExpr {
  const elems = s.shape!.reduce<PrimExpr>((acc, d) => mul(acc, d), intImm(1));
  return mul(elems, intImm(byteSize(s.dtype)));
}

/** Bytes rounded up to the arena alignment (monotone, so sizes compare before rounding). */
function aligned(bytes: PrimExpr): PrimExpr {
  return mul(floordiv(add(bytes, intImm(ARENA_ALIGN - 1)), intImm(ARENA_ALIGN)), intImm(ARENA_ALIGN));
}

interface Token {
  /** The most bytes a tensor in it takes (not yet aligned). */
  size: PrimExpr;
  /** The tensor in it now, and the index of its last use. */
  lastUse: number;
}

function planFunc(m: IRModule, f: GraphFunc, stats: BlockPlanStats[]): GraphFunc {
  const analyzer = functionAnalyzer(f);
  const known = new Set<PrimVar>();
  for (const p of f.params) visitStructInfoExprs(p.sinfo, (e) => primVars(e, known));
  const names = new Set<string>();
  visitSeqVars(f.body, (v) => names.add(v.name));
  for (const p of f.params) names.add(p.name);
  for (const blk of f.body.blocks) for (const b of blk.bindings) names.add(b.var.name);
  const fresh = (hint: string): string => {
    let n = hint;
    for (let i = 1; names.has(n); i++) n = `${hint}_${i}`;
    names.add(n);
    return n;
  };
  let changed = false;
  const blocks = f.body.blocks.map((blk, bi) => {
    const rest: SeqExpr = seqExpr(
      f.body.blocks.filter((_, j) => j !== bi),
      f.body.body,
    );
    const planned = planBlock(m, blk, rest, analyzer, known, fresh);
    if (!planned) return blk;
    changed = true;
    stats.push(planned.stats);
    return planned.block;
  });
  if (!changed) return f;
  return graphFunc(f.params, seqExpr(blocks, f.body.body), f.ret, f.attrs);
}

function planBlock(
  m: IRModule,
  blk: BindingBlock,
  rest: SeqExpr,
  analyzer: Analyzer,
  known: ReadonlySet<PrimVar>,
  fresh: (hint: string) => string,
): { block: BindingBlock; stats: BlockPlanStats } | undefined {
  const outside = new Set<GraphVar>();
  visitSeqVars(rest, (v) => outside.add(v));
  const index = new Map<GraphVar, number>();
  blk.bindings.forEach((b, i) => index.set(b.var, i));
  // Uses: as a kernel's argument (index of the last one), or anything else (the value escapes).
  const lastUse = new Map<GraphVar, number>();
  const escapes = new Set<GraphVar>(outside);
  blk.bindings.forEach((b, i) => {
    const v = b.value;
    if (b.kind === 'bind' && v.kind === 'call_tir') {
      for (const a of v.args) if (a.kind === 'graph_var') lastUse.set(a, i);
      for (const a of v.args) if (a.kind === 'tuple') visitSeqVars(seqExpr([], a), (x) => escapes.add(x));
      if (v.dst) escapes.add(v.dst);
    } else {
      visitSeqVars(seqExpr([bindingBlock([b], blk.dataflow)], b.var), (x) => {
        if (x !== b.var) escapes.add(x);
      });
    }
  });
  const candidate = (b: Binding): b is Binding & { value: CallTIR } => {
    const v = b.value;
    if (b.kind !== 'bind' || v.kind !== 'call_tir' || v.dst || v.out.kind !== 'tensor' || !v.out.shape) return false;
    if (!blk.dataflow || !b.var.dataflow || escapes.has(b.var) || !lastUse.has(b.var)) return false;
    const vars = new Set<PrimVar>();
    for (const d of v.out.shape) primVars(d, vars);
    return [...vars].every((x) => known.has(x));
  };

  const tokens: Token[] = [];
  const tokenOf = new Map<GraphVar, Token>();
  const free = new Set<Token>();
  let inPlace = 0;
  const sizes: PrimExpr[] = [];
  const liveAt: { def: number; last: number; size: PrimExpr }[] = [];
  blk.bindings.forEach((b, i) => {
    for (const t of tokens) if (t.lastUse < i) free.add(t);
    if (!candidate(b)) return;
    const out = b.value.out as TensorStructInfo;
    const need = analyzer.simplify(tensorBytes(out));
    const needAligned = analyzer.simplify(aligned(need));
    const last = lastUse.get(b.var)!;
    sizes.push(needAligned);
    liveAt.push({ def: i, last, size: needAligned });
    // In place: an elementwise kernel over an input that dies here, of the same type.
    const kernel = m.functions.get(b.value.func);
    if (kernel?.kind === 'prim_func' && kernelPattern(kernel) === 'elemwise' && collectBlocks(kernel.body).length === 1) {
      for (const a of b.value.args) {
        if (a.kind !== 'graph_var' || lastUse.get(a) !== i) continue;
        const t = tokenOf.get(a);
        const s = a.sinfo;
        if (!t || s.kind !== 'tensor' || s.dtype !== out.dtype || !sameShape(analyzer, s, out)) continue;
        if ([...tokenOf].some(([x, tt]) => tt === t && x !== a && lastUse.get(x)! >= i)) continue;
        t.lastUse = last;
        tokenOf.set(b.var, t);
        inPlace++;
        return;
      }
    }
    const fits = [...free].filter((t) => analyzer.proveLessEqual(need, t.size));
    let token: Token | undefined;
    if (fits.length > 0) {
      token = fits.reduce((best, t) => (analyzer.proveLessEqual(t.size, best.size) ? t : best));
    } else if (free.size > 0) {
      // Grow the free token that is largest: to `need` when it is provably smaller, else to max(size, need).
      token = [...free].reduce((best, t) => (analyzer.proveLessEqual(best.size, t.size) ? t : best));
      token.size = analyzer.proveLessEqual(token.size, need) ? need : analyzer.simplify(max(token.size, need));
    } else {
      token = { size: need, lastUse: last };
      tokens.push(token);
    }
    free.delete(token);
    token.lastUse = last;
    tokenOf.set(b.var, token);
  });
  if (tokenOf.size === 0) return undefined;

  // Offsets: the tokens one after the other.
  const offsets = new Map<Token, PrimExpr>();
  let total: PrimExpr = intImm(0);
  for (const t of tokens) {
    offsets.set(t, total);
    total = analyzer.simplify(add(total, aligned(t.size)));
  }
  const arena = graphVar(fresh('storage'), tensorSI([total], 'uint8'), blk.dataflow);
  const out: Binding[] = [varBinding(arena, opCall('alloc_storage', [shapeExpr([total])]))];
  for (const b of blk.bindings) {
    const t = tokenOf.get(b.var);
    if (!t) {
      out.push(b);
      continue;
    }
    const call = b.value as CallTIR;
    const s = call.out as TensorStructInfo;
    const view = graphVar(fresh(`${b.var.name}_mem`), s, true);
    const offset = primValue(offsets.get(t)!);
    out.push(
      varBinding(view, opCall('alloc_tensor', [arena, offset, shapeExpr(s.shape!)], { dtype: s.dtype })),
      varBinding(b.var, callTIR(call.func, call.args, call.out, call.tirVars, view)),
    );
  }
  // The peak: the most bytes live at one binding.
  let peak: PrimExpr = intImm(0);
  for (let i = 0; i < blk.bindings.length; i++) {
    const live = liveAt.filter((x) => x.def <= i && x.last >= i);
    if (live.length === 0) continue;
    const here = analyzer.simplify(live.map((x) => x.size).reduce((a, b2) => add(a, b2)));
    peak = analyzer.proveLessEqual(here, peak) ? peak : analyzer.proveLessEqual(peak, here) ? here : max(peak, here);
  }
  return {
    block: bindingBlock(out, blk.dataflow),
    stats: {
      tensors: tokenOf.size,
      tokens: tokens.length,
      inPlace,
      naive: analyzer.simplify(sizes.reduce((a, b2) => add(a, b2), intImm(0) as PrimExpr)),
      planned: total,
      peak: analyzer.simplify(peak),
    },
  };
}

function sameShape(a: Analyzer, x: TensorStructInfo, y: TensorStructInfo): boolean {
  return (
    x.shape !== undefined &&
    y.shape !== undefined &&
    x.shape.length === y.shape.length &&
    x.shape.every((d, k) => a.proveEqual(d, y.shape![k]!))
  );
}

function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '?';
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/**
 * One line per planned block: tensors and tokens, and the planned bytes against the naive sum
 * and the peak, with every symbolic variable at 1 and at its upper bound (the function's
 * `tir_var_upper_bound`, from the pipeline's model.dynamic).
 */
export function describePlan(m: IRModule, stats: PlanStats): string[] {
  const lines: string[] = [];
  for (const [name, blocks] of Object.entries(stats.functions)) {
    const f = m.functions.get(name);
    const upper = f?.kind === 'func' ? f.attrs.tir_var_upper_bound : undefined;
    const bounds = new Map<string, number>();
    if (upper && typeof upper === 'object' && !Array.isArray(upper)) {
      for (const [k, v] of Object.entries(upper)) if (typeof v === 'number') bounds.set(k, v);
    }
    for (const s of blocks) {
      const at = (values: ReadonlyMap<string, number>, what: string): string => {
        const [naive, planned, peak] = [s.naive, s.planned, s.peak].map((e) => evaluateAt(e, values));
        const ratio = naive && planned !== undefined ? ` (${((100 * planned) / naive).toFixed(0)}%)` : '';
        return `${what}: planned ${fmtBytes(planned)}${ratio} of naive ${fmtBytes(naive)}, peak ${fmtBytes(peak)}`;
      };
      const vars = new Set<string>();
      for (const e of [s.naive, s.planned]) for (const v of primVars(e)) vars.add(v.name);
      const ones = new Map([...vars].map((v) => [v, 1]));
      const parts = [at(ones, vars.size === 0 ? 'static' : [...vars].map((v) => `${v}=1`).join(', '))];
      if (vars.size > 0 && [...vars].every((v) => bounds.has(v))) {
        parts.push(at(bounds, [...vars].map((v) => `${v}=${bounds.get(v)!}`).join(', ')));
      }
      lines.push(`${name}: ${s.tensors} tensors in ${s.tokens} tokens (${s.inPlace} in place); ${parts.join('; ')}`);
    }
  }
  return lines;
}

/** `e` with every variable replaced by `value` (e.g. 1, or its upper bound), as a number. */
export function evaluateAt(e: PrimExpr, values: ReadonlyMap<string, number>): number | undefined {
  const map = new Map<PrimVar, PrimExpr>();
  for (const v of primVars(e)) {
    const n = values.get(v.name);
    if (n === undefined) return undefined;
    map.set(v, intImm(n));
  }
  return constInt(new Analyzer().simplify(substitute(e, map)));
}
