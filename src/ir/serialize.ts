/**
 * Serialization of modules: the text format with every constant written as a
 * reference to its blob, so a serialized multi-GB model is kilobytes and its
 * weights are stored once, by content hash, next to it.
 */
import { fail, M } from '../support/messages.ts';
import type { Blob } from './blob.ts';
import { type Expr, mapExprChildren, type SeqExpr } from './graph/expr.ts';
import type { IRModule } from './module.ts';
import { parseModule } from './text/parser.ts';
import { printModule } from './text/printer.ts';

export const FORMAT_HEADER = '# kiln-ir 1';

export interface SerializedModule {
  /** The module in the text format, constants by hash. */
  readonly text: string;
  /** The blobs its constants reference, once each. */
  readonly blobs: readonly Blob[];
}

export function serializeModule(m: IRModule): SerializedModule {
  const text = `${FORMAT_HEADER}\n${printModule(m, { inlineConstantLimit: 0 })}`;
  return { text, blobs: collectBlobs(m) };
}

/**
 * Reads a serialized module back; `resolveBlob` gives the bytes of each
 * referenced constant (read lazily by the caller's store, typically).
 */
export function deserializeModule(
  text: string,
  resolveBlob?: (hash: string, byteLength: number) => Blob,
  file = '<serialized module>',
): IRModule {
  const firstLine = text.slice(0, text.indexOf('\n'));
  if (firstLine !== FORMAT_HEADER) {
    fail(
      M.expectedToken,
      { expected: `the header '${FORMAT_HEADER}'`, found: JSON.stringify(firstLine.slice(0, 40)) },
      { file, line: 1, column: 1 },
    );
  }
  return parseModule(text, { file, ...(resolveBlob ? { resolveBlob } : {}) });
}

/** Every blob the module's constants reference, each once, in a stable order. */
export function collectBlobs(m: IRModule): Blob[] {
  const seen = new Map<string, Blob>();
  const visit = (e: Expr): Expr => {
    if (e.kind === 'constant' && !seen.has(e.blob.hash)) seen.set(e.blob.hash, e.blob);
    return mapExprChildren(e, { expr: visit, seq: visitSeq });
  };
  const visitSeq = (s: SeqExpr): SeqExpr => {
    for (const b of s.blocks) for (const x of b.bindings) visit(x.value);
    visit(s.body);
    return s;
  };
  for (const f of m.functions.values()) if (f.kind === 'func') visitSeq(f.body);
  return [...seen.values()].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}
