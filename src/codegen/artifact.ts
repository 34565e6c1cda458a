/**
 * Builds an artifact from a module: legalizes what is left of operator
 * calls (every state of a module builds), lowers the graph functions to a
 * VM program, generates the kernels for the target, and lays the constants
 * out in parameter shards. The result is a list of files; the codegen stage
 * writes them to its output directory.
 */
import { type Blob, blobChunks } from '../ir/blob.ts';
import { byteSize } from '../ir/dtype.ts';
import { BACKEND_ATTR, BACKEND_OUTPUT_ATTR, compositesBySymbol } from '../ir/graph/composite.ts';
import type { IRModule } from '../ir/module.ts';
import type { TargetDescription } from '../ir/target.ts';
import type { PrimFunc } from '../ir/tir/stmt.ts';
import { legalizeModule } from '../passes/legalize.ts';
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, type Manifest, type ParamEntry } from '../runtime/manifest.ts';
import { type ArtifactFile, codeGenerator } from './registry.ts';
import { collectStreamed, type StreamedBytes } from '../support/streamed-bytes.ts';
import { buildVMProgram, entryInfo } from './vm/lower.ts';

export interface Artifact {
  /** The module as built (legalized). */
  readonly module: IRModule;
  readonly manifest: Manifest;
  readonly files: readonly ArtifactFile[];
  /** Things the user should know (kernels that will run slowly as built). */
  readonly warnings: readonly string[];
}

export interface ArtifactOptions {
  readonly name: string;
  readonly target: TargetDescription;
  /** Largest parameter shard in bytes (a parameter larger than this gets a shard of its own). */
  readonly shardBytes?: number;
}

const DEFAULT_SHARD_BYTES = 64 * 1024 * 1024;
/** Parameters start at multiples of this, so typed arrays can view them in place. */
const PARAM_ALIGN = 64;

export async function buildArtifact(input: IRModule, options: ArtifactOptions): Promise<Artifact> {
  const target = options.target;
  const generator = await codeGenerator(target.kind);
  const legal = legalizeModule(input);
  const module = generator.prepare ? generator.prepare(legal, target) : legal;
  const vm = buildVMProgram(module);
  const kernels = new Map<string, PrimFunc>();
  for (const name of vm.kernels) kernels.set(name, module.functions.get(name) as PrimFunc);

  const encoder = new TextEncoder();
  const files: ArtifactFile[] = [];
  files.push({ path: 'program.json', bytes: encoder.encode(JSON.stringify(vm.program)) });
  const sorted = [...kernels.keys()].sort().map((name) => ({ name, func: kernels.get(name)! }));
  const emitted = await generator.emit(sorted, target);
  files.push(...emitted.files);
  const warnings = [...emitted.warnings];
  const kernelsEntry = emitted.kernels;

  const { shards, tensors } = layoutParams(vm.constants, options.shardBytes ?? DEFAULT_SHARD_BYTES);
  shards.forEach((stream, i) => files.push(streamedFile(shardName(i), stream)));

  const backends = backendFiles(module, vm.externs);
  files.push(...backends.files);

  const entries: Record<string, Manifest['entries'][string]> = {};
  for (const e of vm.entries) entries[e] = entryInfo(vm.program.functions[e]!);
  const manifest: Manifest = {
    format: ARTIFACT_FORMAT,
    version: ARTIFACT_VERSION,
    name: options.name,
    target: { name: target.name, kind: target.kind, device: target.device },
    entries,
    program: 'program.json',
    kernels: kernelsEntry,
    params: { shards: shards.map((s, i) => ({ file: shardName(i), byteLength: s.byteLength })), tensors },
    externs: vm.externs,
    ...(Object.keys(backends.manifest).length > 0 ? { backends: backends.manifest } : {}),
  };
  // Last: the files it names are in place before it is.
  files.push({ path: 'manifest.json', bytes: encoder.encode(`${JSON.stringify(manifest, null, 2)}\n`) });
  return { module, manifest, files, warnings };
}

/**
 * The files the partition stage's backends made for the composites the program calls
 * (src/ir/graph/composite.ts), under backends/<backend>/<fn>/, and the manifest's list of them.
 */
function backendFiles(
  module: IRModule,
  externs: readonly string[],
): { files: ArtifactFile[]; manifest: NonNullable<Manifest['backends']> } {
  const composites = compositesBySymbol(module);
  const files: ArtifactFile[] = [];
  const manifest: Record<string, { functions: Record<string, { entry: unknown; files: Record<string, string> }> }> = {};
  for (const symbol of externs) {
    const c = composites.get(symbol);
    if (!c) continue;
    const backend = c.func.attrs[BACKEND_ATTR] as string;
    const output = (c.func.attrs[BACKEND_OUTPUT_ATTR] ?? {}) as { entry?: unknown; files?: Record<string, string> };
    const paths: Record<string, string> = {};
    for (const [name, base64] of Object.entries(output.files ?? {})) {
      const path = `backends/${backend}/${c.name}/${name}`;
      paths[name] = path;
      files.push({ path, bytes: new Uint8Array(Buffer.from(base64, 'base64')) });
    }
    (manifest[backend] ??= { functions: {} }).functions[symbol] = { entry: output.entry ?? null, files: paths };
  }
  return { files, manifest };
}

/** A file written from a stream; its `bytes`, for those who want it whole, are assembled on request. */
function streamedFile(path: string, stream: StreamedBytes): ArtifactFile {
  let whole: Uint8Array | undefined;
  return {
    path,
    stream,
    get bytes() {
      return (whole ??= collectStreamed(stream));
    },
  };
}

function shardName(i: number): string {
  return `params/shard-${i}.bin`;
}

/**
 * Places the constants in shards. A shard is a stream of its constants' bytes (with the
 * alignment padding between them): written as it is read, one weight at a time, so an
 * artifact of a multi-GB model never holds its parameters in memory.
 */
function layoutParams(
  constants: ReturnType<typeof buildVMProgram>['constants'],
  shardBytes: number,
): { shards: StreamedBytes[]; tensors: ParamEntry[] } {
  const tensors: ParamEntry[] = [];
  const groups: { items: { blob: Blob; offset: number }[]; size: number }[] = [];
  for (const c of constants) {
    const length = c.blob.byteLength;
    const expected = c.shape.reduce((a, b) => a * b, 1) * byteSize(c.dtype);
    if (length !== expected) throw new Error(`constant ${c.blob.hash}: ${length} bytes, expected ${expected}`);
    let g = groups[groups.length - 1];
    const offset = g ? align(g.size) : 0;
    if (!g || (offset + length > shardBytes && g.items.length > 0)) {
      g = { items: [], size: 0 };
      groups.push(g);
    }
    const at = align(g.size);
    g.items.push({ blob: c.blob, offset: at });
    g.size = at + length;
    tensors.push({ dtype: c.dtype, shape: c.shape, shard: groups.length - 1, offset: at, byteLength: length, hash: c.blob.hash });
  }
  const shards = groups.map((g): StreamedBytes => ({
    byteLength: g.size,
    // The shard is its constants' blobs at their offsets: a cache keeps that, not a copy.
    parts: g.items.map((it) => ({ offset: it.offset, byteLength: it.blob.byteLength, hash: it.blob.hash })),
    *chunks() {
      let at = 0;
      for (const it of g.items) {
        if (it.offset > at) yield new Uint8Array(it.offset - at);
        let n = 0;
        for (const piece of blobChunks(it.blob)) {
          n += piece.byteLength;
          yield piece;
        }
        if (n !== it.blob.byteLength) throw new Error(`constant ${it.blob.hash}: ${n} bytes, expected ${it.blob.byteLength}`);
        at = it.offset + n;
      }
    },
  }));
  return { shards, tensors };
}

function align(n: number): number {
  return Math.ceil(n / PARAM_ALIGN) * PARAM_ALIGN;
}
