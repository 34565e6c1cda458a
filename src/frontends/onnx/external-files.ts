/**
 * The external data files an ONNX model names, found without decoding the
 * model: every `location` entry of a tensor's external_data is the bytes
 * `0a 08 "location" 12 <length> <path>` (a StringStringEntryProto), searched
 * for in the model's skeleton (the file without its large weights, read by
 * skipping them). A cheap scan, so that a no-op rebuild can key on those
 * files without reading a large model; a stray match only adds a file that
 * does not exist, which is skipped.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative } from 'node:path';
import { scanOnnxFile } from './scan.ts';

const MARKER = Buffer.from([0x0a, 0x08, ...Buffer.from('location'), 0x12]);

export function externalDataFiles(modelPath: string): string[] {
  let bytes: Buffer;
  try {
    const skeleton = scanOnnxFile(modelPath, { hash: false }).skeleton;
    bytes = Buffer.from(skeleton.buffer, skeleton.byteOffset, skeleton.byteLength);
  } catch {
    // Not readable as a model: the import says what is wrong with it, located.
    return [];
  }
  const dir = dirname(modelPath);
  const out = new Set<string>();
  for (let at = bytes.indexOf(MARKER); at >= 0; at = bytes.indexOf(MARKER, at + 1)) {
    let p = at + MARKER.length;
    let len = 0;
    for (let shift = 0; p < bytes.length && shift < 35; shift += 7) {
      const b = bytes[p++]!;
      len |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    if (len <= 0 || len > 4096 || p + len > bytes.length) continue;
    const location = bytes.subarray(p, p + len).toString('utf8');
    const path = normalize(join(dir, location));
    if (isAbsolute(location) || relative(dir, path).startsWith('..')) continue;
    if (existsSync(path)) out.add(path);
  }
  return [...out].sort();
}
