/**
 * From a pipeline file to a pipeline ready to build: load and merge the
 * YAML, validate it against the schema and every stage's options, resolve
 * the target, the model and user stages. Every problem is collected and
 * reported at once, before any work.
 */
import { dirname, resolve } from 'node:path';
import { allFormats, getImporter, importerForPath } from '../frontends/registry.ts';
import { type Diagnostic, didYouMean, type SourceLocation } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';
import { allStages, getStage, type ModelSpec, type StageDefinition } from '../stages/index.ts';
import { fileProblem } from './file-problem.ts';
import { loadPipeline, type Overrides, stageEntryName, userStageName } from './load.ts';
import { ajvDiagnostics, dotted, type Path, validateJson, zodDiagnostics } from './problems.ts';
import { mergedPipelineJsonSchema, modelSchema, stageOptionsJsonSchema } from './schema.ts';
import { loadTarget, type ResolvedTarget } from './targets.ts';
import { loadUserStage } from './user-stage.ts';
import { type Located, locate, mapGet, toJson } from './yaml-tree.ts';

export interface ResolvedStage {
  readonly index: number;
  readonly name: string;
  readonly def: StageDefinition;
  /** Validated, with defaults filled in. */
  readonly options: unknown;
  /** Where the stage is declared (its entry in the pipeline). */
  readonly loc: SourceLocation;
  /** The directory its options' relative paths are relative to. */
  readonly dir: string;
  /** Where a path inside the stage's options was written (`rules[1]`): for messages while it runs. */
  readonly locate?: (path: readonly (string | number)[], place?: { offset: number; length: number }) => SourceLocation;
  /** For a stage from the user's file: the files and their hash. */
  readonly user?: { readonly path: string; readonly files: readonly string[]; readonly hash: string };
}

export interface ResolvedPipeline {
  readonly file: string;
  readonly name: string;
  /** The YAML files of the extends chain. */
  readonly files: readonly string[];
  readonly target: ResolvedTarget;
  readonly model: ModelSpec;
  readonly stages: readonly ResolvedStage[];
}

export interface Resolution {
  readonly pipeline?: ResolvedPipeline;
  readonly diagnostics: readonly Diagnostic[];
  /** Texts of the files read, to quote lines in messages. */
  readonly sources: ReadonlyMap<string, string>;
  /** Every file the result depends on (to watch), also when it has problems. */
  readonly watched: readonly string[];
}

let mergedSchema: Record<string, unknown> | undefined;
const optionSchemas = new WeakMap<StageDefinition, Record<string, unknown> | null>();

function optionsSchema(def: StageDefinition): Record<string, unknown> | null {
  let s = optionSchemas.get(def);
  if (s === undefined) {
    try {
      s = stageOptionsJsonSchema(def);
    } catch {
      s = null; // a user's zod schema JSON Schema cannot express: zod alone validates it
    }
    optionSchemas.set(def, s);
  }
  return s;
}

/** `passes` in --set and extends is a name; in messages it reads best quoted. */
const top = (p: Path): string => (p.length === 0 ? 'pipeline' : dotted(p));

export async function resolvePipeline(file: string, overrides: Overrides = {}): Promise<Resolution> {
  const loaded = loadPipeline(file, overrides);
  const sources = new Map(loaded.sources);
  const watched = new Set(loaded.files);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const done = (pipeline?: ResolvedPipeline): Resolution => ({
    ...(pipeline && diagnostics.length === 0 ? { pipeline } : {}),
    diagnostics: inReadingOrder(diagnostics),
    sources,
    watched: [...watched],
  });
  // A file that could not be read or parsed, or a broken extends chain, leaves a partial
  // document: what it lacks would only be noise next to the real problem.
  const tree = loaded.tree;
  if (!tree || loaded.diagnostics.length > 0) return done();

  mergedSchema ??= mergedPipelineJsonSchema();
  const structural = validateJson(mergedSchema, toJson(tree));
  diagnostics.push(...ajvDiagnostics(structural, tree, [], top));
  const dirOf = (loc: SourceLocation): string => (loc.file.startsWith('<') ? process.cwd() : dirname(loc.file));

  // The target.
  let target: ResolvedTarget | undefined;
  const targetNode = mapGet(tree, 'target');
  if (targetNode?.kind === 'scalar' && typeof targetNode.value === 'string') {
    const t = loadTarget(targetNode.value, dirOf(targetNode.loc), targetNode.loc, sources);
    diagnostics.push(...t.diagnostics);
    target = t.target;
    if (target) watched.add(target.file);
  }

  // The model.
  const model = resolveModel(mapGet(tree, 'model'), diagnostics, dirOf);
  if (model) watched.add(model.path);

  // The stages.
  const stagesNode = mapGet(tree, 'stages');
  const stages: ResolvedStage[] = [];
  if (stagesNode?.kind === 'seq') {
    const names = new Map<string, number>();
    for (const [index, item] of stagesNode.items.entries()) {
      const stage = await resolveStage(tree, item, index, diagnostics, dirOf, sources);
      if (!stage) continue;
      for (const f of stage.user?.files ?? []) watched.add(f);
      if (names.has(stage.name)) diagnostics.push(diagnostic(M.duplicateStage, { name: stage.name }, stage.loc));
      names.set(stage.name, index);
      stages.push(stage);
    }
    checkOrder(stages, diagnostics);
  }

  const nameNode = mapGet(tree, 'name');
  const name = nameNode?.kind === 'scalar' ? String(nameNode.value) : '';
  if (!target || !model || diagnostics.length > 0) return done();
  const pipeline: ResolvedPipeline = { file: resolve(file), name, files: loaded.files, target, model, stages };
  for (const s of stages)
    for (const f of s.def.inputs?.(s.options as never, { dir: s.dir, target: target.description, model }) ?? []) watched.add(f);
  return done(pipeline);
}

function resolveModel(
  node: Located | undefined,
  diagnostics: Diagnostic[],
  dirOf: (loc: SourceLocation) => string,
): ModelSpec | undefined {
  if (node?.kind !== 'map') return undefined;
  // A missing file is worth reporting even when other model settings are wrong (reported above).
  const pathNode = mapGet(node, 'path');
  const path =
    pathNode?.kind === 'scalar' && typeof pathNode.value === 'string' ? resolve(dirOf(pathNode.loc), pathNode.value) : undefined;
  const problem = path === undefined ? undefined : fileProblem('model file', path, pathNode!.loc);
  if (problem) diagnostics.push(problem);
  const parsed = modelSchema.safeParse(toJson(node));
  if (!parsed.success || path === undefined || !pathNode) return undefined;
  const m = parsed.data;
  let ok = problem === undefined;
  const importer = m.format !== undefined ? getImporter(m.format) : importerForPath(path);
  if (!importer) {
    const formatNode = mapGet(node, 'format');
    const problem =
      m.format !== undefined
        ? `unknown format '${m.format}' (known: ${allFormats().join(', ')})`
        : `cannot tell the format from the file name; add model.format (known: ${allFormats().join(', ')})`;
    diagnostics.push(
      diagnostic(
        M.pipelineValue,
        { where: 'model', problem },
        (formatNode ?? pathNode).loc,
        m.format ? didYouMean(m.format, allFormats()) : [],
      ),
    );
    ok = false;
  }
  if (!ok || !importer) return undefined;
  const dynamic: Record<string, { name?: string; upper?: number }> = {};
  for (const [k, v] of Object.entries(m.dynamic)) dynamic[k] = typeof v === 'string' ? { name: v } : v;
  return { path, format: importer.format, dynamic, ...(m.inputs ? { inputs: m.inputs } : {}) };
}

async function resolveStage(
  tree: Located,
  item: Located,
  index: number,
  diagnostics: Diagnostic[],
  dirOf: (loc: SourceLocation) => string,
  sources: ReadonlyMap<string, string>,
): Promise<ResolvedStage | undefined> {
  if (item.kind !== 'map') {
    diagnostics.push(
      diagnostic(
        M.pipelineValue,
        { where: `stages[${index}]`, problem: 'a stage is a map: { <stage id>: { options } } or { use: ./file.ts }' },
        item.loc,
      ),
    );
    return undefined;
  }
  const keys = [...item.entries.keys()].filter((k) => k !== 'name' && k !== 'options');
  const nameNode = mapGet(item, 'name');
  if (nameNode && !(nameNode.kind === 'scalar' && typeof nameNode.value === 'string')) {
    diagnostics.push(diagnostic(M.pipelineValue, { where: `stages[${index}].name`, problem: 'must be a string' }, nameNode.loc));
    return undefined;
  }
  if (keys.length !== 1) {
    const problem =
      keys.length === 0 ? 'names no stage' : `names more than one stage (${keys.join(', ')}); put each in its own list entry`;
    diagnostics.push(diagnostic(M.pipelineValue, { where: `stages[${index}]`, problem }, item.loc));
    return undefined;
  }
  const key = keys[0]!;
  const keyLoc = item.entries.get(key)!.keyLoc;
  const name = stageEntryName(item) ?? key;
  const base: Path = ['stages', index];

  let def: StageDefinition | undefined;
  let user: ResolvedStage['user'];
  let optionsPath: Path;
  if (key === 'use') {
    const useNode = mapGet(item, 'use')!;
    if (!(useNode.kind === 'scalar' && typeof useNode.value === 'string')) {
      diagnostics.push(
        diagnostic(
          M.pipelineValue,
          { where: `stage '${name}'`, problem: 'use must be the path of a .ts or .js file' },
          useNode.loc,
        ),
      );
      return undefined;
    }
    const path = resolve(dirOf(useNode.loc), useNode.value);
    const problem = fileProblem('stage file', path, useNode.loc);
    if (problem) {
      diagnostics.push(problem);
      return undefined;
    }
    try {
      const loaded = await loadUserStage(path);
      def = loaded.def;
      user = { path, files: loaded.files, hash: loaded.hash };
    } catch (e) {
      diagnostics.push(
        diagnostic(M.userStage, { file: useNode.value, problem: e instanceof Error ? e.message : String(e) }, useNode.loc),
      );
      return undefined;
    }
    optionsPath = [...base, 'options'];
  } else {
    if (item.entries.has('options')) {
      diagnostics.push(
        diagnostic(M.unknownKey, { where: `stage '${name}'`, key: 'options' }, item.entries.get('options')!.keyLoc, [
          `write the options of ${key} under it: { ${key}: { ... } }`,
        ]),
      );
      return undefined;
    }
    def = getStage(key);
    if (!def) {
      diagnostics.push(
        diagnostic(M.unknownStage, { name: key }, keyLoc, [
          ...didYouMean(key, [...allStages().map((s) => s.id), 'use']),
          `stages: ${allStages()
            .map((s) => s.id)
            .join(', ')}, or use: ./my-stage.ts`,
        ]),
      );
      return undefined;
    }
    optionsPath = [...base, key];
  }

  const optionsNode = item.entries.get(key === 'use' ? 'options' : key)?.value;
  const raw = optionsNode ? toJson(optionsNode) : {};
  const value = raw === null ? {} : raw;
  const describe = (p: Path): string => `stage '${name}'${p.length > 0 ? `, option '${dotted(p)}'` : ''}`;
  const known = Object.keys(def.options.shape);
  const schema = optionsSchema(def);
  const before = diagnostics.length;
  if (schema) diagnostics.push(...ajvDiagnostics(validateJson(schema, value), tree, optionsPath, describe));
  if (diagnostics.length > before) return undefined;
  const parsed = def.options.safeParse(value);
  if (!parsed.success) {
    diagnostics.push(...zodDiagnostics(parsed.error, tree, optionsPath, describe, known));
    return undefined;
  }
  for (const p of def.check?.(parsed.data) ?? []) {
    const at = locate(tree, [...optionsPath, ...p.path]);
    diagnostics.push(
      diagnostic(
        M.pipelineValue,
        { where: describe(p.path), problem: p.message },
        p.offset === undefined ? at : inScalar(at, p.offset, p.length ?? 1, sources),
        p.notes,
      ),
    );
  }
  if (diagnostics.length > before) return undefined;
  return {
    index,
    name: key === 'use' && !nameNode ? userStageName(String(toJson(mapGet(item, 'use')!))) : name,
    def,
    options: parsed.data,
    loc: keyLoc,
    dir: dirOf(keyLoc),
    locate: (path, place) => {
      const at = locate(tree, [...optionsPath, ...path]);
      return place ? inScalar(at, place.offset, place.length, sources) : at;
    },
    ...(user ? { user } : {}),
  };
}

/**
 * A place inside a one-line string value: `loc` is where the value starts, `offset` a place in
 * the string (a quoted value starts one character later than its text).
 */
function inScalar(loc: SourceLocation, offset: number, length: number, sources: ReadonlyMap<string, string>): SourceLocation {
  const line = sources.get(loc.file)?.split('\n')[loc.line - 1] ?? '';
  const quoted = line[loc.column - 1] === '"' || line[loc.column - 1] === "'";
  return { ...loc, column: loc.column + (quoted ? 1 : 0) + offset, length };
}

/** The module comes from the source stage (import), so it is first and only first. */
function checkOrder(stages: readonly ResolvedStage[], diagnostics: Diagnostic[]): void {
  stages.forEach((s, i) => {
    if (i === 0 && !s.def.source) {
      const sources = allStages()
        .filter((d) => d.source)
        .map((d) => d.id);
      diagnostics.push(
        diagnostic(
          M.pipelineValue,
          { where: `stage '${s.name}'`, problem: `the first stage must read the model (${sources.join(', ')})` },
          s.loc,
        ),
      );
    }
    if (i > 0 && s.def.source) {
      diagnostics.push(
        diagnostic(
          M.pipelineValue,
          { where: `stage '${s.name}'`, problem: 'reads the model, so it must be the first stage' },
          s.loc,
        ),
      );
    }
  });
}

/** Problems in the order a reader meets them: file by file (in the order first seen), line by line. */
function inReadingOrder(ds: readonly Diagnostic[]): Diagnostic[] {
  const files: string[] = [];
  for (const d of ds) if (d.location && !files.includes(d.location.file)) files.push(d.location.file);
  const rank = (d: Diagnostic): [number, number, number] =>
    d.location ? [files.indexOf(d.location.file), d.location.line, d.location.column] : [-1, 0, 0];
  return [...ds].sort((a, b) => {
    const x = rank(a);
    const y = rank(b);
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}
