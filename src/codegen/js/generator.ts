/** The js target's generator: one ES module of JavaScript kernels (kernels.js). */
import type { CodeGenerator } from '../registry.ts';
import { emitJsKernels } from './module.ts';

export const jsGenerator: CodeGenerator = {
  emit(kernels) {
    const source = emitJsKernels(new Map(kernels.map((k) => [k.name, k.func])));
    // .mjs: an ES module whatever package.json the artifact is copied under says ("type": "commonjs").
    return {
      files: [{ path: 'kernels.mjs', bytes: new TextEncoder().encode(source) }],
      kernels: { format: 'js', file: 'kernels.mjs', names: kernels.map((k) => k.name) },
      warnings: [],
    };
  },
};
