/**
 * Target descriptions: what a code generator and the schedule rules may
 * assume about where the module will run. Written in `targets/*.yaml`,
 * validated by this schema (one source of truth; schemas/target.schema.json
 * is generated from it).
 */
import { z } from 'zod';

/** Each kind has a code generator (src/codegen/registry.ts) and schedule rules (src/schedule/rules/default-rules.ts). */
export const TARGET_KINDS = ['js', 'wasm', 'webgpu'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/**
 * The adapter class a webgpu target is for, as the default GPU rules see it.
 * A software adapter (Mesa's lavapipe, SwiftShader) runs a workgroup's
 * threads as SIMD lanes of one CPU core and its workgroup memory as ordinary
 * memory: staging tiles there only adds copies and barriers, while a large
 * block of outputs per thread in registers pays. A discrete GPU wants both.
 */
export const gpuFactsSchema = z
  .object({
    workgroupMemory: z
      .enum(['fast', 'emulated'])
      .default('fast')
      .describe(
        "'fast': on-chip shared memory, so matmul and conv tiles are staged there (discrete and integrated GPUs); 'emulated': ordinary memory (software adapters), so operands are read straight from storage.",
      ),
    registerTile: z
      .tuple([z.number().int().positive(), z.number().int().positive()])
      .optional()
      .describe(
        'Outputs per thread of a matmul tile, [rows, columns], kept in registers (default [8, 8] without workgroup memory staging, [4, 4] with it).',
      ),
  })
  .strict();

export const targetSchema = z
  .object({
    name: z.string().min(1).describe('The name pipelines refer to the target by.'),
    kind: z.enum(TARGET_KINDS).describe('Which code generator builds for it.'),
    description: z.string().optional(),
    device: z.enum(['cpu', 'webgpu']).describe('The runtime device the artifact runs on.'),
    features: z
      .array(z.string())
      .default([])
      .describe('Optional features the code may use when the device has them (shader-f16, subgroups, ...).'),
    limits: z
      .record(z.string(), z.number().int().nonnegative())
      .default({})
      .describe('Device limits code generation must respect (WebGPU limit names for webgpu).'),
    gpu: gpuFactsSchema.optional().describe('What the GPU schedule rules assume about the adapter (webgpu targets).'),
  })
  .strict();

export type TargetDescription = z.output<typeof targetSchema>;
