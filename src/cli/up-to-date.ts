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
 * (another option, a remote cache, a project config, a report to write, a terminal's live
 * progress is not needed for this) goes the ordinary way, which then records a new stamp.
 *
 * This module is loaded by the command's entry before anything else: Node built-ins only.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  readonly format: 1;
  readonly pipelines: readonly { readonly pipeline: string; readonly target: string; readonly stages: readonly string[] }[];
  readonly read: readonly FileState[];
  readonly written: readonly FileState[];
  readonly actions: readonly string[];
  readonly blobs: readonly string[];
}

const FORMAT = 1;

/** Set on globalThis once a process ran the check (bin/kiln.js, through dist/up-to-date.mjs), so the CLI's entry does not run it again. */
export const UP_TO_DATE_CHECKED = Symbol.for('kiln.upToDateChecked');

/** Kiln's own identity, set by the bundled command's entry; none when running from the sources. */
let identity: string | undefined;

/**
 * Names the Kiln that runs: the content of the bundled entry (`dist/kiln.mjs`), which names its
 * chunks by the hashes of their contents (and so, through their imports, of everything bundled),
 * and the Node running it. Only the bundled command calls this: from the sources (tsx, vitest),
 * which change without a build, there is no stamp.
 */
export function identifyKiln(entryUrl: string): void {
  identity = undefined;
  if (!entryUrl.endsWith('.mjs')) return;
  try {
    const entry = readFileSync(fileURLToPath(entryUrl));
    identity = createHash('sha256').update(entry).update(`\0${process.execPath}\0${process.version}`).digest('hex');
  } catch {
    // unreadable: no stamps
  }
}

/** The cache directory a build without a project config uses: flag, then KILN_CACHE_DIR, then the default. */
function cacheRoot(cmd: BuildCommand): string {
  return resolve(cmd.cacheDir ?? '.kiln/cache');
}

function stampPath(cmd: BuildCommand): string | undefined {
  if (identity === undefined) return undefined;
  const root = cacheRoot(cmd);
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        FORMAT,
        identity,
        process.cwd(),
        cmd.files.map((f) => resolve(f)),
        root,
        cmd.target ?? null,
        cmd.set,
        cmd.verify,
      ]),
    )
    .digest('hex');
  return join(root, UP_TO_DATE_DIR, `${key}.json`);
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
  const path = stampPath(cmd);
  if (!path || !read || otherSettings() || builds.some((b) => !b.entries)) return;
  const root = cacheRoot(cmd);
  const actions = builds.flatMap((b) => b.entries!.actions);
  const blobs = [...new Set(builds.flatMap((b) => b.entries!.blobs))];
  const present = (kind: 'action' | 'blob') => (name: string) => fileState(entryPath(root, kind, name)) !== undefined;
  if (!actions.every(present('action')) || !blobs.every(present('blob'))) return;
  const written = statAll(builds.flatMap((b) => b.entries!.files));
  if (!written) return;
  const stamp: Stamp = {
    format: FORMAT,
    pipelines: builds.map((b) => ({ pipeline: b.pipeline, target: b.target, stages: b.stages })),
    read,
    written,
    actions,
    blobs,
  };
  try {
    mkdirSync(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(stamp));
    renameSync(temp, path);
  } catch {
    // Only a faster next build is lost.
  }
}

function readStamp(path: string): Stamp | undefined {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as Stamp;
    return s.format === FORMAT ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Answers `argv` from its stamp when everything is as it was: prints the cached stages and the
 * summary to stderr and returns true. False: run the command.
 */
export async function replayUpToDate(argv: readonly string[]): Promise<boolean> {
  const t0 = performance.now();
  const cmd = parseBuildCommand(argv);
  if (!cmd || otherSettings()) return false;
  const path = stampPath(cmd);
  const stamp = path ? readStamp(path) : undefined;
  if (!stamp || !stamp.read.every(unchanged) || !stamp.written.every(unchanged)) return false;
  const root = cacheRoot(cmd);
  const entries = [
    ...stamp.actions.map((k) => entryPath(root, 'action', k)),
    ...stamp.blobs.map((h) => entryPath(root, 'blob', h)),
  ];
  if (!entries.every((e) => fileState(e) !== undefined)) return false;
  // A hit is a use: the entries stay young for gc, as a build reading them would leave them.
  const now = new Date();
  for (const e of entries) {
    try {
      utimesSync(e, now, now);
    } catch {
      return false; // gone since: the full command finds out what
    }
  }
  const local = { cached: true, source: 'local', ms: 0 } as const;
  const totalMs = performance.now() - t0;
  const lines = stamp.pipelines.flatMap((p) => [
    ...p.stages.map((s) => doneLine(p.pipeline, s, local)),
    `${summary({ ...p, totalMs, stages: p.stages.map(() => local) })} (up to date)`,
  ]);
  process.stderr.write(`${lines.join('\n')}\n`);
  await writeBuildRecord(
    root,
    buildRecord(
      stamp.pipelines.map((p) => ({ pipeline: p.pipeline, stages: p.stages.map((name) => ({ name, source: 'local' })) })),
    ),
  );
  return true;
}
