/**
 * Loading an artifact whose kernels are WGSL (manifest kernels.format 'wgsl'),
 * written by hand in a temporary directory: it runs on the webgpu device, with
 * its parameters uploaded, and is refused elsewhere or when its kernels file is wrong.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import type { Manifest } from '../../src/runtime/manifest.ts';
import type { NDArray } from '../../src/runtime/ndarray.ts';
import { tensor } from '../../src/runtime/ndarray.ts';
import { directorySource, load } from '../../src/runtime/node.ts';
import type { VMProgram } from '../../src/runtime/program.ts';
import type { WgslKernelFile } from '../../src/runtime/webgpu/kernel-spec.ts';
import { sha256Hex } from '../../src/support/hash.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';
import { addKernel, file } from './wgsl-fixtures.ts';

const ROOT = mkdtempSync(join(tmpdir(), 'kiln-wgsl-artifact-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const F32_N = { dtype: 'float32', dims: [['v', 0]] as const };
const PROGRAM: VMProgram = {
  version: 1,
  functions: {
    add: {
      params: [
        { name: 'a', type: 'Tensor[(n,), f32]', tensor: F32_N },
        { name: 'b', type: 'Tensor[(n,), f32]', tensor: F32_N },
      ],
      ret: 'Tensor[(n,), f32]',
      registers: 3,
      vars: ['n'],
      code: [
        { op: 'match', src: 0, pattern: { k: 'tensor', dtype: 'float32', ndim: 1, dims: [{ bind: 0 }] }, what: "parameter 'a'" },
        {
          op: 'match',
          src: 1,
          pattern: { k: 'tensor', dtype: 'float32', ndim: 1, dims: [{ eq: ['v', 0] }] },
          what: "parameter 'b'",
        },
        { op: 'alloc', dst: 2, dtype: 'float32', shape: [['v', 0]] },
        { op: 'kernel', kernel: 'add', args: [0, 1, 2], scalars: [] },
        { op: 'ret', src: 2 },
      ],
    },
    bias: {
      params: [{ name: 'x', type: 'Tensor[(4,), f32]', tensor: { dtype: 'float32', dims: [4] } }],
      ret: 'Tensor[(4,), f32]',
      registers: 3,
      vars: [],
      code: [
        { op: 'match', src: 0, pattern: { k: 'tensor', dtype: 'float32', ndim: 1, dims: [{ eq: 4 }] }, what: "parameter 'x'" },
        { op: 'const', dst: 1, index: 0 },
        { op: 'alloc', dst: 2, dtype: 'float32', shape: [4] },
        { op: 'kernel', kernel: 'add', args: [0, 1, 2], scalars: [] },
        { op: 'ret', src: 2 },
      ],
    },
  },
};

/** Writes an artifact directory; `kernels` and `names` replace the kernels file and the manifest's kernel names. */
function artifact(name: string, kernels: unknown = file(addKernel()), names = ['add']): string {
  const dir = join(ROOT, name);
  mkdirSync(join(dir, 'params'), { recursive: true });
  const shard = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const entries: Manifest['entries'] = Object.fromEntries(
    Object.entries(PROGRAM.functions).map(([n, f]) => [n, { params: f.params, ret: f.ret, vars: f.vars }]),
  );
  const manifest: Manifest = {
    format: 'kiln-artifact',
    version: 1,
    name,
    target: { name: 'webgpu', kind: 'webgpu', device: 'webgpu' },
    entries,
    program: 'program.json',
    kernels: { format: 'wgsl', file: 'kernels.wgsl.json', names },
    params: {
      shards: [{ file: 'params/shard-0.bin', byteLength: 16 }],
      tensors: [{ dtype: 'float32', shape: [4], shard: 0, offset: 0, byteLength: 16, hash: sha256Hex(shard) }],
    },
    externs: [],
  };
  writeFileSync(join(dir, 'params/shard-0.bin'), shard);
  writeFileSync(join(dir, 'program.json'), JSON.stringify(PROGRAM));
  writeFileSync(join(dir, 'kernels.wgsl.json'), JSON.stringify(kernels));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

describeWebGpu('an artifact with WGSL kernels', (device) => {
  test("runs on the webgpu device, given as an object or as 'webgpu'", async () => {
    const dir = artifact('ok');
    for (const mod of [await load(dir, { device }), await load(dir, { device: 'webgpu' })]) {
      expect(mod.device).toBe(device);
      const y = (await mod.call('add', tensor([1, 2, 3], [3]), tensor([10, 20, 30], [3]))) as NDArray;
      expect(y.device).toBe(device);
      expect((await y.toCpu()).toNumbers()).toEqual([11, 22, 33]);
      const z = (await mod.call('bias', tensor([10, 10, 10, 10], [4]))) as NDArray;
      expect((await z.toCpu()).toNumbers()).toEqual([11, 12, 13, 14]);
    }
  });

  test('is refused on the cpu, saying how to load it', async () => {
    await expect(load(artifact('cpu'))).rejects.toThrow(
      "this artifact was built for target 'webgpu' (WGSL kernels); it cannot run on cpu: load it with { device: 'webgpu' }",
    );
  });

  test('loadArtifact itself cannot make a device from the string', async () => {
    await expect(loadArtifact(directorySource(artifact('core')), { device: 'webgpu' })).rejects.toThrow(
      "{ device: 'webgpu' } needs an adapter to create the device",
    );
  });

  test('a kernels file that lacks a kernel, has another version or does not compile is a LoadError', async () => {
    await expect(load(artifact('missing', file(addKernel()), ['add', 'mul']), { device })).rejects.toThrow(
      "kernels.wgsl.json lacks kernel 'mul'",
    );
    const v2: WgslKernelFile = { ...file(addKernel()), version: 2 };
    await expect(load(artifact('v2', v2), { device })).rejects.toThrow(
      'WGSL kernels format version 2, this runtime reads version 1; rebuild it',
    );
    await expect(load(artifact('notwgsl', { format: 'x' }), { device })).rejects.toThrow('not a Kiln WGSL kernels file');
    const broken = file(addKernel('add', 'float32', 'f32', 'fn main() { let x = ; }'));
    await expect(load(artifact('broken', broken), { device })).rejects.toMatchObject({
      name: 'LoadError',
      message: expect.stringContaining('kernels.wgsl.json: kernel add: WGSL compilation failed:') as unknown,
    });
  });
});
