/**
 * Where in a `.kir` file an IR node was written: recorded by the parser for
 * functions, bindings and statements, so that problems found later (by the
 * verifier) point at the line, as parse errors do. Nodes are immutable, so a
 * recorded place stays true for the node; a rewritten node has none.
 */
import type { SourceLocation } from '../../support/diagnostics.ts';

const places = new WeakMap<object, SourceLocation>();

export function recordLocation<T extends object>(node: T, location: SourceLocation): T {
  places.set(node, location);
  return node;
}

export function locationOf(node: object | undefined): SourceLocation | undefined {
  return node ? places.get(node) : undefined;
}
