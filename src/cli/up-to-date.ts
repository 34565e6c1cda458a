/**
 * The up-to-date check: `kiln build` answered without loading the compiler when nothing it
 * read or wrote has changed since the same command last succeeded — make's and ninja's
 * question, asked of file metadata.
 *
 * After a build whose every stage is in the local cache, a stamp keyed by the command (its
 * pipelines, --target, --set, --verify, the cache directory, the working directory, and the
 * Kiln and Node that ran it) records the (size, mtime, ctime, inode) of every file the build
 * read (pipelines and what they extend, the target file, the model and each stage's inputs,
 * user stage sources) and wrote (the artifact, pictures), and the cache entries the stages
 * came from. When the same command finds all of them as they were (the same trust the file
 * digest table gives a model's metadata), it prints what a build of cached stages prints,
 * touches the entries as their use would (for gc's LRU), writes `kiln cache stats`' record,
 * and exits, in a few milliseconds past Node's own start. Anything it does not understand
 * (another option, a remote cache, a project config, a report to write) goes the ordinary
 * way, which then records a new stamp.
 *
 * This module is loaded by the command's entry before anything else: Node built-ins only.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { entryPath, UP_TO_DATE_DIR } from '../cache/layout.ts';
import { buildRecord, writeBuildRecord } from './build-record.ts';
import { doneLine, summary } from './progress.ts';
import { PROJECT_CONFIG } from './project-config-name.ts';

/** What of a `kiln build` command line the stamp is keyed by. */
export interface BuildCommand {
  readonly files: readonly string[];
  readonly cacheDir?: string;
  readonly target?: string;
  readonly set: readonly string[];
  readonly verify: boolean;
}

type FileState = readonly [path: string, size: number, mtimeMs: number, ctimeMs: number, ino: number];

interface Stamp {
  readonly format: 2;
  /** What the stamp's name is a hash of, compared in full when read (the name's hash is not cryptographic). */
  readonly material: string;
  readonly pipelines: readonly { readonly pipeline: string; readonly target: string; readonly stages: readonly string[] }[];
  readonly read: readonly FileState[];
  readonly written: readonly FileState[];
  readonly actions: readonly string[];
  readonly blobs: readonly string[];
}

const FORMAT = 2;

/** Set on globalThis once a process ran the check (bin/kiln.js, through dist/up-to-date.cjs), so the CLI's entry does not run it again. */
export const UP_TO_DATE_CHECKED = Symbol.for('kiln.upToDateChecked');

/** Kiln's own identity, set by the bundled command's entry; none when running from the sources. */
let identity: string | undefined;

/**
 * Names the Kiln that runs: the content of the bundled entry (`dist/kiln.mjs`, given by its
 * path), which names its chunks by the hashes of their contents (and so, through their imports,
 * of everything bundled), and the Node running it. Only the bundled command calls this: from
 * the sources (tsx, vitest), which change without a build, there is no stamp.
 */
export function identifyKiln(entryPath: string): void {
  identity = undefined;
  if (!entryPath.endsWith('.mjs')) return;
  try {
    identity = `${readFileSync(entryPath, 'utf8')}\0${process.execPath}\0${process.version}`;
  } catch {
    // unreadable: no stamps
  }
}

/** The cache directory a build without a project config uses: flag, then KILN_CACHE_DIR, then the default. */
function cacheRoot(cmd: BuildCommand): string {
  return resolve(cmd.cacheDir ?? '.kiln/cache');
}

/**
 * The stamp of a command: where it is, and the material it must hold (the command and the Kiln
 * and Node that run it). Named by a 64-bit FNV-1a of the material, not SHA-256: node:crypto
 * alone would take longer to load than the whole check; the material is compared when read.
 */
function stampOf(cmd: BuildCommand): { path: string; material: string } | undefined {
  if (identity === undefined) return undefined;
  const root = cacheRoot(cmd);
  const material = JSON.stringify([
    FORMAT,
    identity,
    process.cwd(),
    cmd.files.map((f) => resolve(f)),
    root,
    cmd.target ?? null,
    cmd.set,
    cmd.verify,
  ]);
  return { path: join(root, UP_TO_DATE_DIR, `${fnv1a64(material)}.json`), material };
}

/** FNV-1a over the UTF-16 code units, 64 bits as two 32-bit halves, in hex. */
function fnv1a64(text: string): string {
  let [hi, lo] = [0xcbf29ce4, 0x84222325];
  for (let i = 0; i < text.length; i++) {
    lo ^= text.charCodeAt(i);
    // Multiply by the 64-bit FNV prime 2^40 + 0x1b3, in 32-bit pieces.
    const l = lo * 0x1b3;
    const h = hi * 0x1b3 + (lo << 8) + Math.floor(l / 0x100000000);
    lo = l >>> 0;
    hi = h >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Settings the check leaves to the full command: a remote cache or a project config (which may name one). */
function otherSettings(): boolean {
  const remote = process.env.KILN_REMOTE_CACHE;
  return (remote !== undefined && remote !== '') || existsSync(resolve(PROJECT_CONFIG));
}

/**
 * A `kiln build` command line the check understands: pipelines, --cache-dir, --target, --set,
 * --verify (each value as `--opt v` or `--opt=v`). Anything else is undefined.
 */
export function parseBuildCommand(argv: readonly string[]): BuildCommand | undefined {
  if (argv[0] !== 'build') return undefined;
  const files: string[] = [];
  const set: string[] = [];
  let cacheDir = process.env.KILN_CACHE_DIR;
  let target: string | undefined;
  let verify = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--verify') {
      verify = true;
      continue;
    }
    const m = /^(--cache-dir|--target|--set)(?:=(.*))?$/s.exec(a);
    if (m) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) return undefined;
      if (m[1] === '--cache-dir') cacheDir = value;
      else if (m[1] === '--target') target = value;
      else set.push(value);
      continue;
    }
    if (a.startsWith('-')) return undefined;
    files.push(a);
  }
  if (files.length === 0) return undefined;
  return { files, set, verify, ...(cacheDir !== undefined ? { cacheDir } : {}), ...(target !== undefined ? { target } : {}) };
}

function fileState(path: string): FileState | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? [path, st.size, st.mtimeMs, st.ctimeMs, st.ino] : undefined;
  } catch {
    return undefined;
  }
}

function unchanged(recorded: FileState): boolean {
  const now = fileState(recorded[0]);
  return now !== undefined && now.every((v, i) => v === recorded[i]);
}

/**
 * A file changed less than this long before a build began might have changed again after the build read
 * it without changing its times (file times advance by the kernel's clock tick, and a network
 * file system's clock may differ): git's "racily clean" files. Such a build records no stamp;
 * the next one, with the edit this far in the past, does.
 */
const RACY_MS = 1000;

/**
 * The metadata of the files a build read, taken once it knows them (after resolving the pipeline,
 * before running it); undefined when one was changed too close to `startedAt` (Date.now() before
 * the build read anything) to vouch for the content the build read, or is not a file.
 */
export function readFilesState(files: Iterable<string>, startedAt: number): FileState[] | undefined {
  const states = statAll(files);
  return states?.every((s) => Math.max(s[2], s[3]) <= startedAt - RACY_MS) ? states : undefined;
}

/** Each file's state; undefined when one is not a file. */
function statAll(files: Iterable<string>): FileState[] | undefined {
  const out: FileState[] = [];
  for (const f of new Set(files)) {
    const s = fileState(f);
    if (!s) return undefined;
    out.push(s);
  }
  return out;
}

/**
 * Records the stamp of a build that succeeded with every stage in the local cache. `read` was
 * taken before the build; the entries are checked to be there (a full or read-only cache may
 * have kept nothing) and the written files stated now.
 */
export function recordUpToDate(
  cmd: BuildCommand,
  read: readonly FileState[] | undefined,
  builds: readonly {
    pipeline: string;
    target: string;
    stages: readonly string[];
    entries: { actions: string[]; blobs: string[]; files: string[] } | undefined;
  }[],
): void {
  const where = stampOf(cmd);
  if (!where || !read || otherSettings() || builds.some((b) => !b.entries)) return;
  const root = cacheRoot(cmd);
  const actions = builds.flatMap((b) => b.entries!.actions);
  const blobs = [...new Set(builds.flatMap((b) => b.entries!.blobs))];
  const present = (kind: 'action' | 'blob') => (name: string) => fileState(entryPath(root, kind, name)) !== undefined;
  if (!actions.every(present('action')) || !blobs.every(present('blob'))) return;
  const written = statAll(builds.flatMap((b) => b.entries!.files));
  if (!written) return;
  const stamp: Stamp = {
    format: FORMAT,
    material: where.material,
    pipelines: builds.map((b) => ({ pipeline: b.pipeline, target: b.target, stages: b.stages })),
    read,
    written,
    actions,
    blobs,
  };
  try {
    const path = where.path;
    mkdirSync(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(stamp));
    renameSync(temp, path);
    pruneStamps(dirname(path));
  } catch {
    // Only a faster next build is lost.
  }
}

/** Stamps kept: one per command line in use; those of other Kilns and old commands go, oldest first. */
const MAX_STAMPS = 64;

function pruneStamps(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= MAX_STAMPS) return;
  const aged = names.map((n) => ({ path: join(dir, n), mtime: statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  aged.sort((a, b) => a.mtime - b.mtime);
  for (const f of aged.slice(0, aged.length - MAX_STAMPS)) rmSync(f.path, { force: true });
}

function readStamp(where: { path: string; material: string }): Stamp | undefined {
  try {
    const s = JSON.parse(readFileSync(where.path, 'utf8')) as Stamp;
    return s.format === FORMAT && s.material === where.material ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Answers `argv` from its stamp when everything is as it was: prints the cached stages and the
 * summary to stderr and returns true. False: run the command.
 */
export function replayUpToDate(argv: readonly string[]): boolean {
  const t0 = process.hrtime.bigint();
  const cmd = parseBuildCommand(argv);
  if (!cmd || otherSettings()) return false;
  const where = stampOf(cmd);
  const stamp = where ? readStamp(where) : undefined;
  if (!stamp || !stamp.read.every(unchanged) || !stamp.written.every(unchanged)) return false;
  const root = cacheRoot(cmd);
  const entries = [
    ...stamp.actions.map((k) => entryPath(root, 'action', k)),
    ...stamp.blobs.map((h) => entryPath(root, 'blob', h)),
  ];
  // Each entry must be there; touching it finds out, and a hit is a use: the entries stay young for
  // gc, as a build reading them would leave them.
  const now = new Date();
  for (const e of entries) {
    try {
      utimesSync(e, now, now);
    } catch {
      return false; // gone: the full command finds out what
    }
  }
  const local = { cached: true, source: 'local', ms: 0 } as const;
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const lines = stamp.pipelines.flatMap((p) => [
    ...p.stages.map((s) => doneLine(p.pipeline, s, local)),
    `${summary({ ...p, totalMs, stages: p.stages.map(() => local) })} (up to date)`,
  ]);
  // Not process.stderr: setting up its stream costs more than this whole check.
  writeSync(2, `${lines.join('\n')}\n`);
  writeBuildRecord(
    root,
    buildRecord(
      stamp.pipelines.map((p) => ({ pipeline: p.pipeline, stages: p.stages.map((name) => ({ name, source: 'local' })) })),
    ),
  );
  return true;
}
