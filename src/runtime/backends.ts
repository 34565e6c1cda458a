/**
 * Backends at run time: an artifact built with the partition stage calls
 * functions of a backend (`call_dps_packed("onnxruntime.onnxruntime_conv2d_0", ...)`)
 * and lists them in its manifest under `backends`, each with what the
 * backend's codegen wrote for it. At load, the runtime side of each backend,
 * registered here by name (or passed in the load options), turns those into
 * registry functions; an artifact whose backend is not there fails at load,
 * naming it.
 */
import { type ArtifactSource, cannotRead } from './artifact-source.ts';
import { LoadError } from './errors.ts';
import type { Manifest } from './manifest.ts';
import type { Device } from './ndarray.ts';
import type { PackedFunc } from './registry.ts';

/** One function of an artifact that a backend runs. */
export interface BackendFunction {
  /** The registry name the program calls: `<backend>.<fn>`. */
  readonly symbol: string;
  /** What the backend's codegen recorded for it (JSON). */
  readonly entry: unknown;
  /** The files its codegen wrote, by the names codegen gave them. */
  readonly files: Readonly<Record<string, Uint8Array>>;
}

export interface BackendRuntime {
  readonly name: string;
  /** The registry functions (by symbol) for an artifact's calls into this backend. */
  load(
    functions: readonly BackendFunction[],
    ctx: { readonly device: Device },
  ): Record<string, PackedFunc> | Promise<Record<string, PackedFunc>>;
}

const runtimes = new Map<string, BackendRuntime>();

/** Makes a backend's runtime known to every load (a later registration of the same name replaces it). */
export function registerBackendRuntime(rt: BackendRuntime): void {
  runtimes.set(rt.name, rt);
}

export function getBackendRuntime(name: string): BackendRuntime | undefined {
  return runtimes.get(name);
}

/** The registry functions of every backend the manifest names, made by their runtimes. */
export async function loadBackends(
  manifest: Manifest,
  source: ArtifactSource,
  device: Device,
  given: readonly BackendRuntime[] = [],
): Promise<Map<string, PackedFunc>> {
  const out = new Map<string, PackedFunc>();
  for (const [name, backend] of Object.entries(manifest.backends ?? {})) {
    const rt = given.find((b) => b.name === name) ?? runtimes.get(name);
    const symbols = Object.keys(backend.functions);
    if (!rt) {
      const known = [...new Set([...given.map((b) => b.name), ...runtimes.keys()])].sort();
      throw new LoadError(
        `${source.location}: the program calls backend '${name}' (${symbols.join(', ')}), which this runtime does not have; ` +
          `pass its runtime in the load options ({ backends: [...] }) or registerBackendRuntime() it before loading` +
          ` (backends here: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
    const functions: BackendFunction[] = [];
    for (const [symbol, f] of Object.entries(backend.functions)) {
      const files: Record<string, Uint8Array> = {};
      for (const [file, path] of Object.entries(f.files)) {
        try {
          files[file] = await source.readBytes(path);
        } catch (e) {
          throw cannotRead(source, path, e);
        }
      }
      functions.push({ symbol, entry: f.entry, files });
    }
    const made = await rt.load(functions, { device });
    for (const symbol of symbols) {
      const fn = made[symbol];
      if (typeof fn !== 'function') {
        throw new LoadError(`${source.location}: backend '${name}' made no function for '${symbol}'`);
      }
      out.set(symbol, fn);
    }
  }
  return out;
}
