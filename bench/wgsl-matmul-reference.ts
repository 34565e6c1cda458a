/**
 * A hand-written WGSL matmul, the yardstick for Kiln's generated one: each
 * thread keeps an 8×8 block of C in 64 scalar registers; per step of k it
 * loads 8 elements of A (a column of its rows) and 8 of B (a row of its
 * columns) straight from storage and does 64 fused multiply-adds; no
 * workgroup memory; 8×8 threads make a 64×64 tile of C per workgroup. It is
 * what a person writes for a software adapter (lavapipe, SwiftShader), whose
 * workgroup memory is ordinary memory. (A vec4 variant, sixteen vec4
 * accumulators fed by vec4 loads, measured about a third slower on lavapipe:
 * its SIMD lanes are invocations, so a vec4 per invocation is a gather.)
 * `timeReferenceMatmul` checks a sample of its outputs against a float64
 * product before timing it.
 */
import { BufferUsage, MAP_MODE_READ } from '../dist/runtime/webgpu/constants.js';
import type { WebGpuDevice } from '../dist/runtime/webgpu/device.js';
import { median } from './util.ts';

/** The kernel for C = A · B, all n×n row-major f32, n a multiple of 64. */
export function referenceMatmulWgsl(n: number): string {
  const acc = (r: number, c: number): string => `c${r}_${c}`;
  const decls: string[] = [];
  const body: string[] = [];
  const stores: string[] = [];
  for (let r = 0; r < 8; r++) body.push(`    let a${r} = A[(row0 + ${r}u) * ${n}u + k];`);
  for (let c = 0; c < 8; c++) body.push(`    let b${c} = B[k * ${n}u + col0 + ${c}u];`);
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      decls.push(`  var ${acc(r, c)} = 0.0;`);
      body.push(`    ${acc(r, c)} = fma(a${r}, b${c}, ${acc(r, c)});`);
      stores.push(`  C[(row0 + ${r}u) * ${n}u + col0 + ${c}u] = ${acc(r, c)};`);
    }
  }
  return `@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 8u;
  let col0 = gid.x * 8u;
${decls.join('\n')}
  for (var k = 0u; k < ${n}u; k++) {
${body.join('\n')}
  }
${stores.join('\n')}
}
`;
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  });
}

/**
 * Median milliseconds of one n×n×n product by the reference kernel on `device`
 * (dispatch and wait, as Kiln's rows time a call and its read-back of C; the
 * read-back itself is not counted here, which favours the reference slightly).
 * Throws when a sampled output is wrong.
 */
export async function timeReferenceMatmul(device: WebGpuDevice, n: number, repeats: number): Promise<number> {
  if (n % 64 !== 0) throw new Error(`the reference matmul needs n to be a multiple of 64, got ${n}`);
  const gpu = device.gpuDevice;
  const a = seeded(n * n, 7);
  const b = seeded(n * n, 8);
  const upload = (data: Float32Array): GPUBuffer => {
    const buf = gpu.createBuffer({ size: data.byteLength, usage: BufferUsage.STORAGE, mappedAtCreation: true });
    new Float32Array(buf.getMappedRange()).set(data);
    buf.unmap();
    return buf;
  };
  const bufA = upload(a);
  const bufB = upload(b);
  const bufC = gpu.createBuffer({ size: n * n * 4, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
  const readBack = gpu.createBuffer({ size: n * n * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  try {
    const module = gpu.createShaderModule({ code: referenceMatmulWgsl(n) });
    const pipeline = await gpu.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroup = gpu.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [bufA, bufB, bufC].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const run = async (): Promise<void> => {
      const enc = gpu.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(n / 64, n / 64);
      pass.end();
      gpu.queue.submit([enc.finish()]);
      await gpu.queue.onSubmittedWorkDone();
    };
    await run();
    const enc = gpu.createCommandEncoder();
    enc.copyBufferToBuffer(bufC, 0, readBack, 0, n * n * 4);
    gpu.queue.submit([enc.finish()]);
    await readBack.mapAsync(MAP_MODE_READ);
    const c = new Float32Array(readBack.getMappedRange().slice(0));
    readBack.unmap();
    for (let s = 0; s < 64; s++) {
      const i = (s * 7919) % n;
      const j = (s * 104729) % n;
      let want = 0;
      for (let k = 0; k < n; k++) want += a[i * n + k]! * b[k * n + j]!;
      const got = c[i * n + j]!;
      if (Math.abs(got - want) > 1e-3 * Math.max(1, Math.abs(want))) {
        throw new Error(`the reference matmul is wrong at [${i}, ${j}]: ${got}, expected ${want}`);
      }
    }
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    for (const buf of [bufA, bufB, bufC, readBack]) buf.destroy();
  }
}
