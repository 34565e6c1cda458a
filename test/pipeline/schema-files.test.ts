/** The JSON Schemas in schemas/ are generated from the zod definitions; stale files fail here (npm run schemas). */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { generatedSchemas } from '../../src/pipeline/schema-files.ts';
import { REPO } from '../helpers/workspace.ts';

describe('checked-in JSON Schemas', () => {
  for (const { path, text } of generatedSchemas()) {
    test(`${path.slice(REPO.length)} is up to date (run npm run schemas)`, () => {
      expect(readFileSync(path, 'utf8')).toBe(text);
    });
  }

  test('they are draft-07 and accept the shipped pipelines and targets', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const pipeline = ajv.compile(JSON.parse(readFileSync(`${REPO}schemas/pipeline.schema.json`, 'utf8')) as object);
    const target = ajv.compile(JSON.parse(readFileSync(`${REPO}schemas/target.schema.json`, 'utf8')) as object);
    expect(pipeline.schema).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#' });
    for (const f of ['pipelines/mm-relu.yaml'])
      expect(pipeline(parse(readFileSync(`${REPO}${f}`, 'utf8'))), JSON.stringify(pipeline.errors)).toBe(true);
    for (const f of ['targets/js.yaml', 'targets/webgpu.yaml', 'targets/webgpu-discrete.yaml'])
      expect(target(parse(readFileSync(`${REPO}${f}`, 'utf8'))), JSON.stringify(target.errors)).toBe(true);
    expect(pipeline({ name: 'x', target: 'js', model: { path: 'm.kir' }, stages: [{ pases: {} }] })).toBe(false);
    expect(pipeline({ name: 'child', extends: './base.yaml' })).toBe(true);
    expect(pipeline({ name: 'alone' })).toBe(false);
  });
});
