/**
 * `kiln serve` in a real browser: Debian's chromium driven by playwright-core loads the
 * served page, which runs the artifact with kiln/runtime/browser. Its outputs are checked
 * against the same artifact run by Node on the same inputs: bit-identical on the CPU,
 * within float tolerance on WebGPU (Mesa's lavapipe, which Chromium offers only as a
 * compatibility-mode adapter: see WEBGPU_FLAGS). Editing the pipeline makes the page
 * show the new artifact's result.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type ServeHandle, startServe } from '../../src/cli/serve-command.ts';
import { readNpy } from '../../src/runtime/npy.ts';
import { load } from '../../src/runtime/node.ts';
import type { NDArray } from '../../src/runtime/ndarray.ts';
import { MM_RELU, REPO, type Workspace, workspace } from '../helpers/workspace.ts';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!CHROMIUM && process.env.CI) throw new Error('CI must run the browser tests: chromium is not installed');

/**
 * Chromium's WebGPU on a machine without a GPU: these flags make it offer Mesa's lavapipe
 * (through ANGLE on Vulkan) as a compatibility-mode adapter; without them, or asking for a
 * core adapter, it offers only SwiftShader (a software fallback whose pipelines take a minute
 * to create for the vision model).
 */
export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=vulkan',
  '--use-vulkan=native',
  '--ignore-gpu-blocklist',
  '--use-webgpu-adapter=opengles',
];

interface PageResult {
  readonly version: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly device: string;
  readonly deviceKind: string;
  readonly adapter: { featureLevel: string; fallback: boolean } | null;
  readonly callMs: number;
  readonly kernels: readonly { kernel: string; launches: number; ms: number }[];
  readonly allocations: number;
  readonly outputs: readonly { name: string; shape: number[]; dtype: string; data: number[] }[];
}

const silent = { stdout: () => undefined, stderr: () => undefined };

/** The vision vertical's model for the js target (CPU) or the webgpu target (scheduled for GPUs). */
const pipelineFor = (name: string, target: 'js' | 'wasm' | 'webgpu', out = 'artifact'): string => `name: ${name}
target: ${target}
model:
  path: ${join(REPO, 'examples/models/tiny-resnet.onnx')}
  dynamic:
    N: { name: batch, upper: 64 }
stages:
  - import: {}
  - legalize: {}
${target === 'js' ? '' : '  - schedule: {}\n'}  - codegen: { out: ${out} }
`;

async function serve(ws: Workspace, file: string): Promise<ServeHandle> {
  const h = startServe(ws.path(file), { set: [], cache: true, cacheDir: ws.path('cache'), port: '0', debounce: 20 }, silent);
  await h.ready;
  return h;
}

/** Waits until the page has shown a result of version `version` or later. */
async function resultOf(page: Page, version: number): Promise<PageResult> {
  await page.waitForFunction(
    (v) => {
      const r = (globalThis as { kilnResult?: { version: number } }).kilnResult;
      return r !== undefined && r.version >= v;
    },
    version,
    { timeout: 120_000 },
  );
  return page.evaluate(() => (globalThis as unknown as { kilnResult: PageResult }).kilnResult);
}

/** The same artifact run by Node on the inputs the server gave the page. */
async function nodeOutputs(h: ServeHandle, dir: string, version: number, inputs: number): Promise<NDArray[]> {
  const args = await Promise.all(
    Array.from({ length: inputs }, async (_, i) =>
      readNpy(new Uint8Array(await (await fetch(`${h.url}_kiln/inputs/${version}/${i}.npy`)).arrayBuffer())),
    ),
  );
  const m = await load(dir);
  const r = await m.call('main', ...args);
  return (Array.isArray(r) ? r : [r]) as NDArray[];
}

describe.skipIf(!CHROMIUM)('kiln serve in Chromium', () => {
  let browser: Browser;
  const spaces: Workspace[] = [];
  const handles: ServeHandle[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ...WEBGPU_FLAGS],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const h of handles) await h.close();
    for (const ws of spaces) ws.remove();
  });
  const space = (files: Record<string, string>): Workspace => {
    const ws = workspace(files);
    spaces.push(ws);
    return ws;
  };

  test('the page runs the vision artifact on the CPU, bit-identical to Node, with call and kernel times', async () => {
    const ws = space({ 'vision.yaml': pipelineFor('vision', 'js') });
    const h = await serve(ws, 'vision.yaml');
    handles.push(h);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(h.url);
    const r = await resultOf(page, 1);
    expect(r.ok, r.error).toBe(true);
    expect(errors).toEqual([]);
    expect(r.deviceKind).toBe('cpu');
    expect(await page.evaluate(() => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated)).toBe(true);
    const expected = await nodeOutputs(h, ws.path('artifact'), r.version, 1);
    expect(r.outputs.map((o) => o.shape)).toEqual(expected.map((t) => t.shape));
    expect(r.outputs[0]!.data).toEqual(expected[0]!.toNumbers());
    expect(r.callMs).toBeGreaterThan(0);
    expect(r.kernels.length).toBeGreaterThan(3);
    expect(r.kernels.every((k) => k.launches >= 1 && k.ms >= 0)).toBe(true);
    expect(r.allocations).toBeGreaterThan(0);
    expect(await page.textContent('#kernels')).toContain(r.kernels[0]!.kernel);
    await page.close();
  }, 120_000);

  test('the wasm artifact runs on Web Workers sharing its memory when the page is cross-origin isolated, and on one thread with a notice when not', async () => {
    const ws = space({ 'vision.yaml': pipelineFor('vision', 'wasm') });
    const h = await serve(ws, 'vision.yaml');
    handles.push(h);
    const run = async (isolated: boolean): Promise<{ r: PageResult; threads: number; warnings: string[] }> => {
      const page = await browser.newPage();
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      // Without the server's COOP/COEP headers the page is not cross-origin isolated: no SharedArrayBuffer.
      if (!isolated)
        await page.route('**/*', async (route) => {
          // The rebuild events stream never ends: passed through (its headers do not isolate the page).
          if (route.request().url().includes('/_kiln/events')) return route.continue();
          const response = await route.fetch();
          const headers = { ...response.headers() };
          delete headers['cross-origin-opener-policy'];
          delete headers['cross-origin-embedder-policy'];
          await route.fulfill({ response, headers });
        });
      await page.goto(h.url);
      const r = await resultOf(page, 1);
      const threads = await page.evaluate(() =>
        Math.min(16, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1),
      );
      expect(await page.evaluate(() => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated)).toBe(isolated);
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      await page.close();
      return { r, threads, warnings };
    };
    const expected = (await nodeOutputs(h, ws.path('artifact'), 1, 1))[0]!.toNumbers();

    const isolated = await run(true);
    expect(isolated.r.ok, isolated.r.error).toBe(true);
    expect(isolated.threads).toBeGreaterThan(1); // a machine with one core could not show the threads
    expect(isolated.r.device).toBe(`cpu (WebAssembly, ${isolated.threads} threads)`);
    expect(isolated.r.outputs[0]!.data).toEqual(expected);

    const single = await run(false);
    expect(single.r.ok, single.r.error).toBe(true);
    expect(single.r.device).toBe('cpu (WebAssembly, 1 thread)');
    expect(single.warnings.join('\n')).toContain('shared memory is unavailable');
    expect(single.r.outputs[0]!.data).toEqual(expected);
  }, 180_000);

  test('the page runs the WebGPU vision artifact on the browser adapter and matches Node', async () => {
    const ws = space({
      'vision.yaml': pipelineFor('vision', 'js'),
      'vision-webgpu.yaml': pipelineFor('vision-webgpu', 'webgpu', 'artifact-webgpu'),
    });
    const h = await serve(ws, 'vision-webgpu.yaml');
    handles.push(h);
    const page = await browser.newPage();
    await page.goto(h.url);
    const hasAdapter = await page.evaluate(async () => {
      const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(o?: object): Promise<unknown> } } }).navigator?.gpu;
      return Boolean(gpu && ((await gpu.requestAdapter()) || (await gpu.requestAdapter({ featureLevel: 'compatibility' }))));
    });
    if (!hasAdapter && !process.env.KILN_REQUIRE_WEBGPU) {
      console.warn('kiln serve WebGPU test: Chromium exposes no WebGPU adapter here; skipped');
      return;
    }
    const r = await resultOf(page, 1);
    expect(r.ok, r.error).toBe(true);
    expect(r.deviceKind).toBe('webgpu');
    expect(r.adapter).not.toBeNull();
    console.info(`kiln serve WebGPU test: ${r.device}, ${JSON.stringify(r.adapter)}`);
    // The oracle: the CPU artifact of the same model, in Node, on the same inputs.
    expect(await main(['build', ws.path('vision.yaml'), '--cache-dir', ws.path('cache')], silent)).toBe(0);
    const inputs = readNpy(new Uint8Array(await (await fetch(`${h.url}_kiln/inputs/${r.version}/0.npy`)).arrayBuffer()));
    const m = await load(ws.path('artifact'));
    const expected = (await m.call('main', inputs)) as NDArray;
    const got = r.outputs[0]!.data;
    const want = expected.toNumbers();
    expect(got).toHaveLength(want.length);
    const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i]!) / Math.max(1, Math.abs(want[i]!))));
    expect(worst).toBeLessThan(1e-4);
    await page.close();
  }, 180_000);

  test('editing the pipeline makes the page show the new result', async () => {
    const pipeline = (model: string) =>
      `name: edit\ntarget: js\nmodel:\n  path: ${model}\nstages:\n  - import: {}\n  - legalize: {}\n  - codegen: { out: artifact }\n`;
    const ws = space({
      'p.yaml': pipeline('a.kir'),
      'a.kir': MM_RELU,
      'b.kir': MM_RELU.replace('relu(lv0)', 'add(lv0, lv0)'),
    });
    const h = await serve(ws, 'p.yaml');
    handles.push(h);
    const page = await browser.newPage();
    await page.goto(h.url);
    const first = await resultOf(page, 1);
    expect(first.ok, first.error).toBe(true);
    expect(first.outputs[0]!.data.every((x) => x >= 0)).toBe(true);
    expect(first.outputs[0]!.data).toEqual((await nodeOutputs(h, ws.path('artifact'), first.version, 2))[0]!.toNumbers());

    ws.write('p.yaml', pipeline('b.kir'));
    const second = await resultOf(page, first.version + 1);
    expect(second.ok, second.error).toBe(true);
    // Same inputs (same seed); b computes mm + mm where a computed relu(mm): doubling is exact, so
    // each output is twice a's where a's is positive, and at most 0 where a's was clamped to 0.
    // (Node would be the oracle here too, but it caches the first artifact's kernel module by URL.)
    const a = first.outputs[0]!.data;
    const b = second.outputs[0]!.data;
    expect(b).toHaveLength(a.length);
    expect(b.some((x) => x < 0)).toBe(true);
    b.forEach((x, i) => (a[i]! > 0 ? expect(x).toBe(2 * a[i]!) : expect(x).toBeLessThanOrEqual(0)));

    // A broken edit: the page says what is wrong and keeps showing the last good artifact.
    ws.write('p.yaml', pipeline('b.kir').replace('legalize: {}', 'legalise: {}'));
    const third = await resultOf(page, second.version + 1);
    expect(third.error).toMatch(/legalise/);
    expect(third.outputs[0]!.data).toEqual(b);
    expect(await page.textContent('#status')).toContain('the last rebuild failed');
    await page.close();
  }, 120_000);
});
