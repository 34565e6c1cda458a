/**
 * `kiln serve <pipeline> [--port P]`: builds and watches the pipeline (as `kiln watch`)
 * and serves a page that runs its artifact in the browser with kiln/runtime/browser,
 * on seeded random inputs (as `kiln run` makes them), and runs it again when a rebuild
 * finishes. Every answer carries the cross-origin-isolation headers, so the
 * WebAssembly kernels' threads (SharedArrayBuffer) work.
 *
 *   /                          the page
 *   /_kiln/runtime.mjs         the browser runtime, one ES module
 *   /_kiln/state               JSON: the version, the artifact's URL, entry and inputs, the last error
 *   /_kiln/events              server-sent events: `rebuilt` / `failed` after each rebuild
 *   /_kiln/artifact/<v>/...    the artifact's files (versioned URLs: a rebuild is never a cached file)
 *   /_kiln/inputs/<v>/<i>.npy  the inputs
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { resolvePipeline } from '../pipeline/resolve.ts';
import type { Manifest } from '../runtime/manifest.ts';
import { NDArray } from '../runtime/ndarray.ts';
import { writeNpy } from '../runtime/npy.ts';
import { KilnError } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';
import { addPipelineOptions, type PipelineOptions } from './build-commands.ts';
import { browserRuntime } from './browser-runtime.ts';
import { type CliIO, EXIT, reportError, Sources } from './io.ts';
import { makeInputs, parsePairs, pickEntry } from './run-command.ts';
import { servePage } from './serve-page.ts';
import { startWatch, type WatchHandle } from './watch-command.ts';

export interface ServeOptions extends PipelineOptions {
  readonly port?: string;
  readonly host?: string;
  readonly entry?: string;
  readonly shape?: string[];
  readonly seed?: string;
  /** Milliseconds to wait for more changes before rebuilding. */
  readonly debounce?: number;
}

export interface ServeHandle {
  /** The page's URL, once `ready`. */
  readonly url: string;
  /** Resolves once the first build is done and the server listens. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

interface Served {
  readonly dir: string;
  readonly name: string;
  readonly device: string;
  readonly entry: string;
  readonly inputs: readonly Uint8Array[];
}

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.wgsl': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export function startServe(file: string, opts: ServeOptions, io: CliIO): ServeHandle {
  const pipelineFile = resolve(file);
  let version = 0;
  let served: Served | undefined;
  let lastError: string | undefined;
  let log = '';
  const clients = new Set<http.ServerResponse>();
  const runtime = browserRuntime();
  runtime.catch(() => undefined);
  // Build output goes to the terminal as with `kiln watch`, and is kept for the page when a rebuild fails.
  const tee: CliIO = {
    stdout: io.stdout,
    stderr: (t) => {
      log = (log + t).slice(-8000);
      io.stderr(t);
    },
  };

  const notify = (event: 'rebuilt' | 'failed'): void => {
    for (const c of clients) c.write(`event: ${event}\ndata: ${version}\n\n`);
  };

  const onRebuild = async (ok: boolean): Promise<void> => {
    const text = log;
    log = '';
    if (ok) {
      try {
        served = await artifactOf(pipelineFile, opts, tee);
        lastError = undefined;
        version++;
        notify('rebuilt');
        return;
      } catch (e) {
        reportError(e, tee, new Sources());
        lastError = log || String(e);
        log = '';
      }
    } else {
      lastError = text.trim() || 'the build failed';
    }
    version++;
    notify('failed');
  };

  let rebuilt = Promise.resolve();
  const watch: WatchHandle = startWatch(
    [pipelineFile],
    {
      ...opts,
      ...(opts.debounce !== undefined ? { debounce: opts.debounce } : {}),
      onRebuild: (e) => {
        rebuilt = rebuilt.then(() => onRebuild(e.ok));
      },
    },
    tee,
  );

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { ...ISOLATION, 'content-type': 'text/plain' });
      res.end(`kiln serve: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    const send = (status: number, type: string, body: string | Uint8Array): void => {
      res.writeHead(status, { ...ISOLATION, 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'GET only\n');
    if (path === '/' || path === '/index.html') return send(200, TYPES['.html']!, servePage(served?.name ?? 'kiln'));
    if (path === '/_kiln/runtime.mjs') return send(200, TYPES['.mjs']!, await runtime);
    if (path === '/_kiln/state') {
      const artifact = served && {
        name: served.name,
        device: served.device,
        entry: served.entry,
        url: `/_kiln/artifact/${version}/`,
        inputs: served.inputs.map((_, i) => `/_kiln/inputs/${version}/${i}.npy`),
      };
      return send(200, TYPES['.json']!, JSON.stringify({ version, pipeline: pipelineFile, artifact, error: lastError }));
    }
    if (path === '/_kiln/events') {
      res.writeHead(200, { ...ISOLATION, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(': kiln serve\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    const input = /^\/_kiln\/inputs\/\d+\/(\d+)\.npy$/.exec(path);
    if (input && served?.inputs[Number(input[1])]) return send(200, 'application/octet-stream', served.inputs[Number(input[1])]!);
    const file = /^\/_kiln\/artifact\/\d+\/(.+)$/.exec(path);
    if (file && served) {
      const full = resolve(served.dir, file[1]!);
      const rel = relative(served.dir, full);
      if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..'))
        return send(403, 'text/plain', 'outside the artifact\n');
      if (existsSync(full) && statSync(full).isFile())
        return send(200, TYPES[extname(full)] ?? 'application/octet-stream', readFileSync(full));
    }
    send(404, 'text/plain', `not found: ${path}\n`);
  };

  let url = '';
  const ready = (async () => {
    await watch.ready;
    await rebuilt;
    const port = opts.port === undefined ? 5173 : Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new KilnError(diagnostic(M.cliUsage, { problem: `--port ${opts.port}: expected a port number (0-65535)` }), {
        input: true,
      });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(port, opts.host ?? '127.0.0.1', () => ok());
    });
    const address = server.address() as AddressInfo;
    url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/`;
  })();

  return {
    get url() {
      return url;
    },
    ready,
    close: async () => {
      for (const c of clients) c.end();
      await watch.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
    },
  };
}

/** The artifact the pipeline's last codegen stage writes, and inputs for its entry function. */
async function artifactOf(pipelineFile: string, opts: ServeOptions, io: CliIO): Promise<Served> {
  const r = await resolvePipeline(pipelineFile, { set: opts.set, ...(opts.target ? { target: opts.target } : {}) });
  const p = r.pipeline;
  if (!p) throw new KilnError(r.diagnostics);
  const codegen = [...p.stages].reverse().find((s) => s.def.id === 'codegen');
  if (!codegen)
    throw new KilnError(
      diagnostic(M.cliUsage, { problem: `${pipelineFile}: the pipeline has no codegen stage, so no artifact to serve` }),
    );
  const dir = resolve(codegen.dir, (codegen.options as { out: string }).out);
  const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as Manifest;
  const entry = pickEntry(manifest, opts.entry);
  const seed = Number(opts.seed ?? '0');
  const values = makeInputs(manifest.entries[entry]!, new Map(), parsePairs(opts.shape ?? [], '--shape'), seed, io);
  const inputs = values.map((v, i) => {
    if (!(v instanceof NDArray))
      throw new KilnError(
        diagnostic(M.cliUsage, { problem: `input ${i} of '${entry}' is not a tensor: kiln serve gives tensors only` }),
      );
    return writeNpy(v);
  });
  return { dir, name: manifest.name, device: manifest.target.device, entry, inputs };
}

export function registerServeCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  addPipelineOptions(
    program
      .command('serve')
      .argument('<pipeline>', 'a pipeline file')
      .description('build, watch, and serve a page that runs the artifact in the browser (reloaded on every rebuild)')
      .option('--port <port>', 'the port (0: any free one)', '5173')
      .option('--host <host>', 'the address to listen on', '127.0.0.1')
      .option('--entry <name>', 'the entry function (default: main, or the only one)')
      .option('--shape <name=d0,d1,...>', 'the shape of an input (repeatable)', (v: string, all: string[]) => [...all, v], [])
      .option('--seed <n>', 'seed of the random inputs', '0'),
  ).action(async (file: string, opts: ServeOptions) => {
    const handle = startServe(file, opts, io);
    try {
      await handle.ready;
    } catch (e) {
      await handle.close();
      return setExit(reportError(e, io, new Sources(), EXIT.failed));
    }
    io.stderr(`kiln serve: ${handle.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((done) => {
      const stop = (): void => {
        void handle.close().then(done);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    setExit(EXIT.ok);
  });
}
