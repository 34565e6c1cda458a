/**
 * YAML read into a tree that remembers where every key and value was
 * written, so a problem found after merging `extends` chains and `--set`
 * overrides still points at its file:line:col.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node as YamlNode, parseDocument } from 'yaml';
import type { Diagnostic, SourceLocation } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';

export type Scalar = string | number | boolean | null;

export type Located =
  | { readonly kind: 'scalar'; readonly value: Scalar; readonly loc: SourceLocation }
  | { readonly kind: 'map'; readonly entries: ReadonlyMap<string, LocatedEntry>; readonly loc: SourceLocation }
  | { readonly kind: 'seq'; readonly items: readonly Located[]; readonly loc: SourceLocation };

export interface LocatedEntry {
  readonly keyLoc: SourceLocation;
  readonly value: Located;
}

export type LocatedMap = Extract<Located, { kind: 'map' }>;

export interface ParsedYaml {
  readonly tree: Located | undefined;
  readonly diagnostics: Diagnostic[];
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, end?: number): SourceLocation => {
    const p = lines.linePos(offset);
    return { file, line: p.line, column: p.col, length: Math.max(1, (end ?? offset + 1) - offset) };
  };
  const diagnostics = doc.errors.map((e) =>
    diagnostic(M.yamlSyntax, { problem: yamlMessage(e.message) }, at(e.pos[0], e.pos[1])),
  );
  if (diagnostics.length > 0) return { tree: undefined, diagnostics };

  // Aliases are expanded into the tree, so a few hundred bytes of nested aliases ("billion
  // laughs") would expand to billions of nodes, and an alias inside the node it names to an
  // infinite tree: both stop at the alias, with its place.
  let expanded = 0;
  const open = new Set<YamlNode>();
  // `alias`: where the outermost alias being expanded was written, the place to report.
  const convert = (node: YamlNode | null | undefined, fallback: number, alias: SourceLocation | undefined): Located => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      const where = node.range ? at(node.range[0], node.range[1]) : at(fallback);
      if (target && open.has(target)) throw new AliasProblem(`alias *${node.source} refers to a node that contains it`, where);
      return convert(target, fallback, alias ?? where);
    }
    if (alias && ++expanded > MAX_ALIAS_EXPANSION) {
      throw new AliasProblem(
        `aliases expand to more than ${MAX_ALIAS_EXPANSION} values (an alias bomb?); write the values out instead`,
        alias,
      );
    }
    const loc = node?.range ? at(node.range[0], node.range[1]) : at(fallback);
    if (node) open.add(node);
    try {
      if (isMap(node)) {
        const entries = new Map<string, LocatedEntry>();
        for (const pair of node.items) {
          const keyNode = pair.key as YamlNode | null;
          const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
          const keyLoc = keyNode?.range ? at(keyNode.range[0], keyNode.range[1]) : loc;
          entries.set(key, { keyLoc, value: convert(pair.value as YamlNode | null, keyNode?.range?.[1] ?? 0, alias) });
        }
        return { kind: 'map', entries, loc };
      }
      if (isSeq(node))
        return { kind: 'seq', items: node.items.map((x) => convert(x as YamlNode, node.range?.[0] ?? 0, alias)), loc };
    } finally {
      if (node) open.delete(node);
    }
    const value = isScalar(node) ? node.value : null;
    return { kind: 'scalar', value: isPlainScalar(value) ? value : scalarText(value), loc };
  };
  if (!doc.contents) return { tree: undefined, diagnostics };
  try {
    return { tree: convert(doc.contents, 0, undefined), diagnostics };
  } catch (e) {
    if (!(e instanceof AliasProblem)) throw e;
    return { tree: undefined, diagnostics: [diagnostic(M.yamlAlias, { problem: e.message }, e.where)] };
  }
}

/** Values that aliases may add to a document: far more than any pipeline needs. */
export const MAX_ALIAS_EXPANSION = 10_000;

class AliasProblem extends Error {
  constructor(
    message: string,
    readonly where: SourceLocation,
  ) {
    super(message);
  }
}

/** Tags YAML resolves to other values (dates, binary, bigints) are kept as their text. */
function scalarText(v: unknown): string {
  return typeof v === 'bigint' || typeof v === 'symbol'
    ? v.toString()
    : v instanceof Date
      ? v.toISOString()
      : (JSON.stringify(v) ?? 'null');
}

function isPlainScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** The yaml library's messages carry a position we already report separately. */
function yamlMessage(m: string): string {
  return m.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

/** The plain JSON value of a tree. */
export function toJson(n: Located): unknown {
  switch (n.kind) {
    case 'scalar':
      return n.value;
    case 'seq':
      return n.items.map(toJson);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of n.entries) out[k] = toJson(e.value);
      return out;
    }
  }
}

/** A tree for a value that came from elsewhere (a --set override), all of it placed at `loc`. */
export function fromJson(v: unknown, loc: SourceLocation): Located {
  if (Array.isArray(v)) return { kind: 'seq', items: v.map((x) => fromJson(x, loc)), loc };
  if (v !== null && typeof v === 'object') {
    const entries = new Map<string, LocatedEntry>();
    for (const [k, x] of Object.entries(v)) entries.set(k, { keyLoc: loc, value: fromJson(x, loc) });
    return { kind: 'map', entries, loc };
  }
  return { kind: 'scalar', value: isPlainScalar(v) ? v : scalarText(v), loc };
}

/**
 * Where the value at `path` was written; for a path that goes past what
 * exists (a missing key), the deepest node on the way. `key` asks for the
 * place of the key itself (unknown options are reported at their name).
 */
export function locate(root: Located, path: readonly (string | number)[], key = false): SourceLocation {
  let node: Located = root;
  let keyLoc: SourceLocation | undefined;
  for (const step of path) {
    if (node.kind === 'map') {
      const e = node.entries.get(String(step));
      if (!e) return node.loc;
      keyLoc = e.keyLoc;
      node = e.value;
    } else if (node.kind === 'seq' && typeof step === 'number' && node.items[step]) {
      keyLoc = undefined;
      node = node.items[step];
    } else {
      return node.loc;
    }
  }
  return key && keyLoc ? keyLoc : node.loc;
}

export function mapGet(n: Located | undefined, key: string): Located | undefined {
  return n?.kind === 'map' ? n.entries.get(key)?.value : undefined;
}
