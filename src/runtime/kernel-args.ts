/**
 * A compiled kernel's arguments, checked the way the JavaScript kernels check
 * theirs: each tensor's device, dtype, rank and every dimension against the
 * kernel's expected shape, with the kernel's symbolic variables bound from
 * the arguments. What the WGSL and WebAssembly kernels share; nothing runs
 * before this passes.
 */
import { NDArray, type Device } from './ndarray.ts';
import type { ShapeExpr } from './program.ts';
import { evalShapeExpr } from './shape-expr.ts';

/** What a kernel format says of its arguments. */
export interface KernelArgSpec {
  readonly name: string;
  /** Read from dimension `dim` of buffer parameter `param`, or (no dim) the value of scalar parameter `param`. */
  readonly vars: readonly { readonly name: string; readonly from: { readonly param: number; readonly dim?: number } }[];
  readonly params: readonly (
    | { readonly kind: 'buffer'; readonly name: string; readonly dtype: string; readonly shape: readonly ShapeExpr[] }
    | { readonly kind: 'scalar'; readonly name: string }
  )[];
}

export type Fail = (problem: string) => never;

export interface ArgChecks {
  /** More checks of a tensor argument of the right device and dtype (storage, size limits). */
  tensor?(param: number, a: NDArray, fail: Fail): void;
  /** Checks a variable's value (the type it is passed as); `origin` says where it came from. */
  variable?(slot: number, value: number, origin: string, fail: Fail): void;
}

/** Checks `args` against `k`; returns the value of each of its vars. */
export function bindKernelArgs(
  k: KernelArgSpec,
  args: readonly (NDArray | number | boolean)[],
  device: Device,
  checks: ArgChecks = {},
): number[] {
  const fail = (problem: string, sep = ':'): never => {
    throw new Error(`kernel ${k.name}${sep} ${problem}`);
  };
  if (args.length !== k.params.length) {
    fail(`takes ${k.params.length} arguments (${k.params.map((p) => p.name).join(', ')}), ${args.length} given`, '');
  }
  k.params.forEach((p, i) => {
    const a = args[i];
    if (p.kind === 'scalar') {
      if (typeof a !== 'number' && typeof a !== 'boolean') fail(`parameter '${p.name}' must be a number, found ${what(a)}`);
      return;
    }
    if (!(a instanceof NDArray)) return fail(`parameter '${p.name}' must be a tensor, found ${what(a)}`);
    if (a.device !== device) fail(`parameter '${p.name}' is a tensor on ${a.device.name}, not on ${device.name}`);
    if (a.dtype !== p.dtype) fail(`parameter '${p.name}' has dtype ${a.dtype}, expected ${p.dtype}`);
    if (a.shape.length !== p.shape.length) {
      fail(`parameter '${p.name}' has rank ${a.shape.length} (shape [${a.shape.join(', ')}]), expected rank ${p.shape.length}`);
    }
    checks.tensor?.(i, a, fail);
  });

  const names = k.vars.map((v) => v.name);
  const origins: string[] = [];
  const vars = k.vars.map((v, slot) => {
    const a = args[v.from.param]!;
    const p = k.params[v.from.param]!;
    const value = v.from.dim === undefined ? Number(a) : (a as NDArray).shape[v.from.dim]!;
    origins.push(v.from.dim === undefined ? `scalar parameter '${p.name}'` : `parameter '${p.name}' dimension ${v.from.dim}`);
    checks.variable?.(slot, value, origins[slot]!, fail);
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
  return vars;
}

function what(v: unknown): string {
  if (v instanceof NDArray) return `a ${v.dtype} tensor of shape [${v.shape.join(', ')}]`;
  if (typeof v === 'string') return `string '${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${v}`;
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : typeof v;
}
