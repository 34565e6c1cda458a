/**
 * A real remote cache for tests: Debian's nginx (nginx-light has the WebDAV module)
 * serving a scratch directory on a loopback port, and a proxy in front of it that
 * misbehaves on demand: answers 500, hangs, corrupts what it serves, truncates what
 * it stores, or stops the server mid-build.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

export interface DavServer {
  readonly url: string;
  readonly port: number;
  /** The directory the server stores entries in (`ac/`, `cas/` under the URL's path). */
  readonly data: string;
  /** Relative paths of every file stored, sorted. */
  files(): string[];
  /** Stops the server; its files stay until `remove`. */
  stop(): Promise<void>;
  /** Stops the server and deletes its files. */
  remove(): Promise<void>;
}

/** Starts nginx with WebDAV PUT on a free loopback port; `prefix` is the URL path the cache lives under. */
export async function startNginxDav(prefix = 'kiln'): Promise<DavServer> {
  if (!NGINX) throw new Error('nginx is not installed (Debian: apt-get install nginx-light)');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nginx-'));
  const data = join(dir, 'data');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  mkdirSync(data, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(dir, data, port));
    const child = spawn(NGINX, ['-c', conf, '-p', dir, '-e', join(dir, 'error.log')], { stdio: 'ignore' });
    const up = await waitForPort(port, child);
    if (up) {
      const stop = once(async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGKILL');
          await exited;
        }
      });
      return {
        url: `http://127.0.0.1:${port}/${prefix}`,
        port,
        data,
        files: () => listFiles(data),
        stop,
        remove: async () => {
          await stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    if (attempt === 3) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start: ${log}`);
    }
  }
}

function nginxConfig(dir: string, data: string, port: number): string {
  const asRoot = process.getuid?.() === 0;
  return `daemon off;
master_process off;
${asRoot ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')};
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'tmp')};
  proxy_temp_path ${join(dir, 'tmp')};
  fastcgi_temp_path ${join(dir, 'tmp')};
  uwsgi_temp_path ${join(dir, 'tmp')};
  scgi_temp_path ${join(dir, 'tmp')};
  server {
    listen 127.0.0.1:${port};
    root ${data};
    location / {
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 0;
    }
  }
}
`;
}

export type Fault =
  | { readonly kind: 'none' }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'hang' }
  /** Flips a byte of each answer to a GET (matching `match`, when given). */
  | { readonly kind: 'corrupt-downloads'; readonly match?: RegExp }
  | { readonly kind: 'truncate-uploads' }
  /** Stops the server (and the proxy) when the first request matching `at` arrives. */
  | { readonly kind: 'stop'; readonly at: RegExp };

export interface FaultyProxy {
  readonly url: string;
  /** `METHOD path` of every request, in order. */
  readonly requests: string[];
  fault: Fault;
  close(): Promise<void>;
}

/** A proxy in front of `server` that applies `fault` to each request. */
export async function startFaultyProxy(server: DavServer, prefix = 'kiln'): Promise<FaultyProxy> {
  const requests: string[] = [];
  const hanging = new Set<http.ServerResponse>();
  const proxy: FaultyProxy = {
    url: '',
    requests,
    fault: { kind: 'none' },
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((r) => listener.close(() => r()));
      listener.closeAllConnections();
    },
  };
  const listener = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const line = `${req.method} ${req.url}`;
      requests.push(line);
      const fault = proxy.fault;
      let body = Buffer.concat(chunks);
      if (fault.kind === 'status') return void res.writeHead(fault.status).end('server error\n');
      if (fault.kind === 'hang') return void hanging.add(res);
      if (fault.kind === 'stop' && fault.at.test(line)) {
        void server.stop().then(() => {
          res.destroy();
          listener.close();
          listener.closeAllConnections();
        });
        return;
      }
      if (fault.kind === 'truncate-uploads' && req.method === 'PUT') body = body.subarray(0, Math.floor(body.length / 2));
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${server.port}`, 'content-length': String(body.length) },
        },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const answer = Buffer.concat(parts);
            const corrupt = fault.kind === 'corrupt-downloads' && req.method === 'GET' && (fault.match?.test(line) ?? true);
            if (corrupt && answer.length > 0) answer[answer.length >> 1]! ^= 0x5a;
            const headers = { ...up.headers };
            res.writeHead(up.statusCode ?? 502, headers).end(req.method === 'HEAD' ? undefined : answer);
          });
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const port = (listener.address() as net.AddressInfo).port;
  return Object.assign(proxy, { url: `http://127.0.0.1:${port}/${prefix}` });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function listFiles(root: string, rel = ''): string[] {
  if (!existsSync(join(root, rel))) return [];
  return readdirSync(join(root, rel), { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? listFiles(root, join(rel, d.name)) : [join(rel, d.name)]))
    .sort();
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** Whether nginx can actually run here (installed, and not refused by the sandbox). */
export function nginxWorks(): boolean {
  if (!NGINX) return false;
  return spawnSync(NGINX, ['-v'], { stdio: 'ignore' }).status === 0;
}

/**
 * Problems with what the server holds: a blob that does not hash to its name, an action
 * entry that does not parse or refers to a blob the server lacks. Empty when consistent.
 */
export function inconsistencies(server: DavServer): string[] {
  const files = server.files();
  const blobs = new Set(files.filter((f) => f.includes('/cas/')).map((f) => f.slice(-64)));
  const problems: string[] = [];
  for (const f of files) {
    const bytes = readFileSync(join(server.data, f));
    if (f.includes('/cas/')) {
      if (createHash('sha256').update(bytes).digest('hex') !== f.slice(-64)) problems.push(`${f}: wrong hash`);
      continue;
    }
    let entry: {
      payload?: {
        key?: string;
        payload?: { module: string; blobs: string[]; files: { hash: string; parts?: { hash: string }[] }[] };
      };
    };
    try {
      entry = JSON.parse(bytes.toString('utf8')) as typeof entry;
    } catch {
      problems.push(`${f}: not JSON`);
      continue;
    }
    const p = entry.payload?.payload;
    if (entry.payload?.key !== f.slice(-64) || !p) {
      problems.push(`${f}: not an entry of its key`);
      continue;
    }
    // A file of parts is named by its recipe's digest: the blobs it needs are its parts.
    for (const h of [p.module, ...p.blobs, ...p.files.flatMap((x) => (x.parts ? x.parts.map((y) => y.hash) : [x.hash]))])
      if (!blobs.has(h)) problems.push(`${f}: refers to missing blob ${h}`);
  }
  return problems;
}
