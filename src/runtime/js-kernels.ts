/** The loader of JavaScript kernels (format `js`, kernels.js): an ES module with a `kernels` table, run on the cpu. */
import { LOAD_CODES, LoadError } from './errors.ts';
import type { KernelLoader } from './kernel-loaders.ts';
import type { Kernel } from './vm.ts';

export const jsKernelLoader: KernelLoader = {
  async load({ source, manifest, device }) {
    const k = manifest.kernels;
    if (device.kind !== 'cpu') {
      throw new LoadError(
        `${source.location}: this artifact was built for target '${manifest.target.name}' (JavaScript kernels, device cpu); it cannot run on ${device.name}`,
      );
    }
    const out = new Map<string, Kernel>();
    if (k.names.length === 0) return { kernels: out };
    let mod: Record<string, unknown>;
    try {
      mod = await source.importModule(k.file);
    } catch (e) {
      if (e instanceof LoadError) throw e;
      throw new LoadError(`${source.location}: cannot load the kernels (${k.file}): ${(e as Error).message}`);
    }
    const table = mod.kernels as Record<string, unknown> | undefined;
    for (const name of k.names) {
      const fn = table?.[name];
      if (typeof fn !== 'function')
        throw new LoadError(`${source.location}: ${k.file} lacks kernel '${name}'`, LOAD_CODES.malformed);
      out.set(name, fn as Kernel);
    }
    return { kernels: out };
  },
};
