/**
 * The Node adapter: loads an artifact from a directory, and creates the webgpu
 * device from the `webgpu` package (Dawn). (The runtime's core has no Node
 * imports, so a browser bundle of it stays small.)
 */
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ArtifactSource, type KilnModule, loadArtifact, type LoadOptions } from './artifact.ts';
import { artifactPathProblem, escapes } from './artifact-paths.ts';
import { createWebGpuDevice, type WebGpuDevice } from './webgpu/device.ts';
import { registerBackendRuntime } from './backends.ts';
import { onnxruntimeRuntime } from './onnxruntime.ts';
import './wasm/node-workers.ts';

// Artifacts partitioned to onnxruntime load in Node (onnxruntime-node is imported when one does).
registerBackendRuntime(onnxruntimeRuntime);

export function directorySource(dir: string): ArtifactSource {
  const root = resolve(dir);
  return {
    location: root,
    readText: async (file) => readFile(await insideDir(root, file), 'utf8'),
    readBytes: async (file) => new Uint8Array(await readFile(await insideDir(root, file))),
    importModule: async (file) => import(pathToFileURL(await insideDir(root, file)).href) as Promise<Record<string, unknown>>,
    // node:crypto hashes in place at ~1 GB/s; Node's WebCrypto copies each tensor first (~5x slower).
    sha256: (bytes) => createHash('sha256').update(bytes).digest('hex'),
  };
}

/** The path of `file` in the artifact directory `root`, after symbolic links; fails when it leads outside. */
async function insideDir(root: string, file: string): Promise<string> {
  const problem = artifactPathProblem(file);
  if (problem !== undefined) throw escapes(root, `'${file}'`, problem);
  const path = join(root, file);
  let real: string;
  let realRoot: string;
  try {
    [realRoot, real] = await Promise.all([realpath(root), realpath(path)]);
  } catch {
    return path; // missing: reading it fails with its own message
  }
  const rel = relative(realRoot, real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw escapes(root, `'${file}'`, `it resolves to ${real}, outside ${realRoot}`);
  }
  return real;
}

/** Loads the artifact in directory `dir` (what `kiln build` wrote); `device: 'webgpu'` runs it on webgpuDevice(). */
export async function load(dir: string, options: LoadOptions = {}): Promise<KilnModule> {
  const device = options.device === 'webgpu' ? await webgpuDevice() : options.device;
  return loadArtifact(directorySource(dir), { ...options, device });
}

let gpu: Promise<GPU> | undefined;

/**
 * The process's GPU instance (the `webgpu` package's create([])), made once. It stays
 * referenced here for the process's lifetime: Dawn destroys the instance when it is
 * collected, even under a live device (crashes, hangs).
 */
export function nodeGpu(): Promise<GPU> {
  gpu ??= import('webgpu').then(
    (m) => m.create([]),
    (e: unknown) => {
      gpu = undefined;
      throw new Error(`WebGPU in Node needs the 'webgpu' package (npm install webgpu): ${(e as Error).message}`);
    },
  );
  return gpu;
}

let shared: Promise<WebGpuDevice> | undefined;

/** The process's webgpu device, created on first use and shared (a new one after the device is lost). */
export async function webgpuDevice(): Promise<WebGpuDevice> {
  const current = shared;
  if (current) {
    const d = await current.catch(() => undefined);
    if (d && d.lost === undefined) return d;
    if (shared !== current) return webgpuDevice();
  }
  // A failure (no adapter) is not kept: the next call tries again.
  const next = nodeGpu().then((g) => createWebGpuDevice(g));
  shared = next;
  next.catch(() => {
    if (shared === next) shared = undefined;
  });
  return next;
}

export * from './index.ts';
