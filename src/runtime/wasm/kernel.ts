/**
 * Turns a kernel of the wasm format into a runtime Kernel: a call checks the
 * arguments (src/runtime/kernel-args.ts), allocates the workspaces, runs each
 * launch in order — a parallel one split over the thread pool — and frees the
 * workspaces. A trap in a kernel is an error naming it.
 */
import type { NDArray } from '../ndarray.ts';
import { bindKernelArgs } from '../kernel-args.ts';
import { evalShapeExpr } from '../shape-expr.ts';
import type { Kernel } from '../vm.ts';
import type { WasmDevice, WasmStorage } from './device.ts';
import type { WasmKernel } from './kernel-spec.ts';

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** Runs one launch over [start, end) of its parallel range (the whole of it for a serial launch). */
export interface LaunchRunner {
  run(exportName: string, args: readonly number[], extent: number | undefined): void | Promise<void>;
}

export function wasmKernel(k: WasmKernel, device: WasmDevice, runner: LaunchRunner): Kernel {
  const names = k.vars.map((v) => v.name);
  return (args) => {
    const vars = bindKernelArgs(k, args, device, {
      variable: (slot, value, origin, fail) => {
        if (k.vars[slot]!.type === 'i32' && !(Number.isInteger(value) && value >= I32_MIN && value <= I32_MAX)) {
          fail(`${k.vars[slot]!.name} = ${value} (from ${origin}) is not a valid i32`);
        }
      },
    });
    const ptrs: number[] = [];
    k.params.forEach((p, i) => {
      if (p.kind === 'buffer') ptrs.push(((args[i] as NDArray).storage as WasmStorage).ptr);
    });
    const workspaces = k.workspace.map((w) => device.heap.alloc(evalShapeExpr(w.bytes, vars, names)));
    const argv = [...ptrs, ...workspaces, ...vars];
    const release = (): void => workspaces.forEach((p) => device.heap.release(p));
    try {
      for (let i = 0; i < k.launches.length; i++) {
        const l = k.launches[i]!;
        const extent = l.parallel ? evalShapeExpr(l.parallel.extent, vars, names) : undefined;
        const done = runner.run(l.export, argv, extent);
        if (done) return finishAsync(k, done, i, argv, vars, names, runner, release);
      }
    } catch (e) {
      release();
      throw kernelError(k.name, e);
    }
    release();
    return undefined;
  };
}

/** The launches after one that went to the thread pool, each awaited in turn. */
async function finishAsync(
  k: WasmKernel,
  first: Promise<void>,
  index: number,
  argv: readonly number[],
  vars: readonly number[],
  names: readonly string[],
  runner: LaunchRunner,
  release: () => void,
): Promise<void> {
  try {
    await first;
    for (let i = index + 1; i < k.launches.length; i++) {
      const l = k.launches[i]!;
      const extent = l.parallel ? evalShapeExpr(l.parallel.extent, vars, names) : undefined;
      await runner.run(l.export, argv, extent);
    }
  } catch (e) {
    throw kernelError(k.name, e);
  } finally {
    release();
  }
}

function kernelError(name: string, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  if (/unreachable/.test(message)) {
    return new Error(`kernel ${name}: its local buffers overflow the thread's stack (${message})`);
  }
  return e instanceof Error && message.startsWith(`kernel ${name}`) ? e : new Error(`kernel ${name}: ${message}`);
}
