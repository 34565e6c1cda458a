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
  })
  .strict();

export type TargetDescription = z.output<typeof targetSchema>;
