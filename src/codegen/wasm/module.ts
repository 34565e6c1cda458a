/**
 * Every kernel of an artifact in one WebAssembly module: lowered TIR
 * (src/passes/tir/lower.ts), one exported function per launch, the memory
 * imported (tensors live in it and kernels take their addresses), a stack
 * for local buffers per instance (each thread instantiates the module), and
 * binaryen's optimizer over the whole. The module is written with a shared
 * memory; the runtime clears that flag where threads are unavailable.
 */
import type { TargetDescription } from '../../ir/target.ts';
import type { PrimFunc, Stmt } from '../../ir/tir/stmt.ts';
import { hoistInvariants } from '../../passes/tir/hoist-invariants.ts';
import { lowerPrimFunc } from '../../passes/tir/lower.ts';
import { unswitchGuards } from '../../passes/tir/unswitch-guards.ts';
import {
  WASM_FORMAT,
  WASM_FORMAT_VERSION,
  type WasmKernel,
  type WasmKernelFile,
  type WasmLaunch,
  type WasmVar,
} from '../../runtime/wasm/kernel-spec.ts';
import { type KernelInterface, kernelInterface } from '../kernel-interface.ts';
import { shapeProduct, toShapeExpr } from '../shape-expr.ts';
import type { NamedKernel } from '../registry.ts';
import { type Binaryen, ModuleContext, type Ref } from './context.ts';
import { FunctionEmitter, STACK_LIMIT, STACK_POINTER } from './function.ts';
import { storageBytes, type ValType, valTypeOf } from './types.ts';

export const WASM_MODULE_FILE = 'kernels.wasm';
/** Stack per thread for local buffers that do not fit in registers. */
const STACK_BYTES = 1 << 20;

export interface WasmModule {
  readonly bytes: Uint8Array;
  readonly spec: WasmKernelFile;
}

export async function emitWasmModule(kernels: readonly NamedKernel[], target: TargetDescription): Promise<WasmModule> {
  const B: Binaryen = (await import('binaryen')).default;
  const m = new B.Module();
  try {
    m.setFeatures(
      B.Features.SIMD128 |
        B.Features.BulkMemory |
        B.Features.SignExt |
        B.Features.NontrappingFPToInt |
        B.Features.MutableGlobals |
        B.Features.Atomics,
    );
    m.setMemory(1, 65536, null, [], true, false, 'memory');
    m.addMemoryImport('memory', 'env', 'memory', true);
    m.addGlobal(STACK_POINTER, B.i32, true, m.i32.const(0));
    m.addGlobal(STACK_LIMIT, B.i32, true, m.i32.const(0));
    m.addFunction(
      'kiln_set_stack',
      B.createType([B.i32, B.i32]),
      B.none,
      [],
      m.block(null, [m.global.set(STACK_LIMIT, m.local.get(0, B.i32)), m.global.set(STACK_POINTER, m.local.get(1, B.i32))]),
    );
    m.addFunctionExport('kiln_set_stack', 'kiln_set_stack');
    const ctx = new ModuleContext(B, m, target.name);
    const specs = kernels.map((k, i) => emitKernel(ctx, k.name, k.func, i));
    if (!m.validate()) throw new Error('internal error: the generated WebAssembly module does not validate');
    B.setOptimizeLevel(2);
    B.setShrinkLevel(0);
    // Before the standard pipeline: an unrolled register tile loads each broadcast operand once per step, not per use.
    m.runPasses(['local-cse']);
    m.optimize();
    const bytes = m.emitBinary();
    return {
      bytes,
      spec: {
        format: WASM_FORMAT,
        version: WASM_FORMAT_VERSION,
        module: WASM_MODULE_FILE,
        stackBytes: STACK_BYTES,
        ...(target.limits.threads !== undefined ? { threads: target.limits.threads } : {}),
        kernels: specs,
      },
    };
  } finally {
    m.dispose();
  }
}

function emitKernel(ctx: ModuleContext, name: string, f: PrimFunc, ordinal: number): WasmKernel {
  const unsupported = (what: string): never => ctx.unsupported(name, what);
  // Full register tiles run without their tail / padding guards (a second copy of the loop).
  const lowered = hoistInvariants(unswitchGuards(lowerPrimFunc(f)));
  const iface = kernelInterface(lowered, unsupported);
  const vars = iface.vars.map(({ v, from }): WasmVar => {
    const t = valTypeOf(v.dtype, false);
    if (t === 'i64') return unsupported(`variable '${v.name}' of type ${v.dtype}`);
    return { name: v.name, type: t, from };
  });
  const launches = iface.launches.map((stmt, j): WasmLaunch => {
    const exportName = `k${ordinal}_${j}`;
    const parallel = stmt.kind === 'for' && stmt.forKind === 'parallel';
    emitLaunch(ctx, name, iface, vars, stmt, exportName, parallel);
    if (!parallel) return { export: exportName };
    const extent = toShapeExpr(stmt.extent, iface.slots, `the extent of parallel loop '${stmt.loopVar.name}'`, unsupported);
    return { export: exportName, parallel: { extent, work: iterations(stmt.body) } };
  });
  return {
    name,
    vars,
    params: iface.params.map((p) =>
      p.kind === 'scalar'
        ? { kind: 'scalar', name: p.v.name, dtype: p.v.dtype }
        : { kind: 'buffer', name: p.buffer.name, dtype: p.buffer.dtype, shape: p.shape },
    ),
    workspace: iface.workspace.map((w) => ({ name: w.buffer.name, bytes: shapeProduct([w.size, storageBytes(w.buffer.dtype)]) })),
    launches,
  };
}

function emitLaunch(
  ctx: ModuleContext,
  kernel: string,
  iface: KernelInterface,
  vars: readonly WasmVar[],
  stmt: KernelInterface['launches'][number],
  exportName: string,
  parallel: boolean,
): void {
  const { B, m } = ctx;
  const buffers = [
    ...iface.params.flatMap((p) => (p.kind === 'buffer' ? [p.buffer] : [])),
    ...iface.workspace.map((w) => w.buffer),
  ];
  const paramTypes: ValType[] = [
    ...buffers.map((): ValType => 'i32'),
    ...vars.map((v) => v.type),
    ...(parallel ? (['i32', 'i32'] as const) : []),
  ];
  const f = new FunctionEmitter(ctx, kernel, paramTypes);
  buffers.forEach((b, i) => f.homes.set(b, { kind: 'memory', base: { index: i, type: 'i32' } }));
  iface.vars.forEach(({ v }, i) => f.vars.set(v, { index: buffers.length + i, type: vars[i]!.type }));
  let body: Ref;
  if (parallel && stmt.kind === 'for') {
    const start = buffers.length + vars.length;
    body = f.loop(stmt, { start: m.local.get(start, B.i32), end: m.local.get(start + 1, B.i32) });
  } else {
    body = f.stmt(stmt);
  }
  m.addFunction(exportName, B.createType(paramTypes.map((t) => B[t])), B.none, f.localTypeList(), body);
  m.addFunctionExport(exportName, exportName);
}

/** About how many innermost statements `s` runs (a symbolic extent counted as 64): the work of one parallel iteration. */
function iterations(s: Stmt): number {
  switch (s.kind) {
    case 'for':
      return (s.extent.kind === 'int' ? s.extent.value : 64) * iterations(s.body);
    case 'seq':
      return s.stmts.reduce((a, x) => a + iterations(x), 0);
    case 'allocate':
    case 'let':
      return iterations(s.body);
    case 'if':
      return Math.max(iterations(s.then), s.else ? iterations(s.else) : 0);
    case 'block_realize':
      return iterations(s.block.body);
    default:
      return 1;
  }
}
