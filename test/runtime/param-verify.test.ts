/**
 * Parameters are checked at load against the SHA-256 the manifest records
 * for each tensor: a flipped bit, a NaN written into a shard or a shifted
 * offset is error K8103 naming the tensor, not different numbers with exit 0.
 * `{ verify: false }` / `kiln run --no-verify` skips it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { type ArtifactSource, loadArtifact } from '../../src/runtime/artifact.ts';
import { LOAD_CODES } from '../../src/runtime/errors.ts';
import type { Manifest } from '../../src/runtime/manifest.ts';
import { tensor, type NDArray } from '../../src/runtime/ndarray.ts';
import { directorySource, load } from '../../src/runtime/node.ts';
import { defaultSha256 } from '../../src/runtime/param-verify.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { JS_TARGET, parse } from '../helpers/build-run.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { type Workspace, workspace } from '../helpers/workspace.ts';

const nodeSha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function constant(n: number, seed: number): string {
  return `const(f32[${n}], [${[...randomArray(n, seed)].map((v) => v.toFixed(6)).join(', ')}])`;
}

const MODEL = `
func main(x: Tensor[(n, 16), f32]) -> Tensor[(n, 16), f32] {
  a: Tensor[(n, 16), f32] = add(x, ${constant(16, 1)})
  b: Tensor[(n, 16), f32] = multiply(a, ${constant(16, 2)})
  return b
}`;

describe('the SHA-256 implementations', () => {
  test('the JavaScript fallback and WebCrypto agree with node:crypto at every padding boundary', async () => {
    const web = defaultSha256();
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 70_001]) {
      const b = new Uint8Array(randomBytes(n));
      expect(sha256Hex(b), `length ${n}`).toBe(nodeSha(b));
      expect(await web(b), `length ${n}`).toBe(nodeSha(b));
    }
    // A view into a larger buffer hashes only its own bytes.
    const big = new Uint8Array(randomBytes(300));
    expect(sha256Hex(big.subarray(7, 250))).toBe(nodeSha(big.subarray(7, 250)));
    expect(await web(big.subarray(7, 250))).toBe(nodeSha(big.subarray(7, 250)));
  });
});

describe('loading verifies parameters', () => {
  let ws: Workspace;
  let manifest: Manifest;
  beforeEach(async () => {
    ws = workspace();
    for (const f of (await buildArtifact(parse(MODEL), { name: 'art', target: JS_TARGET })).files)
      ws.write(`art/${f.path}`, f.bytes);
    manifest = JSON.parse(ws.read('art/manifest.json')) as Manifest;
    expect(manifest.params.tensors.length).toBe(2);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    ws.remove();
  });

  const shardPath = (): string => ws.path('art/params/shard-0.bin');
  function editShard(edit: (bytes: Uint8Array) => void): void {
    const bytes = new Uint8Array(readFileSync(shardPath()));
    edit(bytes);
    writeFileSync(shardPath(), bytes);
  }

  async function failure(source: ArtifactSource = directorySource(ws.path('art'))): Promise<{ code?: string; message: string }> {
    const e = await loadArtifact(source).then(
      () => undefined,
      (err: unknown) => err as { code?: string; message: string },
    );
    expect(e, 'the load should fail').toBeDefined();
    return e!;
  }

  test('a flipped bit names the parameter, its shard and offset, both hashes', async () => {
    const p = manifest.params.tensors[1]!;
    editShard((b) => (b[p.offset + 5]! ^= 0x10));
    const e = await failure();
    expect(e.code).toBe(LOAD_CODES.paramHash);
    expect(e.message).toContain(
      `parameter 1 (float32[16], 64 bytes at offset ${p.offset} of params/shard-0.bin) does not match its hash`,
    );
    expect(e.message).toContain(`the manifest records ${p.hash}`);
  });

  test('a NaN written over a weight is caught', async () => {
    const p = manifest.params.tensors[0]!;
    editShard((b) => new DataView(b.buffer).setFloat32(p.offset + 8, NaN, true));
    expect((await failure()).code).toBe(LOAD_CODES.paramHash);
  });

  test('a shifted offset in the manifest is caught', async () => {
    const m = structuredClone(manifest) as unknown as { params: { tensors: { offset: number }[] } };
    m.params.tensors[0]!.offset = m.params.tensors[1]!.offset;
    writeFileSync(ws.path('art/manifest.json'), JSON.stringify(m));
    const e = await failure();
    expect(e.code).toBe(LOAD_CODES.paramHash);
    expect(e.message).toContain('parameter 0 ');
  });

  test('verified with WebCrypto, and with the JavaScript hash where there is no crypto.subtle (a plain-http page)', async () => {
    const p = manifest.params.tensors[0]!;
    editShard((b) => (b[p.offset]! ^= 1));
    const { sha256: _fast, ...withoutFast } = directorySource(ws.path('art'));
    expect((await failure(withoutFast)).code).toBe(LOAD_CODES.paramHash);
    vi.stubGlobal('crypto', undefined);
    expect((await failure(withoutFast)).code).toBe(LOAD_CODES.paramHash);
  });

  test('{ verify: false } skips the check (the damaged numbers then come through)', async () => {
    const x = tensor(randomArray(16, 3), [1, 16]);
    const good = ((await (await load(ws.path('art'))).call('main', x)) as NDArray).toNumbers();
    const p = manifest.params.tensors[1]!;
    editShard((b) => new DataView(b.buffer).setFloat32(p.offset, 1000, true));
    const mod = await load(ws.path('art'), { verify: false });
    const bad = ((await mod.call('main', x)) as NDArray).toNumbers();
    expect(bad[0]).not.toBeCloseTo(good[0]!, 3);
    expect(bad.slice(1)).toEqual(good.slice(1));
  });

  test('kiln run: a damaged shard is exit 2 with K8103; --no-verify runs it', async () => {
    editShard((b) => (b[manifest.params.tensors[0]!.offset + 1]! ^= 0x80));
    const run = async (...extra: string[]): Promise<{ code: number; err: string }> => {
      let err = '';
      const code = await main(['run', ws.path('art'), ...extra], { stdout: () => {}, stderr: (t) => (err += t) });
      return { code, err };
    };
    const checked = await run();
    expect(checked.code).toBe(2);
    expect(checked.err).toContain(`error ${LOAD_CODES.paramHash}: `);
    expect(checked.err).not.toMatch(/\n\s+at /);
    const trusted = await run('--no-verify');
    expect(trusted.code, trusted.err).toBe(0);
  });
});
