/**
 * Folds the intermediates of a fused kernel into their consumers: each
 * buffer passed between two fused calls is compute_inline'd into its readers
 * when its producer is elementwise, else its one reader is
 * reverse_compute_inline'd into the producer; what neither primitive accepts
 * stays a buffer allocated inside the kernel. The fuse stage hands this to
 * FuseTIR.
 */
import { visitPrim } from '../ir/prim/expr.ts';
import type { Buffer } from '../ir/tir/buffer.ts';
import { type BlockRealize, collectBlocks, type PrimFunc, visitStmts } from '../ir/tir/stmt.ts';
import { isKilnError } from '../support/diagnostics.ts';
import { Schedule } from './schedule.ts';

function touches(r: BlockRealize, b: Buffer): { writes: boolean; reads: boolean } {
  const out = { writes: false, reads: false };
  const loads = (e: Parameters<typeof visitPrim>[0]): void =>
    visitPrim(e, (x) => {
      if (x.kind === 'load' && x.buffer === b) out.reads = true;
    });
  visitStmts(r.block.body, (s) => {
    if (s.kind === 'store') {
      if (s.buffer === b) out.writes = true;
      loads(s.value);
      s.indices.forEach(loads);
    }
  });
  return out;
}

function tryApply(sch: Schedule, step: (s: Schedule) => void): Schedule | undefined {
  const t = sch.fork();
  try {
    step(t);
    return t;
  } catch (e) {
    if (isKilnError(e)) return undefined;
    throw e;
  }
}

export function inlineIntermediates(f: PrimFunc, name: string, intermediates: readonly Buffer[]): PrimFunc {
  let sch = new Schedule(f, name);
  for (const buf of intermediates) {
    const blocks = collectBlocks(sch.func.body);
    const writer = blocks.find((r) => touches(r, buf).writes);
    if (!writer) continue;
    const inlined = tryApply(sch, (s) => s.computeInline(s.getBlock(writer.block.name)));
    if (inlined) {
      sch = inlined;
      continue;
    }
    const readers = blocks.filter((r) => r !== writer && touches(r, buf).reads);
    if (readers.length !== 1) continue;
    const reader = readers[0]!;
    sch = tryApply(sch, (s) => s.reverseComputeInline(s.getBlock(reader.block.name))) ?? sch;
  }
  return sch.func;
}
