/**
 * `codegen`: builds the artifact directory (manifest, VM program, kernels,
 * parameter shards) for the pipeline's target. Any state of the module
 * builds: operator calls left are legalized here first.
 *
 *   - codegen: { out: dist/vision }
 */
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { LEGALIZE_VERSION } from '../passes/legalize-pass.ts';
import { defineStage } from './registry.ts';

/** Bumped whenever generated code or the artifact layout changes for the same module. */
export const CODEGEN_VERSION = 11;

export const codegenStage = defineStage({
  id: 'codegen',
  version: CODEGEN_VERSION,
  description: 'Writes the artifact (manifest, VM program, kernels, parameters) that `kiln run` and the runtime load.',
  options: z
    .object({
      out: z.string().min(1).describe('The artifact directory, relative to this pipeline file.'),
    })
    .strict(),
  fingerprint: () => `legalize@${LEGALIZE_VERSION}`,
  run: async (module, ctx) => {
    if (!module) throw new Error('codegen needs a module; put import first');
    // Loaded on use: the code generators and the operator library stay out of a cached build's start.
    const { buildArtifact } = await import('../codegen/artifact.ts');
    // Named after its directory: the key of this stage does not include the pipeline's name.
    const artifact = await buildArtifact(module, { name: basename(resolve(ctx.dir, ctx.options.out)), target: ctx.target });
    for (const w of artifact.warnings) ctx.warn(w);
    for (const f of artifact.files) ctx.emitFile(join(ctx.options.out, f.path), f.stream ?? f.bytes);
    return artifact.module;
  },
});
