/**
 * The function registry: any function — a library kernel, a user's gemm, a
 * runtime builtin — is a name plus one calling convention. Arguments are
 * runtime values (NDArray, Shape, numbers, strings, tuples as arrays);
 * destination-passing functions (call_dps_packed) receive their outputs as
 * the last arguments and fill them in.
 */
import type { Value } from './values.ts';

export type PackedFunc = (...args: Value[]) => Value | void | Promise<Value | void>;

export class FunctionRegistry {
  private readonly funcs = new Map<string, PackedFunc>();

  /** A registry whose names not found here are looked up in `parent` (an artifact's backends over the global one). */
  constructor(private readonly parent?: FunctionRegistry) {}

  /** Registers `fn` under `name`; registering a name twice needs `override`. */
  register(name: string, fn: PackedFunc, options: { override?: boolean } = {}): void {
    if (typeof fn !== 'function') throw new TypeError(`registry: '${name}' must be a function`);
    if (this.funcs.has(name) && !options.override) {
      throw new Error(`registry: '${name}' is already registered (pass { override: true } to replace it)`);
    }
    this.funcs.set(name, fn);
  }

  has(name: string): boolean {
    return this.funcs.has(name) || (this.parent?.has(name) ?? false);
  }

  get(name: string): PackedFunc | undefined {
    return this.funcs.get(name) ?? this.parent?.get(name);
  }

  names(): string[] {
    return [...new Set([...this.funcs.keys(), ...(this.parent?.names() ?? [])])].sort();
  }

  /** Calls `name` with `args`; an unknown name is an error that says so. */
  async call(name: string, ...args: Value[]): Promise<Value | void> {
    const fn = this.get(name);
    if (!fn) throw new Error(`registry: no function '${name}' is registered`);
    return fn(...args);
  }
}

/** The registry `load` uses unless given another. */
export const registry = new FunctionRegistry();
