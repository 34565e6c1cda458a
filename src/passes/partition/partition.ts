/**
 * The partition pass (TVM's FuseOpsByPattern + MergeCompositeFunctions):
 * rules in order, each a pattern and a backend, find groups of operator
 * calls in every graph function; each group a backend supports becomes a
 * composite function (src/ir/graph/composite.ts); adjacent groups of the
 * same backend merge when no value outside them lies between them (that
 * would make a cycle); each group's bindings are replaced by one
 * `call_dps_packed("<backend>.<fn>", inputs, out)`, whose results several
 * outputs read with tuple-get-item. Composites stay in the module.
 */
import type { AttrValue } from '../../ir/attrs.ts';
import { BACKEND_ATTR, COMPOSITE_ATTR, isComposite, SYMBOL_ATTR } from '../../ir/graph/composite.ts';
import {
  type Binding,
  bindingBlock,
  type BindingBlock,
  callDPSPacked,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  graphVar,
  type SeqExpr,
  seqExpr,
  tupleGet,
  varBinding,
} from '../../ir/graph/expr.ts';
import { irModule, type IRModule, type ModuleFunction } from '../../ir/module.ts';
import { type CallBinding, matchAt, type MatchContext, meetsConditions, type RuleConditions } from './match.ts';
import { type Outlined, outline, visitLeaves } from './outline.ts';
import type { Pattern } from './pattern.ts';

export const PARTITION_VERSION = 1;
/** The indices of the rules whose matches a composite holds. */
export const RULES_ATTR = 'partition_rules';

export interface PartitionRule {
  readonly pattern: Pattern;
  readonly backend: string;
  readonly when?: RuleConditions;
}

export interface PartitionOptions {
  readonly rules: readonly PartitionRule[];
  /** Whether `backend` takes this composite; a group it refuses stays Kiln's. Default: every backend takes everything. */
  readonly supports?: (backend: string, composite: GraphFunc) => boolean;
  /** Merge adjacent groups of the same backend (default true). */
  readonly merge?: boolean;
}

export interface PartitionStats {
  /** Per rule, the groups it matched that a backend took. */
  readonly matches: number[];
  /** The composites made, by function name. */
  readonly composites: { name: string; backend: string; rules: number[]; calls: number }[];
}

interface Group {
  readonly members: Set<Binding>;
  readonly rules: Set<number>;
  readonly backend: string;
}

export function partitionModule(m: IRModule, options: PartitionOptions, stats?: PartitionStats): IRModule {
  const taken = new Set(m.functions.keys());
  const out = new Map<string, ModuleFunction>();
  let changed = false;
  for (const [name, f] of m.functions) {
    if (f.kind !== 'func' || isComposite(f)) {
      out.set(name, f);
      continue;
    }
    const p = new FunctionPartitioner(f, options, taken, stats);
    const g = p.run();
    out.set(name, g);
    for (const [n, c] of p.composites) out.set(n, c);
    if (g !== f) changed = true;
  }
  return changed ? irModule(out, m.attrs) : m;
}

/** A valid function name from a backend's name (`kiln-wasm-gemm` -> `kiln_wasm_gemm`). */
function ident(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(t) ? t : `_${t}`;
}

class FunctionPartitioner {
  readonly composites = new Map<string, GraphFunc>();
  private readonly uses = new Map<GraphVar, number>();

  constructor(
    private readonly f: GraphFunc,
    private readonly options: PartitionOptions,
    private readonly taken: Set<string>,
    private readonly stats: PartitionStats | undefined,
  ) {
    const count = (leaf: GraphVar | { kind: string }): void => {
      if (leaf.kind === 'graph_var') this.uses.set(leaf as GraphVar, (this.uses.get(leaf as GraphVar) ?? 0) + 1);
    };
    for (const b of f.body.blocks) for (const x of b.bindings) visitLeaves(x.value, count);
    visitLeaves(f.body.body, count);
  }

  run(): GraphFunc {
    const blocks = this.f.body.blocks.map((b) => this.block(b));
    if (blocks.every((b, i) => b === this.f.body.blocks[i])) return this.f;
    const body: SeqExpr = seqExpr(blocks, this.f.body.body);
    return graphFunc(this.f.params, body, this.f.ret, this.f.attrs);
  }

  private block(block: BindingBlock): BindingBlock {
    const calls = block.bindings.filter((b): b is CallBinding => b.kind === 'bind' && b.value.kind === 'call');
    const consumer = new Map<GraphVar, CallBinding>();
    for (const b of calls) visitLeaves(b.value, (leaf) => leaf.kind === 'graph_var' && consumer.set(leaf, b));
    const claimed = new Set<Binding>();
    const ctx: MatchContext = { uses: this.uses, consumer, claimed };
    let groups: Group[] = [];
    this.options.rules.forEach((rule, r) => {
      for (const start of calls) {
        if (claimed.has(start)) continue;
        const match = matchAt(rule.pattern, start, ctx);
        if (!match || !meetsConditions(match, rule.when)) continue;
        const group: Group = { members: new Set(match), rules: new Set([r]), backend: rule.backend };
        if (!this.outlineGroup(block, group)) continue;
        for (const b of match) claimed.add(b);
        groups.push(group);
        if (this.stats) this.stats.matches[r] = (this.stats.matches[r] ?? 0) + 1;
      }
    });
    if (groups.length === 0) return block;
    if (this.options.merge !== false) groups = this.merge(block, groups);
    return this.rewrite(block, groups);
  }

  /** The group's composite, when it has tensor outputs and its backend supports it. */
  private outlineGroup(block: BindingBlock, g: Group, attrs: Record<string, AttrValue> = {}): Outlined | undefined {
    const members = block.bindings.filter((b) => g.members.has(b));
    const inside = new Map<GraphVar, number>();
    for (const b of members) visitLeaves(b.value, (l) => l.kind === 'graph_var' && inside.set(l, (inside.get(l) ?? 0) + 1));
    const usedOutside = (v: GraphVar): boolean => (this.uses.get(v) ?? 0) > (inside.get(v) ?? 0);
    const o = outline(members, usedOutside, {
      [COMPOSITE_ATTR]: compositeName(members),
      [BACKEND_ATTR]: g.backend,
      [RULES_ATTR]: [...g.rules].sort((a, b) => a - b),
      private: true,
      ...attrs,
    });
    if (!o) return undefined;
    return (this.options.supports?.(g.backend, o.func) ?? true) ? o : undefined;
  }

  /**
   * Merges groups of one backend where one consumes the other and no other group or binding
   * lies on a path between them, as long as the backend supports the merged composite.
   */
  private merge(block: BindingBlock, groups: Group[]): Group[] {
    for (;;) {
      const graph = new NodeGraph(block, groups);
      let merged: Group | undefined;
      let pair: [Group, Group] | undefined;
      search: for (const g of groups) {
        for (const h of graph.groupSuccessors(g)) {
          if (h === g || h.backend !== g.backend || graph.indirectPath(g, h)) continue;
          const candidate: Group = {
            members: new Set([...g.members, ...h.members]),
            rules: new Set([...g.rules, ...h.rules]),
            backend: g.backend,
          };
          if (!this.outlineGroup(block, candidate)) continue;
          merged = candidate;
          pair = [g, h];
          break search;
        }
      }
      if (!merged || !pair) return groups;
      groups = [...groups.filter((x) => x !== pair[0] && x !== pair[1]), merged];
    }
  }

  /** The block with each group's bindings replaced by one call, in an order every use follows its definition. */
  private rewrite(block: BindingBlock, groups: readonly Group[]): BindingBlock {
    const graph = new NodeGraph(block, groups);
    const out: Binding[] = [];
    for (const node of graph.topologicalOrder()) {
      if (!('members' in node)) {
        out.push(node);
        continue;
      }
      const o = this.outlineGroup(block, node)!;
      const fnName = this.freshName(`${ident(node.backend)}_${o.func.attrs[COMPOSITE_ATTR] as string}`);
      const symbol = `${node.backend}.${fnName}`;
      this.composites.set(fnName, graphFunc(o.func.params, o.func.body, o.func.ret, { ...o.func.attrs, [SYMBOL_ATTR]: symbol }));
      if (this.stats) {
        this.stats.composites.push({
          name: fnName,
          backend: node.backend,
          rules: [...node.rules].sort(),
          calls: node.members.size,
        });
      }
      const call = callDPSPacked(symbol, o.inputs, o.out);
      if (o.outputs.length === 1) {
        out.push(varBinding(o.outputs[0]!, call));
        continue;
      }
      const t = graphVar(`${fnName}_out`, o.out, block.dataflow);
      out.push(varBinding(t, call));
      o.outputs.forEach((v, i) => out.push(varBinding(v, tupleGet(t, i))));
    }
    return bindingBlock(out, block.dataflow);
  }

  private freshName(base: string): string {
    for (let i = 0; ; i++) {
      const n = `${base}_${i}`;
      if (!this.taken.has(n)) {
        this.taken.add(n);
        return n;
      }
    }
  }
}

/** `conv2d_add_relu`: the distinct operators of a group, in order. */
function compositeName(members: readonly Binding[]): string {
  const ops = [...new Set(members.map((b) => (b.value.kind === 'call' ? b.value.op : b.value.kind)))];
  return ops.length <= 4 ? ops.join('_') : `${ops.slice(0, 3).join('_')}_and_${ops.length - 3}_more`;
}

type Node = Group | Binding;

/** A block's dependence graph where each group is one node and every other binding is one. */
class NodeGraph {
  private readonly nodeOf = new Map<Binding, Node>();
  private readonly position = new Map<Node, number>();
  private readonly succ = new Map<Node, Set<Node>>();
  private readonly nodes: Node[] = [];

  constructor(block: BindingBlock, groups: readonly Group[]) {
    for (const g of groups) for (const b of g.members) this.nodeOf.set(b, g);
    const definedBy = new Map<GraphVar, Node>();
    block.bindings.forEach((b, i) => {
      const node = this.nodeOf.get(b) ?? b;
      if (!this.position.has(node)) this.nodes.push(node);
      // A group sits where its last member was: every input it reads is defined by then.
      this.position.set(node, i);
      this.succ.set(node, this.succ.get(node) ?? new Set());
      visitLeaves(b.value, (leaf) => {
        const from = leaf.kind === 'graph_var' ? definedBy.get(leaf) : undefined;
        if (from && from !== node) this.succ.get(from)!.add(node);
      });
      definedBy.set(b.var, node);
    });
  }

  groupSuccessors(g: Group): Group[] {
    return [...this.succ.get(g)!].filter((n): n is Group => 'members' in n);
  }

  /** Whether `to` is reachable from `from` through some other node. */
  indirectPath(from: Node, to: Node): boolean {
    const seen = new Set<Node>();
    const stack = [...this.succ.get(from)!].filter((n) => n !== to);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === to) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...this.succ.get(n)!);
    }
    return false;
  }

  /** The nodes so that each comes after those it uses, otherwise in their positions' order. */
  topologicalOrder(): Node[] {
    const indegree = new Map<Node, number>(this.nodes.map((n) => [n, 0]));
    for (const s of this.succ.values()) for (const n of s) indegree.set(n, indegree.get(n)! + 1);
    const ready = this.nodes.filter((n) => indegree.get(n) === 0);
    const out: Node[] = [];
    while (ready.length > 0) {
      ready.sort((a, b) => this.position.get(a)! - this.position.get(b)!);
      const n = ready.shift()!;
      out.push(n);
      for (const s of this.succ.get(n)!) {
        indegree.set(s, indegree.get(s)! - 1);
        if (indegree.get(s) === 0) ready.push(s);
      }
    }
    if (out.length !== this.nodes.length) throw new Error('partition: the merged groups form a cycle');
    return out;
  }
}
