/**
 * A client of the Bazel HTTP remote-cache protocol: `GET/HEAD/PUT <base>/ac/<key>`
 * for action entries and `<base>/cas/<sha256>` for blobs, so any server that
 * speaks it works (nginx with WebDAV, bazel-remote, a bucket behind a proxy).
 * Names are checked here, once, as 64 hex digits: nothing else reaches a URL.
 *
 * Every failure is a `RemoteFailure` saying what went wrong in words: the server
 * unreachable, silent past the timeout (an idle timeout: a large upload that
 * keeps moving does not time out), or answering with an unexpected status.
 */
import http from 'node:http';
import https from 'node:https';
import type { EntryKind } from './store.ts';
import { assertSha256Hex, ENTRY_DIRS } from './layout.ts';

export type FailureKind = 'unreachable' | 'timeout' | 'status';

export class RemoteFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** The HTTP status, for `status` failures. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RemoteFailure';
  }
}

export interface HttpCacheOptions {
  /** Seconds without progress (connecting, sending or receiving) after which a request fails. */
  readonly timeoutMs: number;
}

export class BazelHttpCache {
  private readonly base: URL;
  private readonly agent: http.Agent;
  /** The URL as warnings show it: without a password. */
  readonly label: string;

  constructor(
    url: string,
    private readonly options: HttpCacheOptions,
  ) {
    this.base = parseRemoteUrl(url);
    const secure = this.base.protocol === 'https:';
    this.agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 8 });
    this.label = redact(this.base);
  }

  /** The bytes under a name, or undefined when the server does not have them (404). */
  async get(kind: EntryKind, name: string): Promise<Uint8Array | undefined> {
    const r = await this.request('GET', kind, name);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw statusFailure('GET', kind, name, r.status);
    return r.body;
  }

  async has(kind: EntryKind, name: string): Promise<boolean> {
    const r = await this.request('HEAD', kind, name);
    if (r.status === 404) return false;
    if (r.status >= 200 && r.status < 300) return true;
    throw statusFailure('HEAD', kind, name, r.status);
  }

  async put(kind: EntryKind, name: string, bytes: Uint8Array): Promise<void> {
    const r = await this.request('PUT', kind, name, bytes);
    if (r.status < 200 || r.status >= 300) throw statusFailure('PUT', kind, name, r.status);
  }

  /** Closes idle connections (they would otherwise keep a process alive). */
  close(): void {
    this.agent.destroy();
  }

  private request(
    method: 'GET' | 'HEAD' | 'PUT',
    kind: EntryKind,
    name: string,
    body?: Uint8Array,
  ): Promise<{ status: number; body: Uint8Array }> {
    assertSha256Hex(name, kind === 'action' ? 'action key' : 'blob hash');
    const url = new URL(`${ENTRY_DIRS[kind]}/${name}`, this.base);
    const what = `${method} ${ENTRY_DIRS[kind]}/${name.slice(0, 12)}`;
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, {
        method,
        agent: this.agent,
        timeout: this.options.timeoutMs,
        headers:
          body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) },
      });
      let settled = false;
      const fail = (failure: RemoteFailure): void => {
        if (settled) return;
        settled = true;
        reject(failure);
      };
      req.on('timeout', () => {
        const s = this.options.timeoutMs / 1000;
        fail(new RemoteFailure('timeout', `${what}: no answer for ${s} s (timeout)`));
        req.destroy();
      });
      req.on('error', (e) => fail(new RemoteFailure('unreachable', `${what}: ${networkReason(e)}`)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(new RemoteFailure('unreachable', `${what}: ${networkReason(e)}`)));
        res.on('aborted', () => fail(new RemoteFailure('unreachable', `${what}: the connection closed mid-answer`)));
        res.on('end', () => {
          if (settled) return;
          const bytes = Buffer.concat(chunks);
          const declared = res.headers['content-length'];
          if (method !== 'HEAD' && !res.complete) {
            fail(new RemoteFailure('unreachable', `${what}: the connection closed mid-answer`));
            return;
          }
          if (method === 'GET' && declared !== undefined && Number(declared) !== bytes.byteLength) {
            fail(new RemoteFailure('unreachable', `${what}: got ${bytes.byteLength} of ${declared} bytes`));
            return;
          }
          settled = true;
          resolve({ status: res.statusCode ?? 0, body: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
        });
      });
      req.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }
}

/** An http(s) URL, as a base that ends with `/`; anything else is the user's mistake. */
export function parseRemoteUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`remote cache URL ${JSON.stringify(url)} is not a URL; expected e.g. http://cache.example:8080/kiln`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`remote cache URL ${JSON.stringify(redact(parsed))} must start with http:// or https://`);
  if (parsed.search || parsed.hash)
    throw new Error(`remote cache URL ${JSON.stringify(redact(parsed))} must not have a query or fragment`);
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
  return parsed;
}

function redact(url: URL): string {
  const shown = new URL(url.href);
  if (shown.password) shown.password = '***';
  return shown.href;
}

function statusFailure(method: string, kind: EntryKind, name: string, status: number): RemoteFailure {
  const words = http.STATUS_CODES[status] ?? 'unexpected status';
  return new RemoteFailure('status', `${method} ${ENTRY_DIRS[kind]}/${name.slice(0, 12)}: ${status} ${words}`, status);
}

function networkReason(e: Error): string {
  const code = (e as { code?: unknown }).code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running?)',
    ECONNRESET: 'the connection was reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ETIMEDOUT: 'connecting timed out',
    EPIPE: 'the connection closed mid-request',
  };
  return typeof code === 'string' && words[code] ? `${words[code]} (${code})` : e.message;
}
