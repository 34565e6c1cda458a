/** The browser adapter: loads an artifact from a base URL (a served artifact directory), on the cpu or navigator.gpu. */
import { type ArtifactSource, type KilnModule, loadArtifact, type LoadOptions } from './artifact.ts';
import { urlInside } from './artifact-paths.ts';
import { createWebGpuDevice, type WebGpuDevice, type WebGpuDeviceOptions } from './webgpu/device.ts';
import { setWasmWorkerFactory } from './wasm/loader.ts';

// Web Workers for the WebAssembly kernels' threads (used where the page is cross-origin isolated).
interface BrowserWorker {
  postMessage(m: unknown): void;
  addEventListener(type: string, listener: (e: { data?: unknown; message?: string }) => void): void;
  terminate(): void;
}
const WorkerClass = (globalThis as { Worker?: new (url: string) => BrowserWorker }).Worker;
if (WorkerClass) {
  setWasmWorkerFactory({
    defaultThreads: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1,
    spawn(source) {
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const w = new WorkerClass(url);
      return {
        postMessage: (m) => w.postMessage(m),
        onMessage: (listener) => w.addEventListener('message', (e) => listener(e.data)),
        onExit: (listener) => w.addEventListener('error', (e) => listener(e.message ?? 'a worker error')),
        terminate: () => w.terminate(),
      };
    },
  });
}

export function urlSource(base: string | URL): ArtifactSource {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const root = new URL(String(base).endsWith('/') ? String(base) : `${String(base)}/`, page);
  const get = async (file: string): Promise<Response> => {
    const r = await fetch(urlInside(root, file));
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    return r;
  };
  return {
    location: root.href,
    readText: async (file) => (await get(file)).text(),
    readBytes: async (file) => new Uint8Array(await (await get(file)).arrayBuffer()),
    importModule: async (file) => import(/* @vite-ignore */ urlInside(root, file).href) as Promise<Record<string, unknown>>,
  };
}

export interface BrowserLoadOptions extends LoadOptions {
  /** For `device: 'webgpu'`: how to choose the adapter and create the device (the first load's options create the shared device). */
  readonly webgpu?: WebGpuDeviceOptions;
}

/** Loads the artifact served at `base`; `device: 'webgpu'` runs it on browserWebGpuDevice(options.webgpu). */
export async function loadFromUrl(base: string | URL, options: BrowserLoadOptions = {}): Promise<KilnModule> {
  const { webgpu, ...rest } = options;
  const device = options.device === 'webgpu' ? await browserWebGpuDevice(webgpu) : options.device;
  return loadArtifact(urlSource(base), { ...rest, device });
}

let shared: Promise<WebGpuDevice> | undefined;

/** The page's webgpu device over navigator.gpu, created on first use and shared (a new one after it is lost). */
export async function browserWebGpuDevice(options: WebGpuDeviceOptions = {}): Promise<WebGpuDevice> {
  const current = shared;
  if (current) {
    const d = await current.catch(() => undefined);
    if (d && d.lost === undefined) return d;
    if (shared !== current) return browserWebGpuDevice(options);
  }
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new Error(
      'WebGPU is not available here (navigator.gpu is missing): use a browser with WebGPU enabled, or the cpu device',
    );
  }
  const next = createWebGpuDevice(gpu, options);
  shared = next;
  next.catch(() => {
    if (shared === next) shared = undefined;
  });
  return next;
}

export * from './index.ts';
