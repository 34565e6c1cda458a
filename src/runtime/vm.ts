/**
 * The virtual machine: runs the functions of a VM program. At each call it
 * binds the symbolic variables from the actual inputs and checks every
 * constraint (a wrong rank, dtype or inconsistent dimension is an error that
 * names the function, the parameter, the dimension and both values), then
 * allocates outputs and calls kernels and registry functions.
 */
import { NDArray, type Device } from './ndarray.ts';
import type { DimPattern, Instr, Pattern, VMFunction, VMProgram } from './program.ts';
import type { FunctionRegistry } from './registry.ts';
import { evalShapeExpr } from './shape-expr.ts';
import { Shape, type Value } from './values.ts';
import { isDType, type DType } from './dtype.ts';
import { CALL_CODES, CallError } from './errors.ts';

/** A compiled kernel: tensors and scalars in the order of its parameters. */
export type Kernel = (args: readonly (NDArray | number)[]) => void | Promise<void>;

export interface VMOptions {
  readonly device: Device;
  readonly kernels: ReadonlyMap<string, Kernel>;
  readonly registry: FunctionRegistry;
  /** The artifact's parameters (the module's constants), on `device`. */
  readonly params: readonly NDArray[];
}

export { CallError };

const MAX_DEPTH = 1000;

/** Receives each kernel launch's time, in milliseconds (on a GPU, until the GPU finished it). */
export type KernelTimer = (kernel: string, ms: number) => void;

export class VirtualMachine {
  /** Set while a profiled call runs: each kernel is then timed, and waited for on devices that queue work. */
  private timer: KernelTimer | undefined;

  constructor(
    readonly program: VMProgram,
    private readonly options: VMOptions,
  ) {}

  /** As `call`, with every kernel launch timed; slower than `call` on a GPU, which must finish each kernel first. */
  async profile(name: string, args: readonly Value[], timer: KernelTimer): Promise<Value> {
    this.timer = timer;
    try {
      return await this.call(name, args);
    } finally {
      this.timer = undefined;
    }
  }

  /** Calls function `name` with `args`. */
  async call(name: string, args: readonly Value[]): Promise<Value> {
    const f = this.program.functions[name];
    if (!f) throw new CallError(`no function '${name}'; the functions are ${Object.keys(this.program.functions).join(', ')}`);
    if (args.length !== f.params.length) {
      throw new CallError(
        `${name} takes ${f.params.length} argument${f.params.length === 1 ? '' : 's'} (${f.params.map((p) => p.name).join(', ')}), ${args.length} given`,
      );
    }
    const placed = await Promise.all(args.map((a) => this.onDevice(a)));
    const device = this.options.device;
    if (!device.free) return this.run(name, f, placed, 0);
    // A device that manages its memory itself (WebAssembly memory) gets back, when the call ends,
    // what the call allocated (inputs it copied included) and does not return.
    const owned: NDArray[] = [];
    collectCopies(args, placed, owned);
    try {
      const result = await this.run(name, f, placed, 0, owned);
      // Results the call allocated move to the host (copied, their device bytes freed): left in device
      // memory until the collector runs, they would make each call allocate fresh memory. They move
      // before the rest is freed, since a result may lie in an arena of the memory plan.
      const takeOut = device.takeOut?.bind(device);
      const mine = new Set(owned);
      const moved = new Map<NDArray, NDArray>();
      const out = takeOut
        ? mapTensors(result, (t) => {
            if (!mine.has(t)) return t;
            let m = moved.get(t);
            if (!m) moved.set(t, (m = takeOut(t)));
            return m;
          })
        : result;
      const kept = new Set<NDArray>();
      collectTensors(out, kept);
      for (const t of owned) if (!kept.has(t) && !moved.has(t)) device.free(t);
      return out;
    } catch (e) {
      for (const t of owned) device.free(t);
      throw e;
    }
  }

  /** Tensors given on another device are copied to the VM's. */
  private async onDevice(v: Value): Promise<Value> {
    if (v instanceof NDArray) return v.device === this.options.device ? v : this.options.device.upload(await v.toCpu());
    if (Array.isArray(v)) return Promise.all((v as readonly Value[]).map((x) => this.onDevice(x)));
    return v;
  }

  private async run(name: string, f: VMFunction, args: readonly Value[], depth: number, owned?: NDArray[]): Promise<Value> {
    if (depth > MAX_DEPTH) throw new Error(`${name}: calls nested more than ${MAX_DEPTH} deep`);
    let regs: Value[] = new Array<Value>(f.registers);
    args.forEach((a, i) => (regs[i] = a));
    let frame = new Frame(name, f);
    let code = f.code;
    let pc = 0;
    for (;;) {
      const ins: Instr = code[pc++]!;
      switch (ins.op) {
        case 'match':
          frame.match(regs[ins.src]!, ins.pattern, ins.what);
          break;
        case 'alloc': {
          const t = this.options.device.empty(
            ins.shape.map((e) => frame.eval(e)),
            ins.dtype as DType,
          );
          owned?.push(t);
          regs[ins.dst] = t;
          break;
        }
        case 'kernel': {
          const k = this.options.kernels.get(ins.kernel);
          if (!k) throw new Error(`${name}: kernel '${ins.kernel}' is missing from the artifact`);
          const kargs: (NDArray | number)[] = ins.args.map((r) => regs[r] as NDArray | number);
          for (const s of ins.scalars) kargs.push(frame.eval(s));
          const timer = this.timer;
          const t0 = timer ? performance.now() : 0;
          const done = k(kargs);
          if (done) await done;
          if (timer) {
            await (this.options.device as { sync?: () => Promise<void> }).sync?.();
            timer(ins.kernel, performance.now() - t0);
          }
          break;
        }
        case 'packed': {
          const fn = this.options.registry.get(ins.func);
          if (!fn) throw new Error(`${name}: registry function '${ins.func}' is not registered`);
          const done = fn(...ins.args.map((r) => regs[r]!));
          if (done instanceof Promise) await done;
          break;
        }
        case 'extern': {
          const fn = this.options.registry.get(ins.func);
          if (!fn) throw new Error(`${name}: registry function '${ins.func}' is not registered`);
          const fargs = ins.args.map((x) => regs[x]!);
          const r = fn(...fargs);
          const result = (r instanceof Promise ? await r : r) ?? null!;
          // Tensors the function made (not its arguments) are this call's to free, as allocations are.
          if (owned) {
            const made = new Set<NDArray>();
            collectTensors(result, made);
            const given = new Set<NDArray>();
            collectTensors(fargs, given);
            for (const t of made) if (!given.has(t) && t.device === this.options.device) owned.push(t);
          }
          regs[ins.dst] = result;
          break;
        }
        case 'call': {
          const callee = this.program.functions[ins.func];
          if (!callee) throw new Error(`${name}: calls '${ins.func}', which the program lacks`);
          if (ins.tail) {
            // A call in tail position replaces this frame: a loop runs without nesting calls.
            const tailArgs = ins.args.map((r) => regs[r]!);
            name = ins.func;
            regs = new Array<Value>(callee.registers);
            tailArgs.forEach((a, i) => (regs[i] = a));
            frame = new Frame(name, callee);
            code = callee.code;
            pc = 0;
            break;
          }
          regs[ins.dst] = await this.run(
            ins.func,
            callee,
            ins.args.map((r) => regs[r]!),
            depth + 1,
            owned,
          );
          break;
        }
        case 'tuple':
          regs[ins.dst] = ins.fields.map((r) => regs[r]!);
          break;
        case 'get':
          regs[ins.dst] = (regs[ins.src] as readonly Value[])[ins.index]!;
          break;
        case 'shape':
          regs[ins.dst] = new Shape(ins.dims.map((e) => frame.eval(e)));
          break;
        case 'shape_of':
          regs[ins.dst] = new Shape((regs[ins.src] as NDArray).shape);
          break;
        case 'storage': {
          const device = this.options.device;
          const bytes = frame.eval(ins.bytes);
          // Without views the tensors are allocated one by one: the arena would only take memory.
          const t = device.view ? (device.arena ? device.arena(bytes) : device.empty([bytes], 'uint8')) : new Shape([bytes]);
          if (t instanceof NDArray) owned?.push(t);
          regs[ins.dst] = t;
          break;
        }
        case 'view': {
          const device = this.options.device;
          const shape = ins.shape.map((e) => frame.eval(e));
          const arena = regs[ins.src] as NDArray;
          // A device that cannot place tensors inside an arena allocates each one (as without a plan).
          const t = device.view
            ? device.view(arena, frame.eval(ins.offset), shape, ins.dtype as DType)
            : device.empty(shape, ins.dtype as DType);
          // A view frees nothing, but a result placed in an arena must still move out before the arena is freed.
          owned?.push(t);
          regs[ins.dst] = t;
          break;
        }
        case 'prim':
          regs[ins.dst] = ins.dtype === 'bool' ? frame.eval(ins.value) !== 0 : frame.eval(ins.value);
          break;
        case 'string':
          regs[ins.dst] = ins.value;
          break;
        case 'const': {
          const p = this.options.params[ins.index];
          if (!p) throw new Error(`${name}: parameter ${ins.index} is missing from the artifact`);
          regs[ins.dst] = p;
          break;
        }
        case 'move':
          regs[ins.dst] = regs[ins.src]!;
          break;
        case 'branch':
          if (!(await truthy(regs[ins.cond]!))) pc = ins.else;
          break;
        case 'jump':
          pc = ins.to;
          break;
        case 'ret':
          return regs[ins.src]!;
      }
    }
  }
}

async function truthy(v: Value): Promise<boolean> {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof NDArray) {
    const c = await v.toCpu();
    if (c.size !== 1)
      throw new CallError(`the condition of an if must be a scalar, found a tensor of shape [${c.shape.join(', ')}]`);
    return Number(c.data[0]) !== 0;
  }
  throw new CallError(`the condition of an if must be a bool, found ${describe(v)}`);
}

/** The symbolic variables of one call, with where each was bound (for messages). */
class Frame {
  private readonly vars: (number | undefined)[];
  private readonly origins: (string | undefined)[];

  constructor(
    private readonly fname: string,
    private readonly f: VMFunction,
  ) {
    this.vars = new Array<number | undefined>(f.vars.length);
    this.origins = new Array<string | undefined>(f.vars.length);
  }

  eval(e: Parameters<typeof evalShapeExpr>[0]): number {
    return evalShapeExpr(e, this.vars, this.f.vars);
  }

  match(v: Value, p: Pattern, what: string): void {
    const fail = (problem: string): never => {
      throw new CallError(`${this.fname}: ${what} ${problem}`);
    };
    switch (p.k) {
      case 'any':
        return;
      case 'tensor': {
        if (!(v instanceof NDArray)) return fail(`must be a tensor, found ${describe(v)}`);
        if (p.dtype !== undefined && v.dtype !== p.dtype) return fail(`has dtype ${v.dtype}, expected ${p.dtype}`);
        if (p.ndim >= 0 && v.shape.length !== p.ndim) {
          return fail(`has rank ${v.shape.length} (shape [${v.shape.join(', ')}]), expected rank ${p.ndim}`);
        }
        p.dims?.forEach((d, i) => this.dim(d, v.shape[i]!, `${what} dimension ${i}`, `shape [${v.shape.join(', ')}]`));
        return;
      }
      case 'shape': {
        if (!(v instanceof Shape)) return fail(`must be a shape, found ${describe(v)}`);
        if (p.ndim >= 0 && v.dims.length !== p.ndim) return fail(`has ${v.dims.length} values, expected ${p.ndim}`);
        p.dims?.forEach((d, i) => this.dim(d, v.dims[i]!, `${what} value ${i}`, `shape (${v.dims.join(', ')})`));
        return;
      }
      case 'prim': {
        if (typeof v === 'boolean' && p.dtype === 'bool') return;
        if (typeof v !== 'number') return fail(`must be a ${p.dtype} number, found ${describe(v)}`);
        if (p.dtype !== 'bool' && isDType(p.dtype) && !p.dtype.startsWith('float') && !Number.isInteger(v)) {
          return fail(`must be an integer (${p.dtype}), found ${v}`);
        }
        if (p.value) this.dim(p.value, v, what, '');
        return;
      }
      case 'tuple': {
        if (!Array.isArray(v)) return fail(`must be a tuple (an array), found ${describe(v)}`);
        const t = v as readonly Value[];
        if (t.length !== p.fields.length) return fail(`has ${t.length} fields, expected ${p.fields.length}`);
        p.fields.forEach((fp, i) => this.match(t[i]!, fp, `${what} field ${i}`));
        return;
      }
    }
  }

  private dim(d: DimPattern, actual: number, where: string, whole: string): void {
    if (d === null) return;
    const of = whole ? ` (${whole})` : '';
    if ('bind' in d) {
      const upper = this.f.upper?.[d.bind];
      if (upper !== undefined && upper !== null && actual > upper) {
        const name = this.f.vars[d.bind];
        throw new CallError(
          `${this.fname}: ${where} is ${actual}${of}, above the upper bound of ${name}: ${name} <= ${upper}`,
          CALL_CODES.aboveBound,
        );
      }
      this.vars[d.bind] = actual;
      this.origins[d.bind] = where;
      return;
    }
    const expected = this.eval(d.eq);
    if (expected === actual) return;
    const e = d.eq;
    if (Array.isArray(e) && e[0] === 'v') {
      const slot = e[1] as number;
      throw new CallError(
        `${this.fname}: ${where} is ${actual}${of}, but ${this.f.vars[slot]} = ${expected} from ${this.origins[slot] ?? 'an earlier binding'}`,
      );
    }
    throw new CallError(`${this.fname}: ${where} is ${actual}${of}, expected ${expected}`);
  }
}

export function describe(v: Value): string {
  if (v instanceof NDArray) return `a ${v.dtype} tensor of shape [${v.shape.join(', ')}]`;
  if (v instanceof Shape) return `shape (${v.dims.join(', ')})`;
  if (Array.isArray(v)) return `a tuple of ${v.length}`;
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an object (${v.constructor?.name ?? 'Object'})`;
  return `${typeof v} ${String(v)}`;
}

/** The tensors `placed` holds that are copies of what `given` held (inputs uploaded to the device). */
function collectCopies(given: readonly Value[], placed: readonly Value[], into: NDArray[]): void {
  placed.forEach((p, i) => {
    const g = given[i];
    if (p instanceof NDArray && p !== g) into.push(p);
    else if (Array.isArray(p) && Array.isArray(g)) collectCopies(g as readonly Value[], p as readonly Value[], into);
  });
}

function mapTensors(v: Value, f: (t: NDArray) => NDArray): Value {
  if (v instanceof NDArray) return f(v);
  if (Array.isArray(v)) return (v as readonly Value[]).map((x) => mapTensors(x, f));
  return v;
}

function collectTensors(v: Value, into: Set<NDArray>): void {
  if (v instanceof NDArray) into.add(v);
  else if (Array.isArray(v)) for (const x of v as readonly Value[]) collectTensors(x, into);
}
