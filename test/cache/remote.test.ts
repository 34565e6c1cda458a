/**
 * The remote cache against a real server: nginx with WebDAV on a loopback port, and a
 * proxy in front of it that fails in the ways servers fail. Each "machine" is a fresh
 * checkout with its own local cache; the vision pipeline is built through the CLI.
 * Whatever the server does, the build succeeds and its artifacts equal a build with no
 * cache at all, byte for byte; what went wrong is a warning.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadProjectConfig } from '../../src/cli/project-config.ts';
import { openLocalStore, withRemoteCache } from '../../src/cache/index.ts';
import { isKilnError } from '../../src/support/diagnostics.ts';
import {
  type DavServer,
  type FaultyProxy,
  inconsistencies,
  nginxWorks,
  startFaultyProxy,
  startNginxDav,
} from '../helpers/remote-cache-server.ts';
import { REPO, type Workspace, workspace } from '../helpers/workspace.ts';

const HAVE_NGINX = nginxWorks();
const KEY = 'c0'.repeat(32);
if (!HAVE_NGINX && process.env.CI) throw new Error('CI must run the remote cache tests: nginx-light is not installed');

/** The vision vertical's model and front stages, for the js target (quick to build, no binaryen). */
const PIPELINE = `name: vision
target: js
model:
  path: ${join(REPO, 'examples/models/tiny-resnet.onnx')}
  dynamic:
    N: { name: batch, upper: 64 }
stages:
  - import: {}
  - legalize: {}
  - codegen: { out: artifacts/vision }
`;

interface Built {
  readonly code: number;
  readonly err: string;
  readonly sources: string[];
  readonly artifacts: Record<string, string>;
}

const machines: Workspace[] = [];
const machine = (): Workspace => {
  const ws = workspace({ 'vision.yaml': PIPELINE });
  machines.push(ws);
  return ws;
};

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

async function build(m: Workspace, ...flags: string[]): Promise<Built> {
  const r = await kiln(
    'build',
    m.path('vision.yaml'),
    '--cache-dir',
    m.path('cache'),
    '--report',
    m.path('report.json'),
    ...flags,
  );
  if (r.code !== 0) return { code: r.code, err: r.err, sources: [], artifacts: {} };
  const report = JSON.parse(m.read('report.json')) as { stages: { source: string }[] };
  return { code: r.code, err: r.err, sources: report.stages.map((s) => s.source), artifacts: artifactsOf(m) };
}

/** Every file of the artifact, as a hash of its bytes. */
function artifactsOf(m: Workspace): Record<string, string> {
  const dir = m.path('artifacts/vision');
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return Object.fromEntries(
    files
      .map((e) => join(e.parentPath, e.name))
      .sort()
      .map((p) => [relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex')]),
  );
}

describe.skipIf(!HAVE_NGINX)('the remote cache (nginx WebDAV)', () => {
  let reference: Record<string, string>;
  let server: DavServer;
  let proxy: FaultyProxy;

  beforeAll(async () => {
    const r = await build(machine(), '--no-cache');
    expect(r.code, r.err).toBe(0);
    reference = r.artifacts;
    expect(Object.keys(reference)).toContain('manifest.json');
  });
  beforeEach(async () => {
    server = await startNginxDav();
    proxy = await startFaultyProxy(server);
  });
  afterEach(async () => {
    await proxy.close();
    await server.remove();
  });
  afterAll(() => {
    for (const m of machines.splice(0)) m.remove();
  });

  const cas = () => server.files().filter((f) => f.startsWith('kiln/cas/'));
  const ac = () => server.files().filter((f) => f.startsWith('kiln/ac/'));

  test('a second clean machine is all remote hits, with byte-identical artifacts; then all local, no requests', async () => {
    const first = await build(machine(), '--remote-cache', proxy.url);
    expect(first.code, first.err).toBe(0);
    expect(first.sources).toEqual(['built', 'built', 'built']);
    expect(first.artifacts).toEqual(reference);
    expect(ac()).toHaveLength(3);
    expect(cas().length).toBeGreaterThan(3);
    expect(inconsistencies(server)).toEqual([]);

    const b = machine();
    proxy.requests.length = 0;
    const second = await build(b, '--remote-cache', proxy.url);
    expect(second.code, second.err).toBe(0);
    expect(second.err).not.toMatch(/warning/);
    expect(second.sources).toEqual(['remote', 'remote', 'remote']);
    expect(second.err).toContain('0 ran, 3 cached (3 remote)');
    expect(second.artifacts).toEqual(reference);
    expect(proxy.requests.filter((r) => r.startsWith('PUT'))).toEqual([]);

    const stats = await kiln('cache', 'stats', '--cache-dir', b.path('cache'));
    expect(stats.out).toContain('remote         3 hits, 0 misses');
    expect(stats.out).toMatch(/local {10}0 hits, 3 misses/);
    expect(stats.out).toContain('vision: import remote, legalize remote, codegen remote');

    proxy.requests.length = 0;
    const third = await build(b, '--remote-cache', proxy.url);
    expect(third.sources).toEqual(['local', 'local', 'local']);
    expect(proxy.requests).toEqual([]);
    expect((await kiln('cache', 'stats', '--cache-dir', b.path('cache'))).out).toMatch(/local {10}3 hits, 0 misses/);
  });

  test('read-only: uploads nothing, and still reads what others uploaded', async () => {
    const ro = await build(machine(), '--remote-cache', proxy.url, '--remote-cache-read-only');
    expect(ro.code, ro.err).toBe(0);
    expect(ro.artifacts).toEqual(reference);
    expect(proxy.requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
    expect(server.files()).toEqual([]);

    expect((await build(machine(), '--remote-cache', proxy.url)).code).toBe(0);
    proxy.requests.length = 0;
    const reader = await build(machine(), '--remote-cache', proxy.url, '--remote-cache-read-only');
    expect(reader.sources).toEqual(['remote', 'remote', 'remote']);
    expect(reader.artifacts).toEqual(reference);
    expect(proxy.requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
  });

  test('the environment configures it as the flags do', async () => {
    const saved = { ...process.env };
    try {
      process.env.KILN_REMOTE_CACHE = proxy.url;
      process.env.KILN_REMOTE_CACHE_READ_ONLY = '1';
      const r = await build(machine());
      expect(r.code, r.err).toBe(0);
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(proxy.requests.filter((q) => q.startsWith('PUT'))).toEqual([]);
      // `false` means false (a CI job sets it from a condition).
      process.env.KILN_REMOTE_CACHE_READ_ONLY = 'false';
      expect((await build(machine())).code).toBe(0);
      expect(proxy.requests.filter((q) => q.startsWith('PUT')).length).toBeGreaterThan(0);
    } finally {
      process.env = saved;
    }
  });

  test('a server answering 500: a warning, a local build, and no more requests after the first', async () => {
    proxy.fault = { kind: 'status', status: 500 };
    const r = await build(machine(), '--remote-cache', proxy.url);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`warning K6201: remote cache ${proxy.url}/ failed: GET ac/`);
    expect(r.err).toContain('500 Internal Server Error; building with the local cache only');
    expect(r.sources).toEqual(['built', 'built', 'built']);
    expect(r.artifacts).toEqual(reference);
    expect(proxy.requests).toHaveLength(1);
  });

  test('after a failure the server is left alone for a while, then asked again', async () => {
    const warnings: string[] = [];
    const store = withRemoteCache(openLocalStore(machine().path('cache')), {
      url: proxy.url,
      retryAfterMs: 1500,
      onWarning: (m) => warnings.push(m),
    });
    try {
      proxy.fault = { kind: 'status', status: 500 };
      expect(await store.getAction(KEY)).toBeUndefined();
      expect(await store.getAction(KEY)).toBeUndefined();
      expect(proxy.requests).toEqual([`GET /kiln/ac/${KEY}`]);
      expect(warnings).toHaveLength(1);
      proxy.fault = { kind: 'none' };
      await new Promise((r) => setTimeout(r, 1600));
      expect(await store.getAction(KEY)).toBeUndefined();
      expect(proxy.requests).toHaveLength(2);
      expect(store.activity.misses).toBe(1);
    } finally {
      store.close();
    }
  });

  test('a server that hangs past the timeout: a warning and a local build', async () => {
    proxy.fault = { kind: 'hang' };
    const r = await build(machine(), '--remote-cache', proxy.url, '--remote-cache-timeout', '0.3');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/remote cache .* failed: GET ac\/[0-9a-f]{12}: no answer for 0\.3 s \(timeout\)/);
    expect(r.artifacts).toEqual(reference);
  });

  test('a server that is not there: a warning and a local build', async () => {
    await proxy.close();
    const r = await build(machine(), '--remote-cache', proxy.url);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('connection refused (is the server running?) (ECONNREFUSED)');
    expect(r.artifacts).toEqual(reference);
  });

  test('a server stopped mid-build: a warning, a local build, and no entry on it without its blobs', async () => {
    // The server goes away when the first stage's entry is about to be uploaded, its blobs already up.
    proxy.fault = { kind: 'stop', at: /^PUT \/kiln\/ac\// };
    const r = await build(machine(), '--remote-cache', proxy.url);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/remote cache .* failed: PUT ac\/[0-9a-f]{12}: .*; building with the local cache only/);
    expect(r.err.match(/remote cache/g)).toHaveLength(1);
    expect(r.sources).toEqual(['built', 'built', 'built']);
    expect(r.artifacts).toEqual(reference);
    // The first stage's blobs made it; its entry did not, and nothing points at missing data.
    expect(cas().length).toBeGreaterThan(0);
    expect(ac()).toEqual([]);
    expect(inconsistencies(server)).toEqual([]);
  });

  test('a server serving corrupted blobs: each is caught by its digest, and the build is right', async () => {
    expect((await build(machine(), '--remote-cache', proxy.url)).code).toBe(0);
    proxy.fault = { kind: 'corrupt-downloads' };
    const r = await build(machine(), '--remote-cache', proxy.url);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/remote cache .*: action entry ac\/[0-9a-f]{2}\/[0-9a-f]{64} is corrupt \(.*\); ignored it/);
    expect(r.artifacts).toEqual(reference);
    expect(r.sources).toEqual(['built', 'built', 'built']);
  });

  test('a server serving corrupted blobs under intact entries: caught by their digests, the stages rebuilt', async () => {
    expect((await build(machine(), '--remote-cache', proxy.url)).code).toBe(0);
    proxy.fault = { kind: 'corrupt-downloads', match: /^GET \/kiln\/cas\// };
    const r = await build(machine(), '--remote-cache', proxy.url);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /remote cache .*: blob cas\/[0-9a-f]{2}\/[0-9a-f]{64} is corrupt \(its \d+ bytes hash to [0-9a-f]{64}\); ignored it/,
    );
    expect(r.err).not.toMatch(/action entry .* is corrupt/);
    expect(r.sources).toEqual(['built', 'built', 'built']);
    expect(r.artifacts).toEqual(reference);
  });

  test('a server that truncates uploads: the next machine detects every damaged entry and builds correctly', async () => {
    proxy.fault = { kind: 'truncate-uploads' };
    expect((await build(machine(), '--remote-cache', proxy.url)).code).toBe(0);
    expect(ac()).toHaveLength(3);
    proxy.fault = { kind: 'none' };
    const r = await build(machine(), '--remote-cache', proxy.url);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/remote cache .*: action entry ac\/.* is corrupt \(not valid JSON, truncated or damaged/);
    expect(r.sources).toEqual(['built', 'built', 'built']);
    expect(r.artifacts).toEqual(reference);
  });

  test('two builds uploading at once leave a consistent cache', async () => {
    const [a, b] = await Promise.all([
      build(machine(), '--remote-cache', proxy.url),
      build(machine(), '--remote-cache', proxy.url),
    ]);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    expect(a.artifacts).toEqual(reference);
    expect(b.artifacts).toEqual(reference);
    expect(ac()).toHaveLength(3);
    expect(inconsistencies(server)).toEqual([]);
    const c = await build(machine(), '--remote-cache', proxy.url);
    expect(c.err).not.toMatch(/warning/);
    expect(c.sources).toEqual(['remote', 'remote', 'remote']);
    expect(c.artifacts).toEqual(reference);
  });
});

describe('remote cache settings', () => {
  let ws: Workspace;
  beforeEach(() => {
    ws = workspace({ 'vision.yaml': PIPELINE });
  });
  afterEach(() => ws.remove());

  test('a URL that is not http(s) is a usage error before any work', async () => {
    const r = await kiln('build', ws.path('vision.yaml'), '--cache-dir', ws.path('cache'), '--remote-cache', 'ftp://x/y');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--remote-cache: remote cache URL "ftp://x/y" must start with http:// or https://');
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
    const t = await kiln(
      'build',
      ws.path('vision.yaml'),
      '--remote-cache',
      'http://127.0.0.1:9/',
      '--remote-cache-timeout',
      'soon',
    );
    expect(t.code).toBe(2);
    expect(t.err).toContain("--remote-cache-timeout: expected seconds (a positive number), got 'soon'");
  });

  test('the project config: its cache section is read, and a mistake is located', () => {
    ws.write('kiln.config.yaml', 'cache:\n  remote: http://cache.internal:8080/kiln\n  readOnly: true\n  timeout: 5\n');
    expect(loadProjectConfig(ws.dir).cache).toEqual({ remote: 'http://cache.internal:8080/kiln', readOnly: true, timeout: 5 });
    ws.write('kiln.config.yaml', 'cache:\n  remote: http://cache.internal:8080/kiln\n  readonly: true\n');
    let error: unknown;
    try {
      loadProjectConfig(ws.dir);
    } catch (e) {
      error = e;
    }
    expect(isKilnError(error)).toBe(true);
    const d = (error as { diagnostics: { message: string; location?: { line: number; column: number } }[] }).diagnostics[0]!;
    expect(d.message).toContain("'readonly'");
    expect(d.location).toMatchObject({ line: 3, column: 3 });
  });
});
