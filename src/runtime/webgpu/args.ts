/**
 * A WGSL kernel's arguments, checked the way the JavaScript kernels check
 * theirs: each tensor's dtype, rank and every dimension against the kernel's
 * expected shape, with the kernel's symbolic variables bound from the
 * arguments per `vars[i].from`. Nothing reaches the GPU before this passes.
 */
import { NDArray, type Device } from '../ndarray.ts';
import { evalShapeExpr } from '../shape-expr.ts';
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
  const fail = (problem: string, sep = ':'): never => {
    throw new Error(`kernel ${k.name}${sep} ${problem}`);
  };
  if (args.length !== k.params.length) {
    fail(`takes ${k.params.length} arguments (${k.params.map((p) => p.name).join(', ')}), ${args.length} given`, '');
  }
  const buffers: (GPUBuffer | undefined)[] = [];
  k.params.forEach((p, i) => {
    const a = args[i];
    if (p.kind === 'scalar') {
      if (typeof a !== 'number' && typeof a !== 'boolean') fail(`parameter '${p.name}' must be a number, found ${what(a)}`);
      buffers.push(undefined);
      return;
    }
    if (!(a instanceof NDArray)) return fail(`parameter '${p.name}' must be a tensor, found ${what(a)}`);
    if (a.device !== device) fail(`parameter '${p.name}' is a tensor on ${a.device.name}, not on ${device.name}`);
    if (a.dtype !== p.dtype) fail(`parameter '${p.name}' has dtype ${a.dtype}, expected ${p.dtype}`);
    const s = a.storage as WebGpuStorage;
    if (s.storage !== p.storage) {
      fail(`parameter '${p.name}' (${a.dtype}) is stored as ${s.storage} on ${device.name}, the kernel reads ${p.storage}`);
    }
    if (a.shape.length !== p.shape.length) {
      fail(`parameter '${p.name}' has rank ${a.shape.length} (shape [${a.shape.join(', ')}]), expected rank ${p.shape.length}`);
    }
    if (a.size > I32_MAX) fail(`parameter '${p.name}' has ${a.size} elements; WebGPU kernels index at most ${I32_MAX}`);
    if (s.buffer.size > maxBindingBytes) {
      fail(
        `parameter '${p.name}' takes ${s.buffer.size} bytes, more than ${device.name} binds in one storage buffer ` +
          `(maxStorageBufferBindingSize = ${maxBindingBytes})`,
      );
    }
    buffers.push(s.buffer);
  });

  const names = k.vars.map((v) => v.name);
  const origins: string[] = [];
  const vars = k.vars.map((v) => {
    const a = args[v.from.param]!;
    const p = k.params[v.from.param]!;
    const value = v.from.dim === undefined ? Number(a) : (a as NDArray).shape[v.from.dim]!;
    origins.push(v.from.dim === undefined ? `scalar parameter '${p.name}'` : `parameter '${p.name}' dimension ${v.from.dim}`);
    if (v.type !== 'f32' && !fits(value, v.type)) fail(`${v.name} = ${value} (from ${origins.at(-1)!}) is not a valid ${v.type}`);
    return value;
  });

  k.params.forEach((p, i) => {
    if (p.kind !== 'buffer') return;
    const shape = (args[i] as NDArray).shape;
    p.shape.forEach((e, d) => {
      const expected = evalShapeExpr(e, vars, names);
      const actual = shape[d]!;
      if (expected === actual) return;
      const where = `parameter '${p.name}' dimension ${d} is ${actual} (shape [${shape.join(', ')}])`;
      if (Array.isArray(e) && e[0] === 'v') {
        const slot = (e as readonly ['v', number])[1];
        fail(`${where}, but ${names[slot]} = ${expected} from ${origins[slot]}`);
      }
      fail(`${where}, expected ${expected}`);
    });
  });
  return { vars, buffers };
}

function fits(v: number, type: 'i32' | 'u32'): boolean {
  return Number.isInteger(v) && (type === 'i32' ? v >= -(2 ** 31) && v <= I32_MAX : v >= 0 && v < 2 ** 32);
}

function what(v: unknown): string {
  if (v instanceof NDArray) return `a ${v.dtype} tensor of shape [${v.shape.join(', ')}]`;
  if (typeof v === 'string') return `string '${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${v}`;
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : typeof v;
}
