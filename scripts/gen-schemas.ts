/**
 * Writes schemas/pipeline.schema.json and schemas/target.schema.json from
 * the zod definitions (stages included). `npm run schemas`; a test fails
 * when the checked-in files are stale.
 */
import { writeFileSync } from 'node:fs';
import { generatedSchemas } from '../src/pipeline/schema-files.ts';

for (const { path, text } of generatedSchemas()) {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
