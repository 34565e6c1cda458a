/**
 * A WGSL kernel's arguments: the checks every compiled kernel makes
 * (src/runtime/kernel-args.ts), plus what WebGPU adds — each tensor stored as
 * the kernel reads it, within one storage binding, and every variable a valid
 * i32/u32 for the uniform struct.
 */
import type { Device, NDArray } from '../ndarray.ts';
import { bindKernelArgs } from '../kernel-args.ts';
import type { WgslKernel } from './kernel-spec.ts';
import type { WebGpuStorage } from './storage.ts';

const I32_MAX = 2 ** 31 - 1;

export interface BoundArgs {
  /** The value of each of the kernel's vars (the uniform struct's fields). */
  readonly vars: readonly number[];
  /** Each parameter's buffer (undefined for scalars). */
  readonly buffers: readonly (GPUBuffer | undefined)[];
}

export function bindArgs(
  k: WgslKernel,
  args: readonly (NDArray | number | boolean)[],
  device: Device,
  maxBindingBytes: number,
): BoundArgs {
  const vars = bindKernelArgs(k, args, device, {
    tensor: (i, a, fail) => {
      const p = k.params[i]!;
      if (p.kind !== 'buffer') return;
      const s = a.storage as WebGpuStorage;
      if (s.storage !== p.storage) {
        fail(`parameter '${p.name}' (${a.dtype}) is stored as ${s.storage} on ${device.name}, the kernel reads ${p.storage}`);
      }
      if (a.size > I32_MAX) fail(`parameter '${p.name}' has ${a.size} elements; WebGPU kernels index at most ${I32_MAX}`);
      if (s.buffer.size > maxBindingBytes) {
        fail(
          `parameter '${p.name}' takes ${s.buffer.size} bytes, more than ${device.name} binds in one storage buffer ` +
            `(maxStorageBufferBindingSize = ${maxBindingBytes})`,
        );
      }
    },
    variable: (slot, value, origin, fail) => {
      const v = k.vars[slot]!;
      if (v.type !== 'f32' && !fits(value, v.type)) fail(`${v.name} = ${value} (from ${origin}) is not a valid ${v.type}`);
    },
  });
  const buffers = k.params.map((p, i) =>
    p.kind === 'buffer' ? (args[i] as NDArray & { storage: WebGpuStorage }).storage.buffer : undefined,
  );
  return { vars, buffers };
}

function fits(v: number, type: 'i32' | 'u32'): boolean {
  return Number.isInteger(v) && (type === 'i32' ? v >= -(2 ** 31) && v <= I32_MAX : v >= 0 && v < 2 ** 32);
}
