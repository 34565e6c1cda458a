/**
 * The local store backed by a shared remote one (the Bazel HTTP cache protocol):
 * CI machines reuse each other's stage results.
 *
 * - Local first: a local hit never touches the network. A remote hit is copied
 *   into the local store (each blob as it is asked for), so the next build is local.
 * - Reads verify: a blob must hash to its name, an action entry must carry its own
 *   key and the hash of its payload. Anything else is a warning and a miss.
 * - Uploads are ordered: an action entry goes up only after every blob it refers to
 *   is on the server (checked with HEAD, uploaded when missing), so a reader never
 *   finds an entry pointing at missing data. A failed blob upload drops the entry.
 * - Failure degrades to local: the first time the server is unreachable, silent past
 *   the timeout or answers with a server error, the store warns and leaves it alone for
 *   a minute (a build goes on locally; a long watch session tries again later). A
 *   refused upload (4xx) stops uploads only.
 * - Read-only (untrusted builds, pull requests): nothing is ever written remotely.
 */
import { sha256Hex } from '../support/hash.ts';
import type { StreamedBytes } from '../support/streamed-bytes.ts';
import { decodeActionEntry, encodeActionEntry } from './action-entry.ts';
import { describeError } from './fs-util.ts';
import { entryLabel } from './layout.ts';
import { BazelHttpCache, RemoteFailure } from './remote-http.ts';
import type { ActionOrigin, CacheStats, CacheStore, EntryKind, GcResult } from './store.ts';

export interface RemoteCacheOptions {
  /** The server's base URL: entries live at `<url>/ac/<key>` and `<url>/cas/<sha256>`. */
  readonly url: string;
  /** Read from the server, never write to it. */
  readonly readOnly?: boolean;
  /** Milliseconds without progress after which a request fails (default 10 s). */
  readonly timeoutMs?: number;
  /** Receives each warning; defaults to `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
  /** After a failure, how long the server is left alone (default a minute). */
  readonly retryAfterMs?: number;
}

/** What the remote store did, for `kiln cache stats` and reports. */
export interface RemoteActivity {
  readonly url: string;
  readonly readOnly: boolean;
  /** Action entries found on the server / asked for and not there. */
  hits: number;
  misses: number;
  downloads: { count: number; bytes: number };
  uploads: { count: number; bytes: number };
  /** Entries the server had but that failed verification. */
  corrupt: number;
  /** Why the server stopped being used in this build, if it did. */
  disabled?: string;
  warnings: string[];
}

export const DEFAULT_REMOTE_TIMEOUT_MS = 10_000;
/** After a failure the server is left alone this long: the rest of a build, and a while of a watch session. */
const RETRY_AFTER_MS = 60_000;

/** Wraps `local` with a remote cache; the result is a CacheStore the engine uses as any other. */
export function withRemoteCache(local: CacheStore, options: RemoteCacheOptions): RemoteBackedStore {
  return new RemoteBackedStore(local, options);
}

export class RemoteBackedStore implements CacheStore {
  readonly activity: RemoteActivity;
  private readonly http: BazelHttpCache;
  private readonly warn: (message: string) => void;
  /** When the server failed: no requests to it until then plus RETRY_AFTER_MS (a long `kiln watch` tries again). */
  private failedAt: number | undefined;
  private uploadsOff: boolean;
  private readonly retryAfterMs: number;
  /** Blobs known to be on the server (downloaded, found with HEAD, or uploaded). */
  private readonly remoteBlobs = new Set<string>();
  /** Action keys whose entry came from the server. */
  private readonly remoteActions = new Set<string>();
  private readonly origins = new Map<string, ActionOrigin>();

  constructor(
    private readonly local: CacheStore,
    options: RemoteCacheOptions,
  ) {
    this.http = new BazelHttpCache(options.url, { timeoutMs: options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS });
    const sink = options.onWarning ?? ((message) => process.emitWarning(message, 'KilnCacheWarning'));
    this.activity = {
      url: this.http.label,
      readOnly: Boolean(options.readOnly),
      hits: 0,
      misses: 0,
      downloads: { count: 0, bytes: 0 },
      uploads: { count: 0, bytes: 0 },
      corrupt: 0,
      warnings: [],
    };
    this.warn = (message) => {
      this.activity.warnings.push(message);
      sink(message);
    };
    this.uploadsOff = Boolean(options.readOnly);
    this.retryAfterMs = options.retryAfterMs ?? RETRY_AFTER_MS;
  }

  get root(): string {
    return this.local.root;
  }

  actionOrigin(key: string): ActionOrigin | undefined {
    return this.origins.get(key);
  }

  async getAction(key: string): Promise<unknown> {
    const payload = await this.local.getAction(key);
    if (payload !== undefined) {
      this.origins.set(key, 'local');
      return payload;
    }
    const bytes = await this.remote((h) => h.get('action', key));
    if (bytes === undefined) {
      if (!this.off) this.activity.misses++;
      return undefined;
    }
    const entry = decodeRemoteAction(key, bytes);
    if (!entry.ok) {
      this.corrupt('action', key, entry.reason);
      return undefined;
    }
    this.activity.hits++;
    this.remoteActions.add(key);
    this.origins.set(key, 'remote');
    return entry.payload;
  }

  /**
   * Stores locally, then (unless read-only) on the server: first each blob in `refs` the
   * server lacks, then the entry. Without `refs` the entry is not uploaded, since what it
   * needs is unknown. An entry that came from the server is only stored locally.
   */
  async putAction(key: string, payload: unknown, refs?: readonly string[]): Promise<void> {
    await this.local.putAction(key, payload, refs);
    if (refs === undefined || this.uploadsOff || this.off || this.remoteActions.has(key)) return;
    for (const hash of refs) if (!(await this.uploadBlob(hash))) return;
    const body = new TextEncoder().encode(encodeActionEntry({ key, payload }));
    if (await this.upload(() => this.http.put('action', key, body))) {
      this.count(this.activity.uploads, body.byteLength);
      this.remoteActions.add(key);
    }
  }

  /** Present locally, or fetched from the server (verified) into the local store. */
  async hasBlob(hash: string): Promise<boolean> {
    if (await this.local.hasBlob(hash)) return true;
    return (await this.fetchBlob(hash)) !== undefined;
  }

  async readBlob(hash: string): Promise<Uint8Array | undefined> {
    return (await this.local.readBlob(hash)) ?? (await this.fetchBlob(hash));
  }

  /** Local only: a lazy weight read cannot wait for the network (`hasBlob` fetched it on the hit). */
  readBlobSync(hash: string): Uint8Array | undefined {
    return this.local.readBlobSync(hash);
  }

  /** Local: the server receives blobs with the entry that needs them (`putAction`). */
  writeBlob(bytes: Uint8Array, hash?: string): Promise<string>;
  writeBlob(bytes: StreamedBytes, hash: string): Promise<string>;
  writeBlob(bytes: Uint8Array | StreamedBytes, hash?: string): Promise<string> {
    return bytes instanceof Uint8Array ? this.local.writeBlob(bytes, hash) : this.local.writeBlob(bytes, hash!);
  }

  /** Local, as writeBlob. */
  writeBlobFromFile(path: string, hash: string): Promise<void> {
    return this.local.writeBlobFromFile(path, hash);
  }

  stats(): Promise<CacheStats> {
    return this.local.stats();
  }

  gc(maxBytes: number): Promise<GcResult> {
    return this.local.gc(maxBytes);
  }

  clear(): Promise<void> {
    return this.local.clear();
  }

  close(): void {
    this.http.close();
  }

  private async fetchBlob(hash: string): Promise<Uint8Array | undefined> {
    const bytes = await this.remote((h) => h.get('blob', hash));
    if (bytes === undefined) return undefined;
    const actual = sha256Hex(bytes);
    if (actual !== hash) {
      this.corrupt('blob', hash, `its ${bytes.byteLength} bytes hash to ${actual}`);
      return undefined;
    }
    this.count(this.activity.downloads, bytes.byteLength);
    this.remoteBlobs.add(hash);
    await this.local.writeBlob(bytes);
    return bytes;
  }

  /** Makes sure the server has a local blob; false when it could not be (the entry must not go up). */
  private async uploadBlob(hash: string): Promise<boolean> {
    if (this.remoteBlobs.has(hash)) return true;
    const present = await this.remote((h) => h.has('blob', hash));
    if (present === undefined) return false;
    if (!present) {
      const bytes = await this.local.readBlob(hash);
      if (bytes === undefined) return false;
      if (!(await this.upload(() => this.http.put('blob', hash, bytes)))) return false;
      this.count(this.activity.uploads, bytes.byteLength);
    }
    this.remoteBlobs.add(hash);
    return true;
  }

  /** A request to the server; undefined when it failed (and the store stopped using the server). */
  private async remote<T>(request: (h: BazelHttpCache) => Promise<T>): Promise<T | undefined> {
    if (this.off) return undefined;
    try {
      return await request(this.http);
    } catch (e) {
      this.disable(e);
      return undefined;
    }
  }

  /** An upload; a refusal (4xx) stops uploads, anything worse stops the server's use. */
  private async upload(request: () => Promise<void>): Promise<boolean> {
    if (this.off || this.uploadsOff) return false;
    try {
      await request();
      return true;
    } catch (e) {
      if (e instanceof RemoteFailure && e.kind === 'status' && e.status !== undefined && e.status < 500) {
        this.uploadsOff = true;
        this.warn(
          `remote cache ${this.http.label} refused an upload (${e.message}); not uploading to it in this build (reads go on)`,
        );
        return false;
      }
      this.disable(e);
      return false;
    }
  }

  /** Whether the server failed lately: it is left alone for a while. */
  private get off(): boolean {
    if (this.failedAt === undefined) return false;
    if (performance.now() - this.failedAt < this.retryAfterMs) return true;
    this.failedAt = undefined;
    return false;
  }

  private disable(e: unknown): void {
    if (this.off) return;
    this.failedAt = performance.now();
    const reason = e instanceof RemoteFailure ? e.message : describeError(e);
    this.activity.disabled = reason;
    this.warn(`remote cache ${this.http.label} failed: ${reason}; building with the local cache only`);
  }

  private corrupt(kind: EntryKind, name: string, reason: string): void {
    this.activity.corrupt++;
    const what = kind === 'action' ? 'action entry' : 'blob';
    this.warn(`remote cache ${this.http.label}: ${what} ${entryLabel(kind, name)} is corrupt (${reason}); ignored it`);
  }

  private count(c: { count: number; bytes: number }, bytes: number): void {
    c.count++;
    c.bytes += bytes;
  }
}

/**
 * A remote action entry is the local format around `{ key, payload }`: the recorded hash
 * catches a damaged or truncated entry, the key one served under another key's name.
 */
function decodeRemoteAction(key: string, bytes: Uint8Array): { ok: true; payload: unknown } | { ok: false; reason: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, reason: 'not UTF-8 text' };
  }
  const decoded = decodeActionEntry(text);
  if (!decoded.ok) return decoded;
  const inner = decoded.payload as { key?: unknown; payload?: unknown } | null;
  if (typeof inner !== 'object' || inner === null || !('payload' in inner))
    return { ok: false, reason: 'not a Kiln action entry' };
  if (inner.key !== key) return { ok: false, reason: `it is the entry of key ${String(inner.key).slice(0, 80)}` };
  return { ok: true, payload: inner.payload };
}
