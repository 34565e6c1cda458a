/**
 * Importing an ONNX file without holding its weights: the scan's skeleton
 * decodes to the model minus its large raw_data, the payloads it records are
 * the bytes those fields held (with their SHA-256), and a model imported from
 * its file equals the one imported from its bytes, its weights read from the
 * file when used (and refused, with a clear error, once the file changed).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { buildArtifact } from '../../../src/codegen/artifact.ts';
import { externalDataFiles } from '../../../src/frontends/onnx/external-files.ts';
import { importOnnx, importOnnxFile } from '../../../src/frontends/onnx/importer.ts';
import { decodeModel } from '../../../src/frontends/onnx/proto.ts';
import { onnxExternalDigest, onnxFileDigest, PAYLOAD_MIN_BYTES, scanOnnxFile } from '../../../src/frontends/onnx/scan.ts';
import { collectBlobs } from '../../../src/ir/serialize.ts';
import { findMismatch } from '../../../src/ir/structural.ts';
import { encodeModel, type TensorSpec } from '../../../scripts/onnx-writer.ts';
import { isKilnError } from '../../../src/support/diagnostics.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

/** x · w1 + b1 → relu → · w2 (+ a small shape constant): two payloads, two small initializers. */
function mlp(external?: string): { bytes: Uint8Array; tensors: TensorSpec[] } {
  const w1 = seeded(64 * 300, 1);
  const tensors: TensorSpec[] = [
    { name: 'w1', dims: [64, 300], data: w1, ...(external ? { external: { location: external, offset: 0 } } : {}) },
    { name: 'b1', dims: [300], data: seeded(300, 2) },
    { name: 'w2', dims: [300, 10], data: seeded(3000, 3) },
    { name: 'tiny', dims: [2], data: Float32Array.from([1, 2]) },
  ];
  const bytes = encodeModel({
    opset: 17,
    producer: 'test',
    graphName: 'mlp',
    inputs: [{ name: 'x', elemType: 1, dims: ['N', 64] }],
    outputs: [{ name: 'y', elemType: 1, dims: ['N', 10] }],
    initializers: tensors,
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
      { op: 'Relu', inputs: ['hb'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] },
    ],
  });
  return { bytes, tensors };
}

const raw = (t: TensorSpec): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function write(files: Record<string, Uint8Array>): string {
  dir = mkdtempSync(join(tmpdir(), 'kiln-scan-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

describe('scan', () => {
  test('the skeleton is the model without its large raw_data; payloads are where those bytes are, hashed', () => {
    const { bytes, tensors } = mlp();
    const d = write({ 'm.onnx': bytes });
    const scanned = scanOnnxFile(join(d, 'm.onnx'), { hash: true });
    expect(scanned.skeleton.byteLength).toBeLessThan(bytes.byteLength - 80_000);

    const full = decodeModel(bytes);
    const skel = decodeModel(scanned.skeleton);
    // Everything but the payloads' raw_data decodes the same.
    for (const t of full.graph!.initializer) if ((t.raw_data?.byteLength ?? 0) >= PAYLOAD_MIN_BYTES) delete t.raw_data;
    for (const t of skel.graph!.initializer) if (t.raw_data?.byteLength === 0) delete t.raw_data;
    for (const t of [...full.graph!.initializer, ...skel.graph!.initializer])
      if (t.raw_data) t.raw_data = Uint8Array.from(t.raw_data);
    expect(skel).toEqual(full);

    // w1, b1 (1200 bytes) and w2 are payloads; tiny (8 bytes) stays in the skeleton.
    expect(scanned.payloads.map((p) => p.initializer)).toEqual([0, 1, 2]);
    for (const p of scanned.payloads) {
      const t = tensors[p.initializer]!;
      expect(Uint8Array.from(bytes.subarray(p.offset, p.offset + p.length))).toEqual(Uint8Array.from(raw(t)));
      expect(p.hash).toBe(sha(raw(t)));
    }
    expect(scanOnnxFile(join(d, 'm.onnx'), { hash: false }).payloads.every((p) => p.hash === undefined)).toBe(true);
  });

  test('a truncated or garbled file is a located ONNX error, not a crash', () => {
    const { bytes } = mlp();
    const d = write({ 'cut.onnx': bytes.subarray(0, 5000), 'bad.onnx': Uint8Array.from([0x0f, 1, 2, 3]) });
    for (const name of ['cut.onnx', 'bad.onnx']) {
      let error: unknown;
      try {
        importOnnxFile({ path: join(d, name), format: 'onnx', dynamic: {} });
      } catch (e) {
        error = e;
      }
      expect(isKilnError(error) && error.diagnostics[0]!.code).toBe('K9001');
    }
  });

  test("the model's digest for the cache key follows its content: weights and structure, not its name or time", () => {
    const { bytes, tensors } = mlp();
    const w1 = raw(tensors[0]!);
    const at = Buffer.from(bytes).indexOf(Buffer.from(w1.subarray(0, 64)));
    const weightChanged = Uint8Array.from(bytes);
    weightChanged[at + 1000] = weightChanged[at + 1000]! ^ 1;
    const renamed = Buffer.from(Buffer.from(bytes).toString('latin1').replace('mlp', 'mlq'), 'latin1');
    const d = write({ 'a.onnx': bytes, 'b.onnx': bytes, 'w.onnx': weightChanged, 'g.onnx': renamed });
    const digest = (n: string) => onnxFileDigest(join(d, n));
    expect(digest('a.onnx')).toBe(digest('b.onnx'));
    expect(digest('w.onnx')).not.toBe(digest('a.onnx'));
    expect(digest('g.onnx')).not.toBe(digest('a.onnx'));
    // Rewritten in place with other weights: the new version is scanned, not the remembered one.
    writeFileSync(join(d, 'a.onnx'), weightChanged);
    utimesSync(join(d, 'a.onnx'), new Date(), new Date(Date.now() + 5000));
    expect(digest('a.onnx')).toBe(digest('w.onnx'));
  });

  test("an external file's digest: each tensor's place from the scan, every byte of the file followed, the weight hashed once for key and import", () => {
    const { bytes } = mlp('w1.bin');
    const w1 = raw(mlp().tensors[0]!);
    // The weight, then bytes no tensor names (a trailer): the key must follow them too.
    const file = new Uint8Array(w1.byteLength + 100);
    file.set(w1);
    const d = write({ 'm.onnx': bytes, 'w1.bin': file });
    const [model, data] = [join(d, 'm.onnx'), join(d, 'w1.bin')];
    expect(scanOnnxFile(model, { hash: false }).externals).toEqual([{ location: 'w1.bin', offset: 0, length: w1.byteLength }]);
    const before = onnxExternalDigest(model, data);
    file[w1.byteLength + 50] = 7;
    writeFileSync(data, file);
    const trailerChanged = onnxExternalDigest(model, data);
    expect(trailerChanged).not.toBe(before);
    file[w1.byteLength + 50] = 0;
    file[3] = file[3]! ^ 1;
    writeFileSync(data, file);
    expect(onnxExternalDigest(model, data)).not.toBe(before);
    file[3] = file[3] ^ 1;
    writeFileSync(data, file);
    expect(onnxExternalDigest(model, data)).toBe(before);
    // The import finds the weight's hash the digest made.
    const m = importOnnxFile({ path: model, format: 'onnx', dynamic: {} });
    expect(collectBlobs(m).some((b) => b.hash === sha(w1))).toBe(true);
  });

  test('external data files are found without reading the weights', () => {
    const { bytes } = mlp('w1.bin');
    const d = write({ 'm.onnx': bytes, 'w1.bin': raw(mlp().tensors[0]!) });
    expect(externalDataFiles(join(d, 'm.onnx'))).toEqual([join(d, 'w1.bin')]);
  });
});

describe('import from a file', () => {
  test('equals the import of the same bytes: same module, same weight hashes, same artifact parameters', async () => {
    const { bytes } = mlp();
    const d = write({ 'm.onnx': bytes });
    const fromFile = importOnnxFile({ path: join(d, 'm.onnx'), format: 'onnx', dynamic: {} });
    const fromBytes = importOnnx(bytes, { file: join(d, 'm.onnx'), dir: d });
    expect(findMismatch(fromFile, fromBytes)).toBeUndefined();
    const a = collectBlobs(fromFile);
    const b = collectBlobs(fromBytes);
    expect(a.map((x) => x.hash)).toEqual(b.map((x) => x.hash));
    for (const [i, blob] of a.entries()) expect(blob.bytes()).toEqual(b[i]!.bytes());

    const target = { name: 'js', kind: 'js' as const, device: 'cpu' as const, features: [], limits: {} };
    const shards = async (m: typeof fromFile) =>
      (await buildArtifact(m, { name: 'a', target })).files.filter((f) => f.path.startsWith('params/')).map((f) => f.bytes);
    expect(await shards(fromFile)).toEqual(await shards(fromBytes));
  });

  test('external weights stream too: hashed as read, the same blobs as from memory', () => {
    const { bytes } = mlp('w1.bin');
    const w1 = raw(mlp().tensors[0]!);
    const d = write({ 'm.onnx': bytes, 'w1.bin': w1 });
    const m = importOnnxFile({ path: join(d, 'm.onnx'), format: 'onnx', dynamic: {} });
    const blob = collectBlobs(m).find((b) => b.byteLength === w1.byteLength)!;
    expect(blob.hash).toBe(sha(w1));
    expect([...(blob.chunks?.() ?? [])].reduce((n, c) => n + c.byteLength, 0)).toBe(w1.byteLength);
    expect(blob.bytes()).toEqual(w1);
  });

  test('a weight is read from the file when used; a file changed since the import is refused, not misread', () => {
    const { bytes } = mlp();
    const d = write({ 'm.onnx': bytes });
    const path = join(d, 'm.onnx');
    const m = importOnnxFile({ path, format: 'onnx', dynamic: {} });
    const big = collectBlobs(m).find((b) => b.byteLength === 64 * 300 * 4)!;
    // Same size, other bytes: what an editor or an export writing over the model does.
    const changed = Uint8Array.from(bytes);
    changed.fill(7, bytes.byteLength - 2000);
    writeFileSync(path, changed);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    let error: unknown;
    try {
      big.bytes();
    } catch (e) {
      error = e;
    }
    expect(isKilnError(error) && error.diagnostics[0]!.code).toBe('K9004');
    expect(String((error as Error).message)).toContain('changed while the build read it');
  });
});
