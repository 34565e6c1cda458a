/**
 * FuseOps: groups the kernel calls of each dataflow block the way TVM's
 * FuseOps does, by a post-dominator analysis over the block's dataflow graph
 * and the pattern kind of each kernel (src/passes/op-pattern.ts).
 *
 * A call is fused into its immediate post-dominator (the first call every
 * path from it reaches) when the paths between them allow it:
 *   - out-elemwise-fusable (matmul, conv) and reductions take elementwise and
 *     broadcast consumers up to the post-dominator (conv + bias + relu + residual
 *     add; sum + its epilogue);
 *   - elemwise / broadcast calls go into an injective, reduction or fused
 *     post-dominator when everything in between is at most injective;
 *   - injective calls (second phase, after the convolutions took their
 *     epilogues) fuse when the whole path is injective.
 * A value used outside the block or by anything but a kernel call ends the
 * paths through it, so each group has exactly one output. The groups are
 * what FuseTIR (src/passes/fuse-tir.ts) merges.
 */
import type { Binding, BindingBlock, CallTIR, Expr, GraphVar, SeqExpr } from '../ir/graph/expr.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';
import type { IRModule } from '../ir/module.ts';
import { byteSize, isFloat } from '../ir/dtype.ts';
import { primExprEqual } from '../ir/structural.ts';
import { isBufferParam, type PrimFunc } from '../ir/tir/stmt.ts';
import { kernelPattern, maxPattern, type OpPattern, patternRank } from './op-pattern.ts';

/** Which fusion rules run (all by default). */
export interface FusionRules {
  /** matmul / conv + elementwise epilogue. */
  readonly 'out-elemwise': boolean;
  /** reduction + elementwise epilogue. */
  readonly 'reduction-epilogue': boolean;
  /** elementwise / broadcast producers into their consumer. */
  readonly elemwise: boolean;
  /** chains of injective calls. */
  readonly injective: boolean;
  /** a widening call (dequantize, a cast up) into the matmul / conv that reads it: weights stay narrow in memory. */
  readonly 'dequantize-prologue': boolean;
}

export const ALL_FUSION_RULES: FusionRules = {
  'out-elemwise': true,
  'reduction-epilogue': true,
  elemwise: true,
  injective: true,
  'dequantize-prologue': true,
};

export interface FuseOptions {
  /** Most calls in one group. */
  readonly maxDepth: number;
  readonly rules: FusionRules;
  /** Kernels (by name, or by the name without its numeric suffix: `conv2d` covers `conv2d3`) never fused. */
  readonly exclude: readonly string[];
}

/** A group of bindings of one block, in order; the last is the group's output. */
export interface FusionGroup {
  readonly bindings: readonly (Binding & { value: CallTIR })[];
  readonly pattern: OpPattern;
}

interface Node {
  readonly index: number;
  readonly binding: Binding;
  /** Own kernel pattern; opaque for anything but a call_tir of a fusable kernel. */
  readonly pattern: OpPattern;
  /** Consumers in the block, with the pattern of the edge (a broadcast of the same shape is elemwise). */
  readonly outs: { node: number; pattern: OpPattern }[];
  /** Used outside the block or by the block's non-kernel bindings in a way that ends fusion. */
  externRef: boolean;
  /** Its kernel widens (see `widening`). */
  readonly widens: boolean;
}

class Group {
  parent: Group | undefined;
  count = 1;
  constructor(public pattern: OpPattern) {}
  root(): Group {
    return this.parent ? (this.parent = this.parent.root()) : this;
  }
}

function isExcluded(name: string, exclude: readonly string[]): boolean {
  const base = name.replace(/_?[0-9]+$/, '');
  return exclude.includes(name) || exclude.includes(base);
}

/**
 * Whether a kernel writes a float result wider than some tensor it reads (int8 weights
 * dequantized to float32, packed 4-bit weights unpacked): the matmul or convolution that
 * takes such a result reads the narrow tensor instead once the two are fused.
 */
function widening(f: PrimFunc): boolean {
  const buffers = f.params.filter(isBufferParam);
  const out = buffers[buffers.length - 1];
  if (!out || !isFloat(out.dtype)) return false;
  return buffers.slice(0, -1).some((b) => byteSize(b.dtype) < byteSize(out.dtype));
}

function sameShape(a: TensorStructInfo | undefined, b: TensorStructInfo | undefined): boolean {
  if (!a?.shape || !b?.shape || a.shape.length !== b.shape.length) return false;
  return a.shape.every((d, i) => primExprEqual(d, b.shape![i]!));
}

/** A call fusion can take: one tensor result, arguments of known shape (tensors), constants or prims. */
function fusableCall(c: CallTIR): boolean {
  if (c.out.kind !== 'tensor' || !c.out.shape) return false;
  return c.args.every(
    (a) =>
      a.kind === 'constant' ||
      a.kind === 'prim_value' ||
      (a.kind === 'graph_var' && a.sinfo.kind === 'tensor' && a.sinfo.shape !== undefined),
  );
}

function visitVars(e: Expr, f: (v: GraphVar) => void): void {
  switch (e.kind) {
    case 'graph_var':
      f(e);
      return;
    case 'tuple':
      e.fields.forEach((x) => visitVars(x, f));
      return;
    case 'tuple_get':
      visitVars(e.tuple, f);
      return;
    case 'call':
    case 'call_global':
    case 'call_tir':
    case 'call_dps_packed':
      e.args.forEach((x) => visitVars(x, f));
      return;
    case 'if':
      visitVars(e.cond, f);
      visitSeqVars(e.then, f);
      visitSeqVars(e.else, f);
      return;
    default:
      return;
  }
}

export function visitSeqVars(s: SeqExpr, f: (v: GraphVar) => void): void {
  for (const blk of s.blocks) for (const b of blk.bindings) visitVars(b.value, f);
  visitVars(s.body, f);
}

/**
 * The fusion groups of one dataflow block (groups of one call are left out).
 * `usedOutside` holds the variables used anywhere but in this block's bindings.
 */
export function partitionBlock(
  m: IRModule,
  blk: BindingBlock,
  usedOutside: ReadonlySet<GraphVar>,
  options: FuseOptions,
): FusionGroup[] {
  const index = new Map<GraphVar, number>();
  const nodes: Node[] = blk.bindings.map((b, i) => {
    index.set(b.var, i);
    let pattern: OpPattern = 'opaque';
    let widens = false;
    if (b.kind === 'bind' && b.value.kind === 'call_tir' && fusableCall(b.value)) {
      const f = m.functions.get(b.value.func);
      if (f?.kind === 'prim_func' && !isExcluded(b.value.func, options.exclude)) {
        pattern = kernelPattern(f);
        widens = widening(f);
      }
    }
    return { index: i, binding: b, pattern, outs: [], externRef: usedOutside.has(b.var), widens };
  });
  for (const n of nodes) {
    const v = n.binding.value;
    const seen = new Set<number>();
    visitVars(v, (x) => {
      const i = index.get(x);
      if (i === undefined || seen.has(i)) return;
      seen.add(i);
      const producer = nodes[i]!;
      // Only a call_tir's direct tensor arguments are dataflow edges fusion can follow.
      const direct = v.kind === 'call_tir' && v.args.includes(x);
      if (!direct || n.pattern === 'opaque') {
        producer.externRef = true;
        return;
      }
      let edge = n.pattern;
      if (patternRank(edge) <= patternRank('broadcast')) {
        const out = n.binding.var.sinfo;
        if (out.kind === 'tensor' && x.sinfo.kind === 'tensor' && sameShape(out, x.sinfo)) edge = 'elemwise';
      }
      producer.outs.push({ node: n.index, pattern: edge });
    });
  }
  // Post-dominator tree, built from the last binding up.
  const pdom: (number | undefined)[] = new Array<number | undefined>(nodes.length);
  const depth: number[] = new Array<number>(nodes.length).fill(0);
  const lca = (a: number | undefined, b: number | undefined): number | undefined => {
    while (a !== undefined && b !== undefined && a !== b) {
      if (depth[a]! >= depth[b]!) a = pdom[a];
      else b = pdom[b];
    }
    return a === b ? a : undefined;
  };
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.externRef || n.outs.length === 0) {
      pdom[i] = undefined;
      depth[i] = 1;
      continue;
    }
    let p: number | undefined = n.outs[0]!.node;
    for (const o of n.outs.slice(1)) p = lca(p, o.node);
    pdom[i] = p;
    depth[i] = p === undefined ? 1 : depth[p]! + 1;
  }

  const groups = nodes.map((n) => new Group(n.pattern));
  /** The edge pattern of the post-dominator relation: the strongest edge on any path from `src` to `sink`. */
  const domPattern = (src: number, sink: number): OpPattern => {
    let p: OpPattern = 'elemwise';
    const seen = new Set<number>();
    const walk = (i: number): void => {
      for (const o of nodes[i]!.outs) {
        p = maxPattern(p, o.pattern);
        if (o.node !== sink && !seen.has(o.node)) {
          seen.add(o.node);
          walk(o.node);
        }
      }
    };
    walk(src);
    return p;
  };
  /** Whether every node on the paths from `src` to `sink` passes `cond` (with its group's pattern). */
  const checkPath = (src: number, sink: number, cond: (p: OpPattern, isSink: boolean) => boolean): boolean => {
    const seen = new Set<number>();
    const walk = (i: number): boolean => {
      if (seen.has(i)) return true;
      seen.add(i);
      const g = groups[i]!;
      if (!cond(g.pattern, i === sink)) return false;
      if (i === sink) return true;
      return nodes[i]!.outs.every((o) => walk(o.node));
    };
    return nodes[src]!.outs.every((o) => walk(o.node));
  };
  /** The nodes on the paths from `src` to `sink`, `sink` excluded, `src` included. */
  const pathNodes = (src: number, sink: number): number[] => {
    const out = new Set<number>([src]);
    const walk = (i: number): void => {
      for (const o of nodes[i]!.outs) {
        if (o.node === sink || out.has(o.node)) continue;
        out.add(o.node);
        walk(o.node);
      }
    };
    walk(src);
    return [...out];
  };
  const countWith = (src: number, sink: number): number => {
    const roots = new Set<Group>([groups[sink]!.root()]);
    for (const i of pathNodes(src, sink)) roots.add(groups[i]!.root());
    let n = 0;
    for (const r of roots) n += r.count;
    return n;
  };
  const commit = (src: number, sink: number): void => {
    const target = groups[sink]!.root();
    for (const i of pathNodes(src, sink)) {
      const r = groups[i]!.root();
      if (r === target) continue;
      r.parent = target;
      target.count += r.count;
      target.pattern = maxPattern(target.pattern, r.pattern);
    }
  };

  const atMost = (p: OpPattern, q: OpPattern): boolean => patternRank(p) <= patternRank(q);
  for (let phase = 0; phase < 2; phase++) {
    for (let i = 0; i < nodes.length; i++) {
      const g = groups[i]!;
      const sink = pdom[i];
      if (g.pattern === 'opaque' || sink === undefined || nodes[sink]!.pattern === 'opaque') continue;
      if (g.root() === groups[sink]!.root()) continue;
      if (countWith(i, sink) > options.maxDepth) continue;
      const p = g.pattern;
      if (p === 'out-elemwise-fusable' || p === 'reduction') {
        if (phase !== 0) continue;
        if (!options.rules[p === 'reduction' ? 'reduction-epilogue' : 'out-elemwise']) continue;
        if (domPattern(i, sink) !== 'elemwise') continue;
        if (checkPath(i, sink, (k) => atMost(k, 'broadcast'))) commit(i, sink);
      } else if (atMost(p, 'broadcast')) {
        if (!options.rules.elemwise) continue;
        const dp = domPattern(i, sink);
        if (!(atMost(dp, 'injective') || dp === 'reduction')) continue;
        const ok = checkPath(i, sink, (k, isSink) =>
          isSink
            ? k !== 'opaque' && (atMost(k, 'injective') || k === 'reduction' || k === 'out-elemwise-fusable')
            : atMost(k, 'injective'),
        );
        if (ok) commit(i, sink);
      } else if (p === 'injective') {
        if (phase !== 1 || !options.rules.injective) continue;
        if (checkPath(i, sink, (k) => atMost(k, 'injective'))) commit(i, sink);
      }
    }
  }

  // Last, dequantize in the kernel: a widening call whose one consumer is a matmul / convolution goes
  // into it (each narrow element is widened where the product reads it, once per use: the price
  // of reading a quarter or an eighth of the bytes). TVM leaves such producers out (an
  // elementwise call fuses into an injective or reduction consumer only).
  if (options.rules['dequantize-prologue']) {
    for (const n of nodes) {
      const only = n.outs.length === 1 && !n.externRef ? n.outs[0]!.node : undefined;
      // Its group (a quantize before it, say) must hold no product or reduction of its own.
      if (!n.widens || !atMost(groups[n.index]!.root().pattern, 'injective') || only === undefined) continue;
      if (nodes[only]!.pattern !== 'out-elemwise-fusable' || countWith(n.index, only) > options.maxDepth) continue;
      commit(n.index, only);
    }
  }
  const byRoot = new Map<Group, number[]>();
  nodes.forEach((_, i) => {
    const r = groups[i]!.root();
    const list = byRoot.get(r) ?? [];
    list.push(i);
    byRoot.set(r, list);
  });
  const out: FusionGroup[] = [];
  for (const [root, members] of byRoot) {
    if (members.length < 2) continue;
    out.push({
      bindings: members.map((i) => nodes[i]!.binding as Binding & { value: CallTIR }),
      pattern: root.pattern,
    });
  }
  return out.sort((a, b) => index.get(a.bindings[0]!.var)! - index.get(b.bindings[0]!.var)!);
}
