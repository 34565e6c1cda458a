/**
 * kiln build end to end: reports, failures, emitted files, and the cache
 * under stress (corrupt entries, two builds at once, a build killed mid-stage).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { sha256Hex } from '../../src/support/hash.ts';
import { REPO, MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

const PIPELINE = `name: demo
target: js
model:
  path: model.kir
stages:
  - import: {}
  - name: cleanup
    passes: { passes: [simplify, dce] }
`;

let ws: Workspace;
beforeEach(() => {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'model.kir': MM_RELU });
});
afterEach(() => ws.remove());

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

interface Payload {
  readonly files: readonly { readonly path: string; readonly parts?: readonly { readonly hash: string }[] }[];
}

const cacheArgs = (): string[] => ['--cache-dir', ws.path('cache')];

function stage(ws: Workspace, name: string, body: string, extra = ''): void {
  ws.write(
    `stages/${name}.ts`,
    `import { z } from 'zod';
import { defineStage } from '${ws.importOf('src/stages/registry.ts', `stages/${name}.ts`)}';
${extra}
export default defineStage({
  id: '${name}',
  version: 1,
  description: 'a test stage',
  options: z.object({ text: z.string().default('hello') }).strict(),
  usesTarget: false,
  run: async (m, ctx) => { ${body} },
});
`,
  );
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('kiln build', () => {
  test('builds, then finds everything cached; --report writes what each stage did', async () => {
    const first = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/\[demo\] import: \d/);
    expect(first.err).toMatch(/built demo \(js\) in .*: 2 ran, 0 cached/);
    const second = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs(), '--report', ws.path('report.json'));
    expect(second.err).toContain('[demo] import: cached\n[demo] cleanup: cached\n');
    const report = JSON.parse(ws.read('report.json')) as {
      pipeline: string;
      target: string;
      totalMs: number;
      stages: Record<string, unknown>[];
    };
    expect(report).toMatchObject({ pipeline: 'demo', target: 'js' });
    expect(report.stages.map((s) => [s.id, s.name, s.cached, s.functions, s.primFuncs, s.bindings])).toEqual([
      ['import', 'import', true, 2, 1, 2],
      ['passes', 'cleanup', true, 2, 1, 2],
    ]);
    expect(report.stages[0]!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof report.totalMs).toBe('number');
  });

  test('--no-cache runs every stage and stores nothing', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs(), '--no-cache');
      expect(r.err).toContain('2 ran, 0 cached');
    }
    expect(existsSync(ws.path('cache'))).toBe(false);
  });

  test('inspect prints the module after a stage, from the cache when it is there', async () => {
    await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    const r = await kiln('inspect', ws.path('pipeline.yaml'), '--after', 'import', ...cacheArgs());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('func main(x: Tensor[(n, 128), f32], w: Tensor[(128, 64), f32]) -> Tensor[(n, 64), f32] {');
    const j = await kiln('inspect', ws.path('pipeline.yaml'), '--json', ...cacheArgs());
    expect(JSON.parse(j.out)).toMatchObject({ pipeline: 'demo', stage: 'cleanup', cached: true, bindings: 2 });
    const bad = await kiln('inspect', ws.path('pipeline.yaml'), '--after', 'clenup', ...cacheArgs());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("did you mean 'cleanup'?");
  });

  test('inspect --memory draws the plan after the last plan-memory stage; without a plan it says so', async () => {
    ws.write(
      'chain.kir',
      `func main(x: Tensor[(n, 64), f32]) -> Tensor[(n, 64), f32] {
  dataflow {
    a = exp(x)
    b = multiply(a, x)
    c = sigmoid(b)
    d = add(c, a)
    output d
  }
  return d
}`,
    );
    const planned = `name: planned\ntarget: js\nmodel:\n  path: chain.kir\n  dynamic:\n    n: { upper: 32 }\nstages:\n  - import: {}\n  - legalize: {}\n`;
    ws.write('planned.yaml', `${planned}  - plan-memory: {}\n`);
    const r = await kiln('inspect', ws.path('planned.yaml'), '--memory', ws.path('plan.html'), ...cacheArgs());
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`wrote the memory plan after 'plan-memory' to ${ws.path('plan.html')}`);
    const html = ws.read('plan.html');
    expect(html).toContain('<svg');
    expect(html).toContain('main, block 0');
    expect(html).toContain('n=32');
    const early = await kiln(
      'inspect',
      ws.path('planned.yaml'),
      '--after',
      'legalize',
      '--memory',
      ws.path('x.html'),
      ...cacheArgs(),
    );
    expect(early.code).toBe(2);
    expect(early.err).toContain("--memory: the module after 'legalize' has no memory plan");
    ws.write('unplanned.yaml', planned);
    const none = await kiln('inspect', ws.path('unplanned.yaml'), '--memory', ws.path('x.html'), ...cacheArgs());
    expect(none.code).toBe(2);
    expect(none.err).toContain("--memory: the pipeline has no 'plan-memory' stage");
    expect(existsSync(ws.path('x.html'))).toBe(false);
  });

  test('a model the import rejects exits 2 (an input error) naming the stage, its line in the pipeline, and the cause at its own line', async () => {
    ws.write('model.kir', MM_RELU.replace('range(n)', 'range(m)').replace('grid(n, 64, 128)', 'grid(q, 64, 128)'));
    const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${ws.path('pipeline.yaml')}:6:5 - error K6101: stage 'import' failed: unknown variable 'q'`);
    expect(r.err).toContain('  6 |   - import: {}\n');
    expect(r.err).toMatch(
      /model\.kir:6:23 - error K1004: unknown variable 'q'\n {2}6 \| {3}for i, j, k in grid\(q, 64, 128\) \{\n/,
    );
    expect(r.err).not.toMatch(/at .*\.ts:\d+:\d+/);
  });

  test('the imported module is verified without --verify: a call_tir that does not fit its kernel fails the build', async () => {
    ws.write('model.kir', MM_RELU.replace('w: Tensor[(128, 64), f32]', 'w: Tensor[(64, 128), f32]'));
    const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain("error K6101: stage 'import' failed:");
    expect(r.err).toMatch(
      /model\.kir:\d+:\d+ - error K2001: function 'main', binding 'lv0': call_tir of 'mm': argument 2 is Tensor\[\(64, 128\), f32\], but buffer 'W' \(f32\[128, 64\]\) needs 128 for dimension 0, not 64/,
    );
  });

  test('an ONNX model the importer rejects is an input error: exit 2, for build and inspect', async () => {
    ws.write('model.onnx', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x13, 0x42]));
    ws.write('pipeline.yaml', PIPELINE.replace('path: model.kir', 'path: model.onnx'));
    for (const cmd of ['build', 'inspect']) {
      const r = await kiln(cmd, ws.path('pipeline.yaml'), ...cacheArgs());
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/error K9001: .*model\.onnx: not a valid ONNX model/);
    }
  });

  test('a stage that fails after the import is a build failure: exit 1', async () => {
    stage(ws, 'fails', "throw new Error('the stage broke');");
    ws.write('pipeline.yaml', `${PIPELINE}  - use: ./stages/fails.ts\n`);
    const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(r.code).toBe(1);
  });

  test("a user stage that throws is reported with its file and the user's stack", async () => {
    stage(ws, 'boom', "throw new Error('kaboom');");
    ws.write('pipeline.yaml', `${PIPELINE}  - use: ./stages/boom.ts\n`);
    const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pipeline\.yaml:9:5 - error K6101: stage 'boom' from .*stages\/boom\.ts failed: kaboom/);
    expect(r.err).toMatch(/boom\.ts:\d+/);
  });

  test('files a stage emits are written, cached, and put back when deleted or changed', async () => {
    stage(ws, 'emit', "ctx.emitFile('out/result.txt', new TextEncoder().encode(ctx.options.text)); return m!;");
    ws.write('pipeline.yaml', `${PIPELINE}  - use: ./stages/emit.ts\n    options: { text: artifact }\n`);
    expect((await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs())).code).toBe(0);
    expect(ws.read('out/result.txt')).toBe('artifact');
    unlinkSync(ws.path('out/result.txt'));
    const again = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(again.err).toContain('0 ran, 3 cached');
    expect(ws.read('out/result.txt')).toBe('artifact');
    ws.write('out/result.txt', 'tampered');
    await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(ws.read('out/result.txt')).toBe('artifact');
  });

  test('parameter shards are cached as the weights they are made of (no second copy), and put back when deleted or changed', async () => {
    ws.write('model.onnx', readFileSync(join(REPO, 'examples/models/tiny-resnet.onnx')));
    ws.write('pipeline.yaml', `${PIPELINE.replace('path: model.kir', 'path: model.onnx')}  - codegen: { out: art }\n`);
    expect((await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs())).code).toBe(0);
    const shard = ws.path('art/params/shard-0.bin');
    const good = readFileSync(shard);
    const stored = new Set(files(ws.path('cache/cas')).map((f) => f.split('/').pop()));
    expect(stored.has(sha256Hex(good))).toBe(false);
    expect(stored.has(sha256Hex(readFileSync(ws.path('art/manifest.json'))))).toBe(true);

    const damaged = Buffer.from(good);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 1;
    writeFileSync(shard, damaged);
    const fixed = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(fixed.err).toContain('0 ran, 3 cached');
    expect(readFileSync(shard).equals(good)).toBe(true);
    unlinkSync(shard);
    expect((await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs())).err).toContain('0 ran, 3 cached');
    expect(readFileSync(shard).equals(good)).toBe(true);

    // A weight the shard is made of gone from the store: codegen is a miss and runs again.
    const entries = files(ws.path('cache/ac')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as { payload: Payload });
    const parts = entries.flatMap((e) => e.payload.files.flatMap((f) => f.parts ?? []));
    expect(parts.length).toBeGreaterThan(0);
    for (const f of files(ws.path('cache/cas')).filter((f) => f.endsWith(parts[0]!.hash))) unlinkSync(f);
    unlinkSync(shard);
    const rerun = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(rerun.code, rerun.err).toBe(0);
    expect(readFileSync(shard).equals(good)).toBe(true);
  }, 60_000);

  test('kiln cache stats, gc and clear', async () => {
    await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    const stats = await kiln('cache', 'stats', ...cacheArgs());
    expect(stats.out).toMatch(/stage results {2}2 \(/);
    const gc = await kiln('cache', 'gc', '--max-size', '0', ...cacheArgs());
    expect(gc.out).toMatch(/removed \d+ entries/);
    expect((await kiln('cache', 'gc', '--max-size', 'lots', ...cacheArgs())).code).toBe(2);
    await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect((await kiln('cache', 'clear', ...cacheArgs())).code).toBe(0);
    expect((await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs())).err).toContain('2 ran, 0 cached');
  });
});

describe('the cache under stress', () => {
  test('a corrupt module is evicted, warned about, rebuilt, and the result is right', async () => {
    await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    const before = (await kiln('inspect', ws.path('pipeline.yaml'), ...cacheArgs())).out;
    // Flip a byte in every stored module text (the weights-free blobs of this pipeline).
    for (const f of files(ws.path('cache/cas'))) {
      const bytes = readFileSync(f);
      bytes[10] = bytes[10]! ^ 0xff;
      writeFileSync(f, bytes);
    }
    const r = await kiln('inspect', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning K6201: cache: blob .* is corrupt/);
    expect(r.err).toMatch(/rebuilding it/);
    expect(r.out).toBe(before);
  });

  test('a corrupt weight under a cached stage is recomputed in the same build, and the artifact is right', async () => {
    ws.write('model.onnx', readFileSync(join(REPO, 'examples/models/tiny-resnet.onnx')));
    const onnx = `${PIPELINE.replace('path: model.kir', 'path: model.onnx')}  - codegen: { out: artifacts/a }\n`;
    ws.write('pipeline.yaml', onnx);
    expect((await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs())).code).toBe(0);
    const good = readFileSync(ws.path('artifacts/a/params/shard-0.bin'));
    // Flip a byte of every weight the cached stages refer to.
    const weights = new Set<string>();
    for (const f of files(ws.path('cache/ac'))) {
      const entry = JSON.parse(readFileSync(f, 'utf8')) as { payload: { blobs: string[] } };
      for (const h of entry.payload.blobs) weights.add(h);
    }
    expect(weights.size).toBeGreaterThan(0);
    for (const f of files(ws.path('cache/cas')).filter((f) => weights.has(f.split('/').pop()!))) {
      const bytes = readFileSync(f);
      bytes[0] = bytes[0]! ^ 0xff;
      writeFileSync(f, bytes);
    }
    // Only codegen runs (its output moved): it reads the weights of the cached stage before it.
    const r = await kiln('build', ws.path('pipeline.yaml'), '--set', 'stages.codegen.out=artifacts/b', ...cacheArgs());
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning K6201: cache: blob .* is corrupt/);
    expect(r.err).toMatch(/re-running the stages before it/);
    expect(readFileSync(ws.path('artifacts/b/params/shard-0.bin')).equals(good)).toBe(true);
    // The cache is whole again: the next build of either output runs nothing.
    const again = await kiln('build', ws.path('pipeline.yaml'), '--set', 'stages.codegen.out=artifacts/b', ...cacheArgs());
    expect(again.err).toContain('0 ran, 3 cached');
    expect(again.err).not.toContain('warning');
  }, 60_000);

  test('a truncated stage entry is a miss: warned about and rebuilt', async () => {
    await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    for (const f of files(ws.path('cache/ac'))) truncateSync(f, 5);
    const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning K6201: cache: action entry .* (corrupt|truncated|not valid JSON)/);
    expect(r.err).toContain('2 ran, 0 cached');
    expect((await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs())).err).toContain('0 ran, 2 cached');
  });

  test('two builds of one pipeline on one cache directory at once both succeed', async () => {
    const run = (): Promise<number> =>
      new Promise((done) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'src/cli/bin.ts', 'build', ws.path('pipeline.yaml'), ...cacheArgs()],
          {
            cwd: REPO,
            stdio: 'ignore',
          },
        );
        child.on('exit', (code) => done(code ?? -1));
      });
    expect(await Promise.all([run(), run(), run()])).toEqual([0, 0, 0]);
    const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    expect(r.err).toContain('0 ran, 2 cached');
    expect(r.err).not.toContain('warning');
  }, 60_000);

  test('a build killed in the middle of a stage leaves no partial entry, and the next build completes', async () => {
    stage(
      ws,
      'slow',
      "writeFileSync(process.env.KILN_TEST_MARKER!, 'started'); await new Promise((r) => setTimeout(r, Number(process.env.KILN_TEST_SLEEP ?? 0))); return m!;",
      "import { writeFileSync } from 'node:fs';",
    );
    ws.write('pipeline.yaml', `${PIPELINE}  - use: ./stages/slow.ts\n`);
    const marker = ws.path('started');
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'build', ws.path('pipeline.yaml'), ...cacheArgs()],
      {
        cwd: REPO,
        stdio: 'ignore',
        env: { ...process.env, KILN_TEST_MARKER: marker, KILN_TEST_SLEEP: '60000' },
      },
    );
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    for (let i = 0; i < 400 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(marker)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    // import and cleanup finished and were stored; slow was killed before it could be.
    const entries = files(ws.path('cache/ac'));
    expect(entries).toHaveLength(2);
    for (const f of entries) expect(JSON.parse(readFileSync(f, 'utf8'))).toHaveProperty('payload');
    for (const f of files(ws.path('cache/cas'))) expect(statSync(f).size).toBeGreaterThan(0);
    process.env.KILN_TEST_MARKER = marker;
    const r = await kiln('build', ws.path('pipeline.yaml'), ...cacheArgs());
    delete process.env.KILN_TEST_MARKER;
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('1 ran, 2 cached');
  }, 60_000);
});
