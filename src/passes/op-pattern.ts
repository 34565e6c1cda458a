/**
 * The pattern kind of a kernel, read off its loops (TVM's OpPatternKind):
 * what fusion may do with it.
 *
 *   elemwise     every output element reads its inputs at the same index
 *   broadcast    inputs are read at a subsequence of the output's indices (x[i, j] + b[j])
 *   injective    every output element is a function of input elements (transpose, pad, reshape)
 *   reduction    reduce loops over one input (sum, mean, max, softmax's steps)
 *   out-elemwise-fusable
 *                a reduction of products of two inputs (matmul, convolution): elementwise
 *                consumers can fuse into its output
 *   opaque       anything else (loops without blocks, scheduled kernels, sort, ...)
 */
import type { PrimExpr } from '../ir/prim/expr.ts';
import { visitPrim } from '../ir/prim/expr.ts';
import type { Buffer } from '../ir/tir/buffer.ts';
import { type Block, collectBlocks, type PrimFunc, type Stmt, visitStmts } from '../ir/tir/stmt.ts';

export type OpPattern = 'elemwise' | 'broadcast' | 'injective' | 'reduction' | 'out-elemwise-fusable' | 'opaque';

export const OP_PATTERNS: readonly OpPattern[] = [
  'elemwise',
  'broadcast',
  'injective',
  'reduction',
  'out-elemwise-fusable',
  'opaque',
];

export function patternRank(p: OpPattern): number {
  return OP_PATTERNS.indexOf(p);
}

export function maxPattern(a: OpPattern, b: OpPattern): OpPattern {
  return patternRank(a) >= patternRank(b) ? a : b;
}

/** The attribute fuse writes the pattern into. */
export const OP_PATTERN_ATTR = 'op_pattern';

/** The kernel's pattern: its recorded `op_pattern` attribute, else analysed from its loops. */
export function kernelPattern(f: PrimFunc): OpPattern {
  const recorded = f.attrs[OP_PATTERN_ATTR];
  if (typeof recorded === 'string' && (OP_PATTERNS as readonly string[]).includes(recorded)) return recorded as OpPattern;
  return analyzePattern(f);
}

export function analyzePattern(f: PrimFunc): OpPattern {
  // Scheduled kernels (thread bindings, traces) keep their own loop structure.
  if (f.attrs.schedule_rules !== undefined || f.attrs.schedule_trace !== undefined) return 'opaque';
  let opaque = false;
  let blockStores = 0;
  let allStores = 0;
  visitStmts(f.body, (s) => {
    if (s.kind === 'for' && s.forKind === 'thread_binding') opaque = true;
    if (s.kind === 'store') allStores++;
  });
  const blocks = collectBlocks(f.body);
  if (opaque || blocks.length === 0) return 'opaque';
  for (const r of blocks) {
    if (collectBlocks(r.block.body).length > 0) return 'opaque'; // nested blocks
    visitStmts(r.block.body, (s) => {
      if (s.kind === 'store') blockStores++;
    });
    if (r.block.init) visitStmts(r.block.init, (s) => (s.kind === 'store' ? blockStores++ : undefined));
  }
  if (blockStores !== allStores) return 'opaque'; // stores outside blocks: hand-written loops
  const kinds = blocks.map((r) => blockPattern(r.block));
  if (kinds.includes('opaque')) return 'opaque';
  const reduces = kinds.filter((k) => k === 'reduction' || k === 'out-elemwise-fusable');
  if (reduces.length === 0) return kinds.reduce(maxPattern, 'elemwise');
  if (kinds.includes('out-elemwise-fusable')) {
    // One matmul / conv and elementwise work around it.
    const others = kinds.filter((k) => k !== 'out-elemwise-fusable');
    return reduces.length === 1 && others.every((k) => patternRank(k) <= patternRank('broadcast'))
      ? 'out-elemwise-fusable'
      : 'opaque';
  }
  return kinds.every((k) => patternRank(k) <= patternRank('reduction')) ? 'reduction' : 'opaque';
}

function stores(s: Stmt): (Stmt & { kind: 'store' })[] {
  const out: (Stmt & { kind: 'store' })[] = [];
  visitStmts(s, (x) => {
    if (x.kind === 'store') out.push(x);
  });
  return out;
}

function loads(e: PrimExpr): (PrimExpr & { kind: 'load' })[] {
  const out: (PrimExpr & { kind: 'load' })[] = [];
  visitPrim(e, (x) => {
    if (x.kind === 'load') out.push(x);
  });
  return out;
}

function blockPattern(b: Block): OpPattern {
  const sts = stores(b.body);
  if (sts.length !== 1) return 'opaque';
  const st = sts[0]!;
  const out = st.buffer;
  const reduce = b.iterVars.some((iv) => iv.iterKind === 'reduce');
  if (reduce) {
    // out[...] = out[...] op f(inputs): a product of two different inputs is a matmul / convolution.
    return hasProductOfInputs(st.value, out) ? 'out-elemwise-fusable' : 'reduction';
  }
  const spatial = b.iterVars.map((iv) => iv.var);
  const isIter = (e: PrimExpr, k: number): boolean => e.kind === 'var' && e === spatial[k];
  const plain = st.indices.length === spatial.length && st.indices.every((e, k) => isIter(e, k));
  if (!plain) return 'injective';
  let kind: OpPattern = 'elemwise';
  for (const l of loads(st.value)) {
    if (l.indices.length === st.indices.length && l.indices.every((e, k) => e === st.indices[k])) continue;
    // A subsequence of the output's iterators, in order (zeros for size-1 dimensions): broadcast.
    let at = 0;
    let ok = true;
    for (const e of l.indices) {
      if (e.kind === 'int' && e.value === 0) continue; // a dimension of size 1, broadcast
      while (at < spatial.length && e !== spatial[at]) at++;
      if (at === spatial.length) {
        ok = false;
        break;
      }
      at++;
    }
    kind = maxPattern(kind, ok ? 'broadcast' : 'injective');
  }
  return kind;
}

function hasProductOfInputs(value: PrimExpr, out: Buffer): boolean {
  let found = false;
  visitPrim(value, (x) => {
    if (x.kind !== 'binary' || x.op !== 'mul') return;
    const a = loads(x.a).filter((l) => l.buffer !== out);
    const b = loads(x.b).filter((l) => l.buffer !== out);
    if (a.length > 0 && b.length > 0 && a.some((l) => b.every((m) => m.buffer !== l.buffer))) found = true;
  });
  return found;
}
