/**
 * The build engine: runs a resolved pipeline's stages in order through the
 * cache. Each stage's key is
 *
 *   H(previous key, stage id, version, canonical options, target (when the
 *     stage uses it), fingerprint, hashes of the files it reads, user source)
 *
 * so a hit is known without loading any module. Modules are loaded only
 * where a stage must run after cached ones; a cached entry that turns out
 * corrupt or incomplete is rebuilt from the stage before it.
 */
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { CacheStore } from '../cache/index.ts';
import { type Blob, blobChunks, lazyBlob } from '../ir/blob.ts';
import type { IRModule } from '../ir/module.ts';
import { deserializeModule, serializeModule } from '../ir/serialize.ts';
import { assertWellFormed } from '../ir/verify/index.ts';
import { isKilnError, KilnError } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError, isPathMistake } from '../support/fs-errors.ts';
import { forEachConcurrently } from '../support/concurrently.ts';
import { sha256Hex } from '../support/hash.ts';
import { diagnostic, fail, M } from '../support/messages.ts';
import type { StreamedBytes } from '../support/streamed-bytes.ts';
import { type StageContext, stageUsesTarget } from '../stages/index.ts';
import { FileDigests } from './file-digests.ts';
import { fileProblem } from './file-problem.ts';
import { moduleStats, type ModuleStats } from './module-stats.ts';
import { materialize, MissingPart, PARTS_DIGEST_KIND, partsContent, partsDigestOfFile, type WrittenFile } from './outputs.ts';
import type { ResolvedPipeline, ResolvedStage } from './resolve.ts';
import { keyJson } from './key-material.ts';

/** Bumped when the layout of cache entries or keys changes. */
const KEY_FORMAT = 'kiln-stage/1';

/** Weights up to this size are written into the store several at a time (SMALL_BLOB_WRITES_IN_FLIGHT). */
const SMALL_BLOB_BYTES = 4 * 1024 * 1024;
const SMALL_BLOB_WRITES_IN_FLIGHT = 8;

/** What a stage did, as `--report` writes it. */
export interface StageResult extends ModuleStats {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly cached: boolean;
  /** Where the result came from: the local cache, the remote one, or running the stage. */
  readonly source: 'local' | 'remote' | 'built';
  readonly ms: number;
}

export interface BuildResult {
  readonly pipeline: string;
  readonly target: string;
  readonly totalMs: number;
  readonly stages: readonly StageResult[];
}

export type BuildEvent =
  | { readonly kind: 'start'; readonly stage: ResolvedStage }
  | { readonly kind: 'done'; readonly stage: ResolvedStage; readonly result: StageResult }
  | { readonly kind: 'log' | 'warning'; readonly stage?: ResolvedStage; readonly message: string };

export interface BuildOptions {
  /** The cache; none: every stage runs and nothing is stored. */
  readonly store?: CacheStore;
  /** Check every module a stage produces for well-formedness. */
  readonly verify?: boolean;
  readonly onEvent?: (e: BuildEvent) => void;
  /** Shared between builds of one process (watch mode); by default one per build. */
  readonly digests?: FileDigests;
}

/** What a stage's cache entry holds. */
interface ActionPayload {
  readonly format: 1;
  /** sha256 of the serialized module in the store. */
  readonly module: string;
  readonly blobs: readonly string[];
  /** Files the stage emitted, relative to its directory (a file of parts: by its recipe, no copy). */
  readonly files: readonly WrittenFile[];
  readonly stats: ModuleStats;
}

function isPayload(x: unknown): x is ActionPayload {
  const p = x as Partial<ActionPayload> | undefined;
  return (
    typeof p === 'object' &&
    p !== null &&
    p.format === 1 &&
    typeof p.module === 'string' &&
    Array.isArray(p.blobs) &&
    Array.isArray(p.files) &&
    typeof p.stats === 'object'
  );
}

interface StageState {
  key: string;
  module?: IRModule;
  payload?: ActionPayload;
  result?: StageResult;
}

export class Build {
  private readonly states: StageState[] = [];
  private readonly digests: FileDigests;
  /** Set once stages were re-run for a weight the cache lost. */
  private recomputed = false;

  constructor(
    readonly pipeline: ResolvedPipeline,
    private readonly options: BuildOptions = {},
  ) {
    this.digests = options.digests ?? new FileDigests(options.store?.root);
  }

  /** Runs the stages up to `last` (default: all) and returns what each did. */
  async run(last = this.pipeline.stages.length - 1): Promise<BuildResult> {
    const t0 = performance.now();
    const results: StageResult[] = [];
    for (let i = 0; i <= last; i++) results.push(await this.runStage(i));
    this.digests.save();
    return {
      pipeline: this.pipeline.name,
      target: this.pipeline.target.description.name,
      totalMs: performance.now() - t0,
      stages: results,
    };
  }

  /** The key of stage i: known from the pipeline and file contents alone. */
  key(i: number): string {
    const have = this.states[i];
    if (have) return have.key;
    const stage = this.pipeline.stages[i]!;
    const env = this.env(stage);
    const inputs = (stage.def.inputs?.(stage.options as never, env) ?? []).map((f) => {
      const h = this.digests.hash(f, stage.def.inputDigest?.(f, env));
      if (h === undefined) throw unreadableInput(stage, f);
      return h;
    });
    const material = [
      KEY_FORMAT,
      i === 0 ? '' : this.key(i - 1),
      stage.def.id,
      stage.def.version,
      keyJson(stage.options),
      stageUsesTarget(stage.def, stage.options) ? this.pipeline.target.hash : null,
      stage.def.fingerprint?.(stage.options as never, env) ?? null,
      inputs.sort(),
      stage.user?.hash ?? null,
    ];
    const key = sha256Hex(JSON.stringify(material));
    this.states[i] = { key };
    return key;
  }

  private env(stage: ResolvedStage): {
    dir: string;
    target: ResolvedPipeline['target']['description'];
    model: ResolvedPipeline['model'];
  } {
    return { dir: stage.dir, target: this.pipeline.target.description, model: this.pipeline.model };
  }

  async runStage(i: number): Promise<StageResult> {
    const stage = this.pipeline.stages[i]!;
    this.emit({ kind: 'start', stage });
    const t0 = performance.now();
    const key = this.key(i);
    const state = this.states[i]!;
    const store = this.options.store;
    let cached = false;
    let source: StageResult['source'] = 'built';
    if (store && stage.def.cacheable !== false) {
      const payload = await this.lookup(key);
      if (payload && (await this.restoreFiles(stage, payload))) {
        state.payload = payload;
        cached = true;
        source = store.actionOrigin?.(key) ?? 'local';
        // A remote hit, now complete locally, is stored locally too: the next build does not ask again.
        if (source === 'remote') await store.putAction(key, payload, payloadRefs(payload));
      }
    }
    if (!cached) await this.execute(i);
    const result: StageResult = {
      id: stage.def.id,
      name: stage.name,
      key,
      cached,
      source,
      ms: performance.now() - t0,
      ...(state.payload?.stats ?? moduleStats(state.module!)),
    };
    state.result = result;
    this.emit({ kind: 'done', stage, result });
    return result;
  }

  /**
   * What an identical build would look up, after this one ran every stage: each stage's action key,
   * the blobs its entry needs, and the files it emitted (absolute). Undefined when a stage has no
   * entry (not cacheable, no store, or not run).
   */
  entries(): { actions: string[]; blobs: string[]; files: string[] } | undefined {
    const actions: string[] = [];
    const blobs = new Set<string>();
    const files: string[] = [];
    for (const [i, stage] of this.pipeline.stages.entries()) {
      const s = this.states[i];
      if (!s?.payload || !s.result || stage.def.cacheable === false) return undefined;
      actions.push(s.key);
      for (const h of [s.payload.module, ...s.payload.blobs]) blobs.add(h);
      for (const f of s.payload.files) files.push(resolve(stage.dir, f.path));
    }
    return { actions, blobs: [...blobs], files };
  }

  /** The module after stage i, from memory, the cache, or by running the stage. */
  async moduleAfter(i: number): Promise<IRModule> {
    const state = this.states[i];
    if (state?.module) return state.module;
    if (!state?.result) await this.runStage(i);
    const s = this.states[i]!;
    if (s.module) return s.module;
    const loaded = s.payload ? await this.load(s.payload) : undefined;
    if (loaded) {
      s.module = loaded;
      return loaded;
    }
    this.emit({
      kind: 'warning',
      stage: this.pipeline.stages[i],
      message: `the cached result of stage '${this.pipeline.stages[i]!.name}' is gone or corrupt; rebuilding it`,
    });
    await this.execute(i);
    return s.module!;
  }

  private async lookup(key: string): Promise<ActionPayload | undefined> {
    const store = this.options.store!;
    const payload = await store.getAction(key);
    if (payload === undefined) return undefined;
    if (!isPayload(payload)) {
      this.emit({ kind: 'warning', message: `cache entry ${key.slice(0, 12)} has an unknown format; rebuilding` });
      return undefined;
    }
    // A hit needs everything it refers to: the module and each weight.
    for (const h of [payload.module, ...payload.blobs]) if (!(await store.hasBlob(h))) return undefined;
    return payload;
  }

  private async load(payload: ActionPayload): Promise<IRModule | undefined> {
    const store = this.options.store!;
    const bytes = await store.readBlob(payload.module);
    if (!bytes) return undefined;
    const read = (hash: string) => () => store.readBlobSync(hash) ?? fail(M.blobUnavailable, { hash });
    return deserializeModule(
      new TextDecoder().decode(bytes),
      (hash, length) => lazyBlob(hash, length, read(hash)),
      `cache entry ${payload.module.slice(0, 12)}`,
    );
  }

  /**
   * Runs stage i, and when a weight of the cached module it reads turns out gone or corrupt
   * (the store evicts it as it reads), runs the stages before it again, in memory, and then
   * stage i: the build recomputes what the cache lost instead of failing. Once per build.
   */
  private async execute(i: number): Promise<void> {
    try {
      await this.executeOnce(i);
    } catch (e) {
      if (this.recomputed || i === 0 || !lostWeight(e)) throw e;
      this.recomputed = true;
      const stage = this.pipeline.stages[i]!;
      this.emit({
        kind: 'warning',
        stage,
        message: `a weight of the cached module before stage '${stage.name}' is gone or corrupt; re-running the stages before it`,
      });
      for (let j = 0; j < i; j++) this.states[j]!.module = undefined;
      for (let j = 0; j < i; j++) await this.executeOnce(j);
      await this.executeOnce(i);
    }
  }

  /** Runs stage i on the module after stage i-1 and stores the result. */
  private async executeOnce(i: number): Promise<void> {
    const stage = this.pipeline.stages[i]!;
    const input = i === 0 ? undefined : await this.moduleAfter(i - 1);
    const files: { path: string; bytes: Uint8Array | StreamedBytes }[] = [];
    const ctx: StageContext<never> = {
      ...this.env(stage),
      options: stage.options as never,
      name: stage.name,
      resolvePath: (p) => resolve(stage.dir, p),
      emitFile: (p, bytes) => files.push({ path: isAbsolute(p) ? relative(stage.dir, p) : p, bytes }),
      log: (message) => this.emit({ kind: 'log', stage, message }),
      warn: (message) => this.emit({ kind: 'warning', stage, message }),
      ...(stage.locate ? { locate: stage.locate } : {}),
    };
    let module: IRModule;
    let written: ActionPayload['files'];
    try {
      module = await stage.def.run(input, ctx);
      if (this.options.verify) assertWellFormed(module, (await import('../ops/index.ts')).opHooks);
      written = await materialize(stage.dir, files, this.options.store);
    } catch (e) {
      throw stageFailure(stage, e);
    }
    // A file of parts was written from its recipe: its digest is known without reading it back.
    for (const f of written) if (f.parts) this.digests.remember(resolve(stage.dir, f.path), PARTS_DIGEST_KIND, f.hash);
    const state = this.states[i]!;
    state.module = module;
    if (this.options.store && stage.def.cacheable !== false) {
      state.payload = await this.store(module, written);
      await this.options.store.putAction(state.key, state.payload, payloadRefs(state.payload));
    }
  }

  private async store(module: IRModule, files: ActionPayload['files']): Promise<ActionPayload> {
    const store = this.options.store!;
    const { text, blobs } = serializeModule(module);
    const moduleHash = await store.writeBlob(new TextEncoder().encode(text));
    // Small weights are written several at a time: a model has hundreds, and each costs the store
    // a few file-system round trips (stat, open, write, rename) that then overlap. Large ones go
    // one at a time: copying bytes is what bounds them, and one may be whole in memory while written.
    const write = async (b: Blob): Promise<void> => {
      if (await store.hasBlob(b.hash)) return;
      await store.writeBlob({ byteLength: b.byteLength, chunks: () => blobChunks(b) }, b.hash);
    };
    const small = (b: Blob): boolean => b.byteLength <= SMALL_BLOB_BYTES;
    await forEachConcurrently(blobs.filter(small), SMALL_BLOB_WRITES_IN_FLIGHT, write);
    for (const b of blobs.filter((b) => !small(b))) await write(b);
    // The blobs files of parts are made of are the entry's too: a hit needs them, and uses them.
    const partHashes = files.flatMap((f) => (f.parts ?? []).map((p) => p.hash));
    const all = [...new Set([...blobs.map((b) => b.hash), ...partHashes])];
    return { format: 1, module: moduleHash, blobs: all, files, stats: moduleStats(module) };
  }

  /** Puts a cached stage's emitted files back where they belong; false when one is missing from the store. */
  private async restoreFiles(stage: ResolvedStage, payload: ActionPayload): Promise<boolean> {
    try {
      for (const f of payload.files) {
        const dest = resolve(stage.dir, f.path);
        if (f.parts) {
          const { parts, byteLength = 0 } = f;
          const how = { kind: PARTS_DIGEST_KIND, digest: (p: string) => partsDigestOfFile(p, byteLength, parts) };
          if (this.digests.hash(dest, how) === `${PARTS_DIGEST_KIND}:${f.hash}`) continue;
          const store = this.options.store!;
          mkdirSync(dirname(dest), { recursive: true });
          await materialize(
            stage.dir,
            [{ path: f.path, bytes: partsContent(byteLength, parts, (h) => store.readBlobSync(h)) }],
            undefined,
          );
          this.digests.remember(dest, PARTS_DIGEST_KIND, f.hash);
          continue;
        }
        if (this.digests.hash(dest) === f.hash) continue;
        const bytes = await this.options.store!.readBlob(f.hash);
        if (!bytes) return false;
        mkdirSync(dirname(dest), { recursive: true });
        await materialize(stage.dir, [{ path: f.path, bytes }], undefined);
      }
    } catch (e) {
      // A blob of a file's parts gone from the store: a miss, the stage runs again.
      if (e instanceof MissingPart) return false;
      throw stageFailure(stage, e);
    }
    return true;
  }

  private emit(e: BuildEvent): void {
    this.options.onEvent?.(e);
  }
}

/** Every blob a cache entry needs: its module, the module's weights, the files the stage emitted. */
function payloadRefs(p: ActionPayload): string[] {
  // A file of parts is named by its recipe's digest, which is no blob: the blobs are its parts.
  const fileBlobs = p.files.flatMap((f) => (f.parts ? f.parts.map((part) => part.hash) : [f.hash]));
  return [...new Set([p.module, ...p.blobs, ...fileBlobs])];
}

/** A failure that comes from a weight blob the store no longer has (or had corrupt and evicted). */
function lostWeight(e: unknown): boolean {
  return isKilnError(e) && e.diagnostics.some((d) => d.code === M.blobUnavailable.code);
}

/** A file a stage reads is gone or is a directory: the pipeline's mistake, at the stage. */
function unreadableInput(stage: ResolvedStage, path: string): KilnError {
  const what = `input of stage '${stage.name}'`;
  return new KilnError(fileProblem(what, path, stage.loc) ?? diagnostic(M.missingFile, { what, path }, stage.loc), {
    input: true,
  });
}

/**
 * A stage's failure, named with the stage and where the pipeline declares it; the cause
 * follows. What the source stage rejects is the user's model: an input error. A file-system
 * error is said with its path; a path that cannot work (under a file, a directory where a
 * file goes) is the pipeline's mistake.
 */
function stageFailure(stage: ResolvedStage, e: unknown): KilnError {
  const who = {
    stage: stage.name,
    id: stage.def.id,
    ...(stage.user ? { from: relative(process.cwd(), stage.user.path) } : {}),
  };
  if (isKilnError(e)) {
    const cause = e.diagnostics[0]?.message ?? 'failed';
    return new KilnError([diagnostic(M.stageFailed, { ...who, cause }, stage.loc), ...e.diagnostics], {
      input: e.input || stage.def.source === true,
    });
  }
  if (isErrnoError(e)) {
    const cause = fsDiagnostic(e).message;
    return new KilnError(diagnostic(M.stageFailed, { ...who, cause }, stage.loc), { input: isPathMistake(e) });
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const stack =
    err.stack
      ?.split('\n')
      .slice(1, 6)
      .map((l) => l.trim()) ?? [];
  // A user's stage is the user's code: its stack helps them. A built-in stage throwing is a bug in Kiln.
  const notes = stage.user ? stack : ['this is a bug in Kiln; please report it', ...stack];
  return new KilnError(diagnostic(M.stageFailed, { ...who, cause: err.message }, stage.loc, notes));
}
