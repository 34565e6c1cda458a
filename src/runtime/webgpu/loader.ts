/** The loader of WGSL kernels (format `wgsl`, kernels.wgsl.json): compiled on a webgpu device; a compile error fails the load. */
import { parseJson, readArtifactText } from '../artifact-source.ts';
import { LOAD_CODES, LoadError } from '../errors.ts';
import type { KernelLoader } from '../kernel-loaders.ts';
import { isWebGpuDevice } from './device.ts';
import type { WgslKernelFile } from './kernel-spec.ts';
import { checkKernelFile } from './validate.ts';

export const wgslKernelLoader: KernelLoader = {
  async load({ source, manifest, device, onProgress }) {
    const where = source.location;
    const k = manifest.kernels;
    if (!isWebGpuDevice(device)) {
      throw new LoadError(
        `${where}: this artifact was built for target '${manifest.target.name}' (WGSL kernels); it cannot run on ${device.name}: load it with { device: 'webgpu' }`,
      );
    }
    const what = `${where}/${k.file}`;
    const file = parseJson<WgslKernelFile>(await readArtifactText(source, k.file), what);
    try {
      checkKernelFile(file, what);
    } catch (e) {
      throw new LoadError((e as Error).message, LOAD_CODES.malformed);
    }
    const have = new Set(file.kernels.map((x) => x.name));
    const missing = k.names.filter((n) => !have.has(n));
    if (missing.length > 0)
      throw new LoadError(
        `${where}: ${k.file} lacks kernel${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`,
        LOAD_CODES.malformed,
      );
    try {
      return { kernels: await device.prepareKernels(file, what, onProgress) };
    } catch (e) {
      throw new LoadError((e as Error).message);
    }
  },
};
