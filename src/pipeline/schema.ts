/**
 * The pipeline format, in zod: one source of truth for validation (ajv runs
 * the JSON Schema generated from it) and for editors (the same JSON Schema,
 * checked in as schemas/pipeline.schema.json, draft-07 for yaml-language-server).
 */
import { z } from 'zod';
import { targetSchema } from '../ir/target.ts';
import { allStages, type StageDefinition } from '../stages/index.ts';

const dimensionSpec = z.union([
  z.string().describe('A new name for the dimension.'),
  z
    .object({
      name: z.string().optional().describe('A new name for the dimension.'),
      upper: z.int().min(1).optional().describe('An upper bound: kernels and memory plans may assume it.'),
    })
    .strict(),
]);

export const modelSchema = z
  .object({
    path: z.string().min(1).describe('The model file, relative to this pipeline file.'),
    format: z.string().optional().describe("The model's format; by default from the file's extension (.kir, .onnx)."),
    dynamic: z.record(z.string(), dimensionSpec).default({}).describe('Symbolic dimensions by their name in the model.'),
    inputs: z
      .array(
        z
          .object({
            name: z.string(),
            shape: z.array(z.union([z.int().min(0), z.string()])),
            dtype: z.string(),
          })
          .strict(),
      )
      .optional()
      .describe('Input names, shapes and dtypes, for formats that lack them.'),
  })
  .strict();

/** A pipeline file as written: a file that extends another may leave out what its base gives. */
export const pipelineFileSchema = z
  .object({
    name: z.string().min(1).describe('The pipeline name, shown in progress and reports.'),
    extends: z.string().optional().describe('Another pipeline file this one builds on; stages merge by name.'),
    target: z.string().min(1).optional().describe('A target name (targets/<name>.yaml of Kiln) or the path of a target file.'),
    model: modelSchema.optional(),
    stages: z.array(z.record(z.string(), z.unknown())).min(1).optional().describe('The stages, in order.'),
  })
  .strict();

/** What every merged pipeline must have. */
export const REQUIRED_KEYS = ['name', 'target', 'model', 'stages'] as const;

export function stageEntrySchema(def: StageDefinition): z.ZodObject {
  return z
    .object({
      name: z.string().min(1).optional().describe('Names the stage when it appears twice, or for --set and extends.'),
      [def.id]: def.options.describe(def.description),
    })
    .strict();
}

export const userStageEntrySchema = z
  .object({
    name: z.string().min(1).optional(),
    use: z.string().min(1).describe('A .ts or .js file whose default export is defineStage({...}).'),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

function draft7(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' });
}

/** JSON Schema of one stage's options, as ajv validates them. */
export function stageOptionsJsonSchema(def: StageDefinition): Record<string, unknown> {
  return draft7(def.options);
}

/** JSON Schema of pipeline files, for editors: stages are completed and checked from the registry. */
export function pipelineJsonSchema(): Record<string, unknown> {
  const stageEntry = z.union([userStageEntrySchema, ...allStages().map(stageEntrySchema)]);
  const schema = draft7(
    pipelineFileSchema.extend({ stages: z.array(stageEntry).min(1).optional().describe('The stages, in order.') }),
  );
  // A file without `extends` must say everything itself.
  return {
    ...schema,
    title: 'Kiln pipeline',
    if: { not: { required: ['extends'] } },
    then: { required: [...REQUIRED_KEYS] },
  };
}

/** JSON Schema of the merged document, as ajv validates it: a pipeline file with everything required. */
export function mergedPipelineJsonSchema(): Record<string, unknown> {
  return { ...draft7(pipelineFileSchema), required: [...REQUIRED_KEYS] };
}

export function targetJsonSchema(): Record<string, unknown> {
  return { ...draft7(targetSchema), title: 'Kiln target' };
}
