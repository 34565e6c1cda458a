/** `import`: makes the module from the pipeline's model, with the importer of its format. */
import { z } from 'zod';
import { getImporter } from '../frontends/registry.ts';
import { assertWellFormed } from '../ir/verify/index.ts';
import '../frontends/kir.ts';
import '../frontends/onnx/index.ts';
import { defineStage } from './registry.ts';

export const importStage = defineStage({
  id: 'import',
  // 2: the imported module is verified.
  version: 2,
  description: "Reads the pipeline's model (model.path) into an IRModule.",
  options: z.object({}).strict(),
  source: true,
  inputs: (_options, env) => [env.model.path, ...(getImporter(env.model.format)?.inputs?.(env.model) ?? [])],
  inputDigest: (_path, env) => {
    const d = getImporter(env.model.format)?.digest;
    return d ? { kind: d.kind, digest: (p) => d.digest(p, env.model) } : undefined;
  },
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
    const module = await importer.import(ctx.model);
    // The model is the user's input: a malformed one (a call_tir that does not fit its kernel,
    // a dimension of 0.5) fails here, located, not when the artifact runs. Structural checks
    // only, linear in the module; re-inferring every operator is --verify's deeper check.
    assertWellFormed(module);
    return module;
  },
});
