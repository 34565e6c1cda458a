/**
 * The external data files an ONNX model names, found without decoding the model: the scan
 * that walks its structure (skipping the weights) reads each initializer's external_data
 * entries. Cheap, so that a no-op rebuild can key on those files without reading a large
 * model. A location outside the model's directory or a file that does not exist is left out
 * (the import reports it, located).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative } from 'node:path';
import { scanOnnxFile } from './scan.ts';

export function externalDataFiles(modelPath: string): string[] {
  let locations: string[];
  try {
    locations = scanOnnxFile(modelPath, { hash: false }).externals.map((e) => e.location);
  } catch {
    // Not readable as a model: the import says what is wrong with it, located.
    return [];
  }
  const dir = dirname(modelPath);
  const out = new Set<string>();
  for (const location of locations) {
    const path = normalize(join(dir, location));
    if (isAbsolute(location) || relative(dir, path).startsWith('..')) continue;
    if (existsSync(path)) out.add(path);
  }
  return [...out].sort();
}
