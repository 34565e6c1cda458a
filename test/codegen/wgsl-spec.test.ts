/**
 * The WGSL code generator's output contract (kernel-spec.ts), without a GPU:
 * launches, workgroup sizes, grids, variables, bindings, workspace, and the
 * build errors for what WGSL or the device cannot do.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { emitWgslKernel, emitWgslKernelFile } from '../../src/codegen/wgsl/index.ts';
import type { TargetDescription } from '../../src/ir/target.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import type { WgslKernel } from '../../src/runtime/webgpu/kernel-spec.ts';
import { parse } from '../passes/helpers.ts';

const WEBGPU: TargetDescription = { name: 'webgpu', kind: 'webgpu', device: 'webgpu', features: ['shader-f16'], limits: {} };

function kernelsOf(text: string, file = 'kernel.kir'): Map<string, PrimFunc> {
  const m = legalizeModule(parse(text, file));
  return new Map([...m.functions].filter(([, f]) => f.kind === 'prim_func') as [string, PrimFunc][]);
}

/** The kernel of the one PrimFunc in `text`. */
function emit(text: string, target: TargetDescription = WEBGPU): WgslKernel {
  const kernels = [...kernelsOf(text)];
  if (kernels.length !== 1) throw new Error(`expected one prim_func, found ${kernels.length}`);
  const [name, f] = kernels[0]!;
  return emitWgslKernel(name, f, target);
}

function withLimits(limits: Record<string, number>): TargetDescription {
  return { ...WEBGPU, limits };
}

describe('launches, workgroups and grids', () => {
  test('the scheduled softmax: one launch, a workgroup of 64, a grid of n rows that may fold', () => {
    const m = kernelsOf(readFileSync('examples/softmax-scheduled.kir', 'utf8'));
    const k = emitWgslKernel('softmax_rows', m.get('softmax_rows')!, WEBGPU);
    expect(k.vars).toEqual([{ name: 'n', type: 'i32', from: { param: 0, dim: 0 } }]);
    expect(k.params).toEqual([
      { kind: 'buffer', name: 'X', dtype: 'float32', storage: 'f32', shape: [['v', 0], 256], written: false },
      { kind: 'buffer', name: 'Y', dtype: 'float32', storage: 'f32', shape: [['v', 0], 256], written: true },
    ]);
    expect(k.workspace).toEqual([]);
    expect(k.dispatches).toEqual([
      {
        entryPoint: 'softmax_rows',
        workgroupSize: [64, 1, 1],
        grid: [['v', 0], 1, 1],
        foldX: true,
        bindings: [
          { binding: 0, resource: 'uniforms' },
          { binding: 1, resource: { param: 0 }, readOnly: true },
          { binding: 2, resource: { param: 1 }, readOnly: false },
        ],
      },
    ]);
    expect(k.features).toEqual([]);
    expect(k.source).toContain('var<storage, read> X: array<f32>;');
    expect(k.source).toContain('var<storage, read_write> Y: array<f32>;');
    expect(k.source).toContain('var<workgroup> partial: array<f32, 64>;');
    expect(k.source).toContain('workgroupBarrier();');
    expect(k.source).toContain('if (blockIdx_x >= u.n) { return; }');
  });

  test('an unscheduled legalized softmax: a launch per loop nest, global scratch as workspace, each binding what it uses', () => {
    const m = kernelsOf(`
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  y = softmax(x, axis=-1)
  return y
}`);
    const k = emitWgslKernel('softmax', m.get('softmax')!, WEBGPU);
    expect(k.workspace).toEqual([
      { name: 'T_softmax_max', dtype: 'float32', storage: 'f32', size: ['v', 0] },
      { name: 'T_softmax_expsum', dtype: 'float32', storage: 'f32', size: ['v', 0] },
    ]);
    expect(k.dispatches.map((d) => [d.entryPoint, d.workgroupSize, d.grid, d.foldX])).toEqual([
      ['softmax_0', [1, 1, 1], [1, 1, 1], false],
      ['softmax_1', [1, 1, 1], [1, 1, 1], false],
      ['softmax_2', [1, 1, 1], [1, 1, 1], false],
    ]);
    expect(k.dispatches.map((d) => d.bindings.map((b) => b.resource))).toEqual([
      ['uniforms', { param: 0 }, { workspace: 0 }],
      ['uniforms', { param: 0 }, { workspace: 0 }, { workspace: 1 }],
      ['uniforms', { param: 0 }, { param: 1 }, { workspace: 0 }, { workspace: 1 }],
    ]);
    for (const d of k.dispatches) expect(d.bindings.map((b) => b.binding)).toEqual(d.bindings.map((_, i) => i));
    // A launch binds read-only what it only reads: T_softmax_max is written by the first launch, read by the others.
    expect(k.dispatches.map((d) => d.bindings.map((b) => b.readOnly))).toEqual([
      [undefined, true, false],
      [undefined, true, true, false],
      [undefined, true, false, true, true],
    ]);
    // One declaration per (buffer, binding number, access): T_softmax_max at binding 2 written, then read, then
    // at binding 3 read.
    expect(k.source).toContain('@group(0) @binding(2) var<storage, read_write> T_softmax_max: array<f32>;');
    expect(k.source).toContain('@group(0) @binding(2) var<storage, read> T_softmax_max_1: array<f32>;');
    expect(k.source).toContain('@group(0) @binding(3) var<storage, read> T_softmax_max_2: array<f32>;');
  });

  test('index arithmetic a serial loop does not change is computed once before it', () => {
    const k = emit(`
prim_func f(A: f32[21, 64], B: f32[21]) {
  for bx in thread_binding(3, "blockIdx.x") {
    for tx in thread_binding(7, "threadIdx.x") {
      for k in range(64) {
        B[bx * 7 + tx] = B[bx * 7 + tx] + A[(bx * 7 + tx) // 3 * 3 + (bx * 7 + tx) % 3, k]
      }
    }
  }
}`);
    const [before, loop] = k.source.split('for (');
    expect(before).toMatch(/let inv0: i32 = /);
    // The loop body reads the hoisted values: no division or remainder is left in it.
    expect(loop).not.toMatch(/kiln_floor|\/ 3|% 3/);
    expect(loop).toMatch(/inv\d/);
  });

  test('symbolic grids become shape expressions; threads narrower than the workgroup are guarded', () => {
    const k = emit(`
prim_func f(A: f32[n, m * 2], B: f32[n], m: i64) {
  for bx in thread_binding((n + 63) // 64, "blockIdx.x") {
    for tx in thread_binding(64, "threadIdx.x") {
      if bx * 64 + tx < n {
        B[bx * 64 + tx] = A[bx * 64 + tx, 0]
      }
    }
    for ty in thread_binding(32, "threadIdx.x") {
      if bx * 32 + ty < n {
        B[bx * 32 + ty] = 0.0
      }
    }
  }
}`);
    expect(k.vars).toEqual([
      { name: 'n', type: 'i32', from: { param: 0, dim: 0 } },
      { name: 'm', type: 'i32', from: { param: 2 } },
    ]);
    expect(k.params[0]).toMatchObject({
      shape: [
        ['v', 0],
        ['mul', ['v', 1], 2],
      ],
    });
    const [d] = k.dispatches;
    expect(d!.workgroupSize).toEqual([64, 1, 1]);
    expect(d!.grid).toEqual([['floordiv', ['add', ['v', 0], 63], 64], 1, 1]);
    expect(k.source).toContain('if (i32(lid.x) < 32i) {');
    expect(k.source).not.toContain('if (i32(lid.x) < 64i)');
  });

  test('a 2-d grid does not fold; blockIdx loops of one tag with different extents take the max and guard', () => {
    const k = emit(`
prim_func f(A: f32[n, 8]) {
  for by in thread_binding(n, "blockIdx.y") {
    for bx in thread_binding(2, "blockIdx.x") {
      for ty in thread_binding(4, "threadIdx.y") {
        for tx in thread_binding(4, "threadIdx.x") {
          A[by, bx * 4 + tx] = 1.0
        }
      }
    }
    for bx2 in thread_binding(3, "blockIdx.x") {
      A[by, bx2] = 2.0
    }
  }
}`);
    const [d] = k.dispatches;
    expect(d!.workgroupSize).toEqual([4, 4, 1]);
    expect(d!.grid).toEqual([['max', 2, 3], ['v', 0], 1]);
    expect(d!.foldX).toBe(false);
    expect(k.source).toContain('if (i32(wid.x) < 2i) {');
    expect(k.source).toContain('if (i32(wid.x) < 3i) {');
  });

  test('scalar parameters are variables read from the arguments; a launch that needs no variable binds no uniforms', () => {
    const k = emit(`
prim_func f(A: f32[n], alpha: f32, k: i32, B: f32[4]) {
  for i in range(n) {
    A[i] = A[i] * alpha + f32(k)
  }
  for j in range(4) {
    B[j] = 0.0
  }
}`);
    expect(k.vars).toEqual([
      { name: 'n', type: 'i32', from: { param: 0, dim: 0 } },
      { name: 'alpha', type: 'f32', from: { param: 1 } },
      { name: 'k', type: 'i32', from: { param: 2 } },
    ]);
    expect(k.params.slice(1, 3)).toEqual([
      { kind: 'scalar', name: 'alpha', dtype: 'float32' },
      { kind: 'scalar', name: 'k', dtype: 'int32' },
    ]);
    expect(k.source).toContain('struct Uniforms {\n  n: i32,\n  alpha: f32,\n  k: i32,\n}');
    expect(k.dispatches[1]!.bindings).toEqual([{ binding: 0, resource: { param: 3 }, readOnly: false }]);
  });

  test('float16 buffers are f16 with shader-f16 and f32 without', () => {
    const text = `
prim_func h(A: f16[4], B: f16[4]) {
  for i in range(4) {
    B[i] = A[i] * 2.0
  }
}`;
    const with16 = emit(text);
    expect(with16.features).toEqual(['shader-f16']);
    expect(with16.params.map((p) => p.kind === 'buffer' && p.storage)).toEqual(['f16', 'f16']);
    expect(with16.source).toMatch(/^enable f16;$/m);
    const without = emit(text, { ...WEBGPU, features: [] });
    expect(without.features).toEqual([]);
    expect(without.params.map((p) => p.kind === 'buffer' && p.storage)).toEqual(['f32', 'f32']);
    expect(without.source).not.toContain('enable f16');
  });

  test('helpers are emitted only when used', () => {
    const k = emit(`
prim_func f(A: i32[8], B: i32[8]) {
  for i in range(8) {
    B[i] = A[i] // 3 + A[i] // 4
  }
}`);
    expect(k.source).toContain('fn kiln_floordiv(');
    expect(k.source).not.toContain('fn kiln_floormod(');
    expect(k.source).not.toContain('fn kiln_erf(');
    // Floor division by a power of two is an arithmetic shift.
    expect(k.source).toContain('(A[i] >> 2u)');
  });

  test('names that WGSL reserves are renamed', () => {
    const k = emit(`
prim_func f(loop: f32[4], fn: f32[4]) {
  for max in range(4) {
    fn[max] = loop[max]
  }
}`);
    expect(k.source).toContain('var<storage, read> loop_1: array<f32>;');
    expect(k.source).toContain('fn_1[max_1] = loop_1[max_1];');
  });

  test('a kernels file lists every kernel in the format the device reads', () => {
    const m = kernelsOf(`
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  y = relu(x)
  z = exp(y)
  return z
}`);
    const file = emitWgslKernelFile(
      [...m].map(([name, func]) => ({ name, func })),
      WEBGPU,
    );
    expect(file.format).toBe('kiln-wgsl');
    expect(file.version).toBe(1);
    expect(file.kernels.map((k) => k.name)).toEqual([...m.keys()]);
  });
});

describe('unrolled loops', () => {
  test('a constant one is written out per iteration, its variable a constant; a symbolic or long one stays a loop', () => {
    const k = emit(`
prim_func k(A: f32[64, 4], B: f32[64, 4], C: f32[n], D: f32[100]) {
  for tx in thread_binding(64, "threadIdx.x") {
    alloc acc: f32[4] local
    for i in unrolled(4) {
      block c(vt = spatial(64, tx), vi = spatial(4, i)) { acc[vi] = A[vt, vi] * 2.0 }
    }
    for j in unrolled(4) {
      block d(vt = spatial(64, tx), vj = spatial(4, j)) { B[vt, vj] = acc[vj] }
    }
    for p in unrolled(n) {
      block e(vp = spatial(n, p)) {
        where tx == 0
        C[vp] = 1.0
      }
    }
    for q in unrolled(100) {
      block f(vq = spatial(100, q)) {
        where tx == 0
        D[vq] = 2.0
      }
    }
  }
}`);
    // Each copy indexes the register tile with a constant, which the driver can keep in registers.
    for (let i = 0; i < 4; i++) expect(k.source).toContain(`acc[${i}i] = `);
    expect(k.source).not.toMatch(/for \(var i\b/);
    expect(k.source).not.toMatch(/for \(var j\b/);
    expect(k.source).toMatch(/for \(var p: i32 = 0i; p < /);
    expect(k.source).toMatch(/for \(var q: i32 = 0i; q < 100i; q\+\+\)/);
  });
});

describe('vectorized loops', () => {
  /** A thread's block of 4 outputs of x · W (W K×N): the weights of a step are 4 neighbouring elements. */
  const gemv = (wType: string, wIndex: string, extra = '', f16 = false): string => `
prim_func g(A: f32[16], W: ${wType}, Y: f32[64]) {
  for b in thread_binding(4, "blockIdx.x") {
    for t in thread_binding(4, "threadIdx.x") {
      alloc acc: f32[4] local
      for j in vectorized(4) {
        acc[j] = 0.0
      }
      for k in range(16) {
        for j in vectorized(4) {
          acc[j] = acc[j] + A[k] * ${f16 ? `f32(W[${wIndex}])` : `W[${wIndex}]`}
        }
      }
      for j in vectorized(4) {
        Y[b * 16 + t * 4 + j] = acc[j]${extra}
      }
    }
  }
}`;

  test('lanes are written out with constant indices; an aligned run of a read-only buffer is one vec4 read', () => {
    const k = emit(gemv('f32[16, 64]', 'k, b * 16 + t * 4 + j'));
    expect(k.source).toContain('@group(0) @binding(2) var<storage, read> W_vec4: array<vec4<f32>>;');
    // W is read only through its vector view, at a binding of its own, read-only.
    expect(k.source).not.toMatch(/var<storage, read> W: /);
    expect(k.dispatches[0]!.bindings).toEqual([
      { binding: 0, resource: { param: 0 }, readOnly: true },
      { binding: 1, resource: { param: 2 }, readOnly: false },
      { binding: 2, resource: { param: 1 }, readOnly: true },
    ]);
    expect(k.source.match(/= W_vec4\[/g)).toHaveLength(1);
    expect(k.source).toMatch(/let W_v = W_vec4\[\(\(.*\) >> 2u\)\];/);
    const lanes = ['x', 'y', 'z', 'w'];
    for (let i = 0; i < 4; i++) {
      expect(k.source).toContain(`acc[${i}i] = (acc[${i}i] + (A[k] * W_v.${lanes[i]!}));`);
      expect(k.source).toContain(`acc[${i}i] = 0f;`);
    }
    expect(k.source).not.toMatch(/for \(var j\b/);
  });

  test('eight lanes read two vec4s; later lanes in the same scope reuse a vector already read', () => {
    const k = emit(`
prim_func g(B: f32[16, 64], Y: f32[2, 64]) {
  for t in thread_binding(8, "threadIdx.x") {
    for k in range(16) {
      for i in unrolled(2) {
        for j in vectorized(8) {
          Y[i, t * 8 + j] = Y[i, t * 8 + j] + B[k, t * 8 + j] * 2.0
        }
      }
    }
  }
}`);
    // Y is stored to: no vector view (WebGPU refuses a writable binding aliased by another).
    expect(k.source).not.toContain('Y_vec4');
    expect(k.source.match(/= B_vec4\[/g)).toHaveLength(2);
    expect(k.source).toMatch(/B_vec4\[\(.*\) \+ 1i\]/);
    expect(k.source).toContain('B_v_1.w');
  });

  test('unaligned, strided, symbolic-stride and written loads stay scalar', () => {
    const cases: [string, string][] = [
      ['f32[16, 64]', 'k, b * 16 + t * 4 + j + 1'],
      ['f32[16, 64]', 'k, (b * 16 + t * 4 + j) // 2'],
      ['f32[16, n]', 'k, b * 16 + t * 4 + j'],
      ['f32[16, 66]', 'k, b * 16 + t * 4 + j'],
    ];
    for (const [type, index] of cases) {
      const k = emit(gemv(type, index));
      expect(k.source, `${type} at [${index}]`).not.toContain('vec4');
      expect(k.source).toContain('acc[3i] = (acc[3i] + (A[k] * W[');
    }
  });

  test('a vector view is a binding: over the limit, the entry point reads scalars instead', () => {
    const text = gemv('f32[16, 64]', 'k, b * 16 + t * 4 + j', ' + W[0, 0]');
    expect(emit(text).source).toContain('W_vec4');
    const k = emit(text, withLimits({ maxStorageBuffersPerShaderStage: 3 }));
    expect(k.source).not.toContain('vec4');
    expect(k.dispatches[0]!.bindings).toHaveLength(3);
  });

  test('float16 buffers are read as vec4<f16>', () => {
    const k = emit(gemv('f16[16, 64]', 'k, b * 16 + t * 4 + j', '', true));
    expect(k.source).toContain('var<storage, read> W_vec4: array<vec4<f16>>;');
    expect(k.source).toContain('(A[k] * f32(W_v.x))');
  });

  test('a vectorized loop of a symbolic extent or with a loop inside stays a loop', () => {
    const k = emit(`
prim_func g(A: f32[n], B: f32[64, 4]) {
  for t in thread_binding(1, "threadIdx.x") {
    for i in vectorized(n) {
      A[i] = 1.0
    }
    for j in vectorized(4) {
      for r in range(64) {
        B[r, j] = 2.0
      }
    }
  }
}`);
    expect(k.source).toMatch(/for \(var i: i32 = 0i; i < /);
    expect(k.source).toMatch(/for \(var j: i32 = 0i; j < 4i; j\+\+\)/);
  });
});

describe('build errors', () => {
  test('float64 is refused: WebGPU has no 64-bit floats', () => {
    expect(() =>
      emit(`
prim_func f(A: f64[4]) {
  for i in range(4) {
    A[i] = 0.0f64
  }
}`),
    ).toThrow("webgpu code generation: kernel 'f': buffer 'A': WebGPU has no 64-bit floats");
  });

  test('a threadIdx loop needs a constant extent', () => {
    expect(() =>
      emit(`
prim_func f(A: f32[n]) {
  for tx in thread_binding(n, "threadIdx.x") {
    A[tx] = 0.0
  }
}`),
    ).toThrow(/K8001.*threadIdx\.x loop 'tx' has extent n, not a constant/);
  });

  test('an entry point binding more storage buffers than the device allows', () => {
    expect(() =>
      emit(
        `
prim_func f(A: f32[4], B: f32[4], C: f32[4]) {
  for i in range(4) {
    C[i] = A[i] + B[i]
  }
}`,
        withLimits({ maxStorageBuffersPerShaderStage: 2 }),
      ),
    ).toThrow(
      "kernel 'f': entry point 'f' needs 3 storage buffers, more than the device limit maxStorageBuffersPerShaderStage = 2",
    );
  });

  test('workgroup memory over the default limit; a target may raise the limit', () => {
    const text = `
prim_func f(A: f32[8192]) {
  for tx in thread_binding(64, "threadIdx.x") {
    alloc S: f32[8192] shared
    for i in range(128) {
      S[tx * 128 + i] = A[tx * 128 + i]
    }
    eval workgroup_barrier()
    for i in range(128) {
      A[tx * 128 + i] = S[8191 - tx * 128 - i]
    }
  }
}`;
    expect(() => emit(text)).toThrow(
      "entry point 'f' needs 32768 bytes of workgroup memory, more than the device limit maxComputeWorkgroupStorageSize = 16384",
    );
    expect(emit(text, withLimits({ maxComputeWorkgroupStorageSize: 32768 })).dispatches).toHaveLength(1);
  });

  test('workgroup memory over a lowered limit fails with K8004', () => {
    let caught: unknown;
    try {
      emit(
        `
prim_func f(A: f32[64]) {
  for tx in thread_binding(64, "threadIdx.x") {
    alloc S: f32[64] shared
    S[tx] = A[tx]
    eval workgroup_barrier()
    A[tx] = S[63 - tx]
  }
}`,
        withLimits({ maxComputeWorkgroupStorageSize: 128 }),
      );
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'K8004' });
    expect(String(caught)).toContain(
      "kernel 'f': entry point 'f' needs 256 bytes of workgroup memory, more than the device limit maxComputeWorkgroupStorageSize = 128",
    );
  });

  test('a workgroup larger than the device allows', () => {
    expect(() =>
      emit(`
prim_func f(A: f32[512]) {
  for tx in thread_binding(512, "threadIdx.x") {
    A[tx] = 0.0
  }
}`),
    ).toThrow('needs 512 threads along x (threadIdx.x), more than the device limit maxComputeWorkgroupSizeX = 256');
  });

  test('a barrier inside a thread loop narrower than the workgroup', () => {
    expect(() =>
      emit(`
prim_func f(A: f32[64]) {
  for bx in thread_binding(1, "blockIdx.x") {
    for tx in thread_binding(64, "threadIdx.x") {
      A[tx] = 0.0
    }
    for tx2 in thread_binding(32, "threadIdx.x") {
      eval workgroup_barrier()
    }
  }
}`),
    ).toThrow(/threadIdx.x loop 'tx2' of extent 32 is narrower than the workgroup \(64\) and contains a barrier/);
  });

  test('a global allocation inside a launch', () => {
    expect(() =>
      emit(`
prim_func f(A: f32[4]) {
  for i in range(4) {
    alloc T: f32[1]
    T[0] = A[i]
    A[i] = T[0]
  }
}`),
    ).toThrow("global buffer 'T' is allocated inside a launch; only allocations at the top of a kernel become workspace buffers");
  });

  test('a variable the runtime cannot read', () => {
    expect(() =>
      emit(`
prim_func f(A: f32[n * 2]) {
  for i in range(n * 2) {
    A[i] = 0.0
  }
}`),
    ).toThrow("symbolic variable 'n' never stands alone as a dimension of a buffer parameter");
  });
});
