/** Serialization keeps constants as references to blobs stored once, and reads back an equal module. */
import { describe, expect, test } from 'vitest';
import { type Blob, blobFromBytes, lazyBlob } from '../../src/ir/blob.ts';
import { constant, graphFunc, graphVar, opCall, seqExpr, tuple, varBinding, bindingBlock } from '../../src/ir/graph/expr.ts';
import { tensorSI, tupleSI } from '../../src/ir/graph/struct-info.ts';
import { irModule } from '../../src/ir/module.ts';
import { deserializeModule, serializeModule } from '../../src/ir/serialize.ts';
import { findMismatch } from '../../src/ir/structural.ts';
import { isKilnError } from '../../src/support/diagnostics.ts';

function weights(seed: number, count: number): Uint8Array {
  const f = new Float32Array(count);
  for (let i = 0; i < count; i++) f[i] = Math.sin(seed * 1000 + i);
  return new Uint8Array(f.buffer);
}

function model() {
  const w = blobFromBytes(weights(1, 64 * 64));
  const b = blobFromBytes(weights(2, 64));
  const x = graphVar('x', tensorSI([64], 'float32'));
  const c1 = constant(w, 'float32', [64, 64]);
  const c2 = constant(w, 'float32', [64, 64]);
  const bias = constant(b, 'float32', [64]);
  const y = graphVar('y', tensorSI([64], 'float32'));
  const z = graphVar('z', tensorSI([64], 'float32'));
  const body = seqExpr(
    [bindingBlock([varBinding(y, opCall('matmul', [c1, x])), varBinding(z, opCall('add', [y, bias]))])],
    tuple([z, c2]),
  );
  return irModule({ main: graphFunc([x], body, tupleSI([tensorSI([64], 'float32'), tensorSI([64, 64], 'float32')])) });
}

describe('serialization', () => {
  test('constants are written as hashes and their blobs listed once', () => {
    const m = model();
    const s = serializeModule(m);
    expect(s.text.startsWith('# kiln-ir 1\n')).toBe(true);
    expect(s.blobs).toHaveLength(2);
    for (const b of s.blobs) expect(s.text).toContain(`"${b.hash}"`);
    expect(s.text.length).toBeLessThan(2000);
  });

  test('reads back a structurally equal module whose blobs load lazily', () => {
    const m = model();
    const s = serializeModule(m);
    const store = new Map(s.blobs.map((b) => [b.hash, b.bytes()]));
    const reads: string[] = [];
    const back = deserializeModule(s.text, (hash, length) =>
      lazyBlob(hash, length, () => {
        reads.push(hash);
        return store.get(hash)!;
      }),
    );
    expect(findMismatch(m, back)).toBeUndefined();
    expect(reads).toEqual([]);
    const f = back.functions.get('main');
    const c = f?.kind === 'func' && f.body.body.kind === 'tuple' ? f.body.body.fields[1] : undefined;
    expect(c?.kind).toBe('constant');
    if (c?.kind === 'constant') expect(c.blob.bytes()).toEqual(weights(1, 64 * 64));
    expect(reads).toHaveLength(1);
  });

  test('without a blob store the module still reads back; the bytes are reported missing when needed', () => {
    const back = deserializeModule(serializeModule(model()).text);
    const f = back.functions.get('main');
    const c = f?.kind === 'func' && f.body.body.kind === 'tuple' ? f.body.body.fields[1] : undefined;
    expect(c?.kind === 'constant' && c.blob.byteLength).toBe(64 * 64 * 4);
    let error: unknown;
    try {
      if (c?.kind === 'constant') c.blob.bytes();
    } catch (e) {
      error = e;
    }
    expect(isKilnError(error) && error.code).toBe('K1012');
  });

  test('a text without the format header is rejected with its place', () => {
    expect(() => deserializeModule('func main() -> Object {\n  return "x"\n}\n', undefined, 'entry.kir')).toThrow(
      /entry.kir:1:1 - error K1003: expected the header '# kiln-ir 1'/,
    );
  });

  test('a blob whose size does not fit its constant is an error', () => {
    const blob: Blob = blobFromBytes(new Uint8Array(12));
    expect(() => constant(blob, 'float32', [4])).toThrow(/float32\[4\] needs 16 bytes, the blob has 12/);
  });
});
