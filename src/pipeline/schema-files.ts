/** The JSON Schema files Kiln ships, as they should read (generated from the zod definitions). */
import { join } from 'node:path';
import '../stages/index.ts';
import { pipelineJsonSchema, targetJsonSchema } from './schema.ts';
import { kilnRoot } from './targets.ts';

export function generatedSchemas(): { path: string; text: string }[] {
  const dir = join(kilnRoot(), 'schemas');
  return [
    { path: join(dir, 'pipeline.schema.json'), text: `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n` },
    { path: join(dir, 'target.schema.json'), text: `${JSON.stringify(targetJsonSchema(), null, 2)}\n` },
  ];
}
