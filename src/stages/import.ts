/** `import`: makes the module from the pipeline's model, with the importer of its format. */
import { z } from 'zod';
import { getImporter } from '../frontends/registry.ts';
import '../frontends/kir.ts';
import '../frontends/onnx/index.ts';
import { defineStage } from './registry.ts';

export const importStage = defineStage({
  id: 'import',
  version: 1,
  description: "Reads the pipeline's model (model.path) into an IRModule.",
  options: z.object({}).strict(),
  source: true,
  inputs: (_options, env) => [env.model.path, ...(getImporter(env.model.format)?.inputs?.(env.model) ?? [])],
  usesTarget: false,
  // The model file's content is an input; how it is read (format, dimensions, inputs) is key material too.
  fingerprint: (_options, env) => {
    const importer = getImporter(env.model.format);
    return JSON.stringify({
      format: env.model.format,
      version: importer?.version,
      dynamic: env.model.dynamic,
      inputs: env.model.inputs,
    });
  },
  run: async (_module, ctx) => {
    const importer = getImporter(ctx.model.format);
    if (!importer) throw new Error(`no importer for format '${ctx.model.format}'`);
    return importer.import(ctx.model);
  },
});
