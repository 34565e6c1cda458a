/**
 * Reading a pipeline: its YAML, the `extends` chain it builds on, and the
 * command-line overrides, merged into one located tree. Nothing here checks
 * the meaning of the pipeline (validate.ts does); every problem found is
 * collected with its place, so all of them are reported at once.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { type Diagnostic, didYouMean, type SourceLocation } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';
import { fileProblem } from './file-problem.ts';
import { fromJson, type Located, type LocatedEntry, type LocatedMap, parseYaml } from './yaml-tree.ts';

export interface LoadedPipeline {
  /** The merged document; undefined when a file could not be read or parsed. */
  readonly tree: LocatedMap | undefined;
  /** Every YAML file of the extends chain, the pipeline's own first. */
  readonly files: readonly string[];
  /** The text of each file read, for quoting lines in messages. */
  readonly sources: ReadonlyMap<string, string>;
  readonly diagnostics: readonly Diagnostic[];
}

/** `--set path=value` and `--target T`, as given on the command line. */
export interface Overrides {
  readonly set?: readonly string[];
  readonly target?: string;
}

export function loadPipeline(file: string, overrides: Overrides = {}): LoadedPipeline {
  const sources = new Map<string, string>();
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];

  const readTree = (path: string, from?: SourceLocation): LocatedMap | undefined => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const what = from ? 'extended pipeline' : 'pipeline file';
      diagnostics.push(fileProblem(what, path, from, e) ?? diagnostic(M.missingFile, { what, path }, from));
      return undefined;
    }
    sources.set(path, text);
    files.push(path);
    const parsed = parseYaml(text, path);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.tree) {
      // Empty, or only comments: no document at all.
      if (parsed.diagnostics.length === 0) diagnostics.push(diagnostic(M.emptyPipeline, {}, { file: path, line: 1, column: 1 }));
      return undefined;
    }
    if (parsed.tree.kind !== 'map') {
      diagnostics.push(
        diagnostic(
          M.pipelineValue,
          { where: 'pipeline', problem: 'must be a map of name, target, model and stages' },
          parsed.tree.loc,
        ),
      );
      return undefined;
    }
    return parsed.tree;
  };

  const resolveChain = (path: string, seen: string[], from?: SourceLocation): LocatedMap | undefined => {
    const tree = readTree(path, from);
    if (!tree) return undefined;
    const ext = tree.entries.get('extends');
    if (!ext) return tree;
    if (ext.value.kind !== 'scalar' || typeof ext.value.value !== 'string') {
      diagnostics.push(
        diagnostic(M.pipelineValue, { where: 'extends', problem: 'must be the path of another pipeline file' }, ext.value.loc),
      );
      return tree;
    }
    const basePath = resolve(dirname(path), ext.value.value);
    if (seen.includes(basePath) || basePath === path) {
      diagnostics.push(
        diagnostic(
          M.extendsProblem,
          { problem: `extends forms a cycle: ${[...seen, path, basePath].join(' -> ')}` },
          ext.value.loc,
        ),
      );
      return tree;
    }
    const base = resolveChain(basePath, [...seen, path], ext.value.loc);
    return base ? mergePipelines(base, tree) : tree;
  };

  const absolute = resolve(file);
  let tree = resolveChain(absolute, []);
  if (tree) tree = applyOverrides(tree, overrides, diagnostics);
  return { tree, files, sources, diagnostics };
}

// --- merging ------------------------------------------------------------------------

/**
 * A child pipeline over its base: top-level keys replace the base's, `model`
 * is merged key by key, and `stages` are merged by name: a child stage with
 * the name of a base stage overrides its options (deeply) in place; a new
 * stage goes after the stage the child lists before it, or at the end.
 */
export function mergePipelines(base: LocatedMap, child: LocatedMap): LocatedMap {
  const entries = new Map<string, LocatedEntry>(base.entries);
  entries.delete('extends');
  for (const [key, e] of child.entries) {
    if (key === 'extends') continue;
    const prev = entries.get(key);
    if (key === 'stages' && prev && prev.value.kind === 'seq' && e.value.kind === 'seq') {
      entries.set(key, { keyLoc: e.keyLoc, value: mergeStages(prev.value, e.value) });
    } else if (key === 'model' && prev && prev.value.kind === 'map' && e.value.kind === 'map') {
      entries.set(key, {
        keyLoc: e.keyLoc,
        value: { ...e.value, entries: new Map([...prev.value.entries, ...e.value.entries]) },
      });
    } else {
      entries.set(key, e);
    }
  }
  return { kind: 'map', entries, loc: child.loc };
}

function mergeStages(base: Extract<Located, { kind: 'seq' }>, child: Extract<Located, { kind: 'seq' }>): Located {
  const items = [...base.items];
  let cursor: number | undefined;
  for (const item of child.items) {
    const name = stageEntryName(item);
    const at = name === undefined ? -1 : items.findIndex((x) => stageEntryName(x) === name);
    if (at >= 0) {
      items[at] = deepMerge(items[at]!, item);
      cursor = at;
    } else if (cursor !== undefined) {
      items.splice(++cursor, 0, item);
    } else {
      items.push(item);
      cursor = items.length - 1;
    }
  }
  return { kind: 'seq', items, loc: child.loc };
}

function deepMerge(a: Located, b: Located): Located {
  if (a.kind !== 'map' || b.kind !== 'map') return b;
  const entries = new Map(a.entries);
  for (const [k, e] of b.entries) {
    const prev = entries.get(k);
    entries.set(k, prev ? { keyLoc: e.keyLoc, value: deepMerge(prev.value, e.value) } : e);
  }
  return { kind: 'map', entries, loc: b.loc };
}

/**
 * The name of a stage entry: its `name`, else its stage id (the one key
 * besides `name`), else for a user stage the file name of `use`.
 */
export function stageEntryName(item: Located): string | undefined {
  if (item.kind !== 'map') return undefined;
  const name = item.entries.get('name')?.value;
  if (name?.kind === 'scalar' && typeof name.value === 'string') return name.value;
  const use = item.entries.get('use')?.value;
  if (use?.kind === 'scalar' && typeof use.value === 'string') return userStageName(use.value);
  const keys = [...item.entries.keys()].filter((k) => k !== 'name');
  return keys.length === 1 ? keys[0] : undefined;
}

/** `./stages/my-pass.ts` is called `my-pass` unless named. */
export function userStageName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.(m|c)?(t|j)s$/, '');
}

// --- overrides ---------------------------------------------------------------------

function applyOverrides(tree: LocatedMap, overrides: Overrides, diagnostics: Diagnostic[]): LocatedMap {
  const sets = [...(overrides.target !== undefined ? [`target=${overrides.target}`] : []), ...(overrides.set ?? [])];
  let out = tree;
  for (const text of sets) {
    const loc: SourceLocation = { file: `<--set ${text}>`, line: 1, column: 1 };
    const eq = text.indexOf('=');
    if (eq <= 0) {
      diagnostics.push(diagnostic(M.badOverride, { text, problem: 'expected path=value, e.g. stages.tune.trials=50' }));
      continue;
    }
    const path = text.slice(0, eq).split('.');
    let value: unknown;
    try {
      value = parseYamlValue(text.slice(eq + 1)) as unknown;
    } catch (e) {
      diagnostics.push(
        diagnostic(M.badOverride, {
          text,
          problem: `the value is not valid YAML (${e instanceof Error ? e.message : String(e)})`,
        }),
      );
      continue;
    }
    const located = fromJson(value, loc);
    if (path[0] === 'stages') {
      const name = path[1];
      // From `out`: each --set builds on the ones before it (from `tree`, only the last one to a stage stayed).
      const stages = out.entries.get('stages')?.value;
      const items = stages?.kind === 'seq' ? stages.items : [];
      const at = items.findIndex((x) => stageEntryName(x) === name);
      if (!name || path.length < 3 || at < 0) {
        const names = items.map(stageEntryName).filter((n): n is string => n !== undefined);
        diagnostics.push(
          diagnostic(
            M.badOverride,
            { text, problem: name && at < 0 ? `no stage named '${name}'` : 'write stages.<stage name>.<option>=value' },
            undefined,
            name ? didYouMean(name, names) : [`stages: ${names.join(', ')}`],
          ),
        );
        continue;
      }
      const entry = items[at]!;
      const optionsKey = stageOptionsKey(entry);
      const updated = setIn(entry, [optionsKey, ...path.slice(2)], located, loc);
      const newItems = [...items];
      newItems[at] = updated;
      out = setIn(out, ['stages'], { kind: 'seq', items: newItems, loc: stages!.loc }, loc) as LocatedMap;
    } else {
      out = setIn(out, path, located, loc) as LocatedMap;
    }
  }
  return out;
}

/** The key under which a stage entry keeps its options: its stage id, or `options` for a user stage. */
function stageOptionsKey(entry: Located): string {
  if (entry.kind !== 'map') return 'options';
  if (entry.entries.has('use')) return 'options';
  return [...entry.entries.keys()].find((k) => k !== 'name') ?? 'options';
}

function setIn(node: Located, path: readonly string[], value: Located, loc: SourceLocation): Located {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const map: LocatedMap = node.kind === 'map' ? node : { kind: 'map', entries: new Map(), loc };
  const entries = new Map(map.entries);
  const prev = entries.get(head);
  entries.set(head, {
    keyLoc: prev?.keyLoc ?? loc,
    value: setIn(prev?.value ?? { kind: 'map', entries: new Map(), loc }, rest, value, loc),
  });
  return { kind: 'map', entries, loc: map.loc };
}
