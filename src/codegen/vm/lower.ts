/**
 * Graph functions as a VM program (src/runtime/program.ts): each binding
 * becomes a few instructions over registers; symbolic variables become
 * slots that `match` binds from parameters and match_casts, and shape
 * expressions over them size the outputs the VM allocates.
 *
 * Parameters are matched in two passes: first every dimension that is a
 * variable on its own binds it (or checks it, if bound already), then the
 * dimensions written as expressions of variables bound later are checked.
 */
import type { AttrMap } from '../../ir/attrs.ts';
import { isComposite } from '../../ir/graph/composite.ts';
import type { Constant, Expr, GraphFunc, GraphVar, SeqExpr } from '../../ir/graph/expr.ts';
import { SHAPE_OPS } from '../shape-ops.ts';
import type { StructInfo, TensorStructInfo } from '../../ir/graph/struct-info.ts';
import type { IRModule } from '../../ir/module.ts';
import { type PrimExpr, type PrimVar, primVars } from '../../ir/prim/expr.ts';
import { printStructInfo } from '../../ir/text/printer.ts';
import type { DimPattern, Instr, ParamInfo, Pattern, ShapeExpr, VMFunction, VMProgram } from '../../runtime/program.ts';
import { PROGRAM_VERSION } from '../../runtime/program.ts';
import type { EntryInfo } from '../../runtime/manifest.ts';
import { fail, M } from '../../support/messages.ts';

export interface VMBuild {
  readonly program: VMProgram;
  /** The module's constants, deduplicated by content: the artifact's parameters, by index. */
  readonly constants: readonly Constant[];
  /** Registry functions the program calls. */
  readonly externs: readonly string[];
  /** The graph functions an application may call (those not marked private). */
  readonly entries: readonly string[];
  /** PrimFuncs the program runs. */
  readonly kernels: readonly string[];
}

/** What the manifest says of an entry function: its signature, by the names the application uses. */
export function entryInfo(f: VMFunction): EntryInfo {
  return {
    params: f.params,
    ret: f.ret,
    ...(f.outputs ? { outputs: f.outputs } : {}),
    vars: f.vars,
    ...(f.upper ? { upper: f.upper } : {}),
  };
}

export function buildVMProgram(m: IRModule): VMBuild {
  const shared = new ProgramState(m);
  const functions: Record<string, VMFunction> = {};
  const names = [...m.functions.keys()].sort();
  for (const name of names) {
    const f = m.functions.get(name)!;
    // A composite runs in its backend, through the call_dps_packed that names it.
    if (f.kind === 'func' && !isComposite(f)) functions[name] = new FunctionLowerer(name, f, shared).lower();
  }
  const entries = names.filter((n) => {
    const f = m.functions.get(n)!;
    return f.kind === 'func' && !isComposite(f) && f.attrs.private !== true;
  });
  return {
    program: { version: PROGRAM_VERSION, functions },
    constants: shared.constants,
    externs: [...shared.externs].sort(),
    entries,
    kernels: [...shared.kernels].sort(),
  };
}

class ProgramState {
  readonly constants: Constant[] = [];
  private readonly constantIndex = new Map<string, number>();
  readonly externs = new Set<string>();
  readonly kernels = new Set<string>();

  constructor(readonly module: IRModule) {}

  constant(c: Constant): number {
    const key = `${c.blob.hash}:${c.dtype}:${c.shape.join('x')}`;
    let i = this.constantIndex.get(key);
    if (i === undefined) {
      i = this.constants.length;
      this.constants.push(c);
      this.constantIndex.set(key, i);
    }
    return i;
  }
}

class FunctionLowerer {
  private readonly code: Instr[] = [];
  private registers = 0;
  private readonly regs = new Map<GraphVar, number>();
  private readonly slots = new Map<PrimVar, number>();
  private readonly slotNames: string[] = [];
  private readonly slotVars: PrimVar[] = [];

  constructor(
    private readonly name: string,
    private readonly f: GraphFunc,
    private readonly state: ProgramState,
  ) {}

  lower(): VMFunction {
    const names = this.externalNames();
    this.f.params.forEach((p) => this.regs.set(p, this.registers++));
    const deferred: GraphVar[] = [];
    for (const p of this.f.params) {
      let missed = false;
      const pattern = this.pattern(p.sinfo, true, () => (missed = true));
      this.emit({ op: 'match', src: this.regs.get(p)!, pattern, what: `parameter '${names.get(p)!}'` });
      if (missed) deferred.push(p);
    }
    for (const p of deferred) {
      const pattern = this.pattern(p.sinfo, false, () => {
        const unbound = [...this.varsOf(p.sinfo)].filter((v) => !this.slots.has(v));
        this.fail(
          `symbolic variable${unbound.length > 1 ? 's' : ''} ${unbound.map((v) => `'${v.name}'`).join(', ')} of parameter '${p.name}' ` +
            'cannot be bound: a variable must stand alone as a dimension of some parameter',
        );
      });
      this.emit({ op: 'match', src: this.regs.get(p)!, pattern, what: `parameter '${names.get(p)!}'` });
    }
    // Described while only the parameters' variables have slots: every dim is an expression of them.
    const params = this.f.params.map((p) => this.paramInfo(p, names.get(p)!));
    const result = this.seq(this.f.body);
    this.emit({ op: 'ret', src: result });
    this.markTailCalls();
    const upper = this.upperBounds();
    const outputs = this.stringList('output_names');
    return {
      params,
      ret: printStructInfo(this.f.ret),
      ...(outputs ? { outputs } : {}),
      registers: this.registers,
      vars: this.slotNames,
      ...(upper.some((u) => u !== null) ? { upper } : {}),
      code: this.code,
    };
  }

  /**
   * A call whose result only moves (through if-branch moves and jumps) to a `ret` is in tail
   * position: the VM runs it in the caller's frame, so a loop (a function calling itself last)
   * runs any number of iterations without nesting calls.
   */
  private markTailCalls(): void {
    this.code.forEach((ins, pc) => {
      if (ins.op !== 'call') return;
      let reg = ins.dst;
      for (let at = pc + 1, steps = 0; at < this.code.length && steps < this.code.length; steps++) {
        const next = this.code[at]!;
        if (next.op === 'move' && next.src === reg) {
          reg = next.dst;
          at++;
        } else if (next.op === 'jump') at = next.to;
        else {
          if (next.op === 'ret' && next.src === reg) this.code[pc] = { ...ins, tail: true };
          return;
        }
      }
    });
  }

  /**
   * Each parameter's name at the artifact's boundary: the model's own (`input_names`, which an
   * importer records when IR identifiers cannot spell them, such as ONNX's `gpu_0/data_0`), else
   * the parameter's.
   */
  private externalNames(): Map<GraphVar, string> {
    const given = this.stringList('input_names');
    if (given && given.length !== this.f.params.length) {
      this.fail(`attribute input_names lists ${given.length} names for ${this.f.params.length} parameters`);
    }
    return new Map(this.f.params.map((p, i) => [p, given?.[i] ?? p.name]));
  }

  private stringList(attr: string): string[] | undefined {
    const v = this.f.attrs[attr];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      return this.fail(`attribute ${attr} must be a list of strings, found ${JSON.stringify(v)}`);
    }
    return v;
  }

  /** Per slot, the upper bound the function declares for its variable (`tir_var_upper_bound`), or null. */
  private upperBounds(): (number | null)[] {
    const declared = this.f.attrs.tir_var_upper_bound;
    const bounds: AttrMap =
      declared !== null && typeof declared === 'object' && !Array.isArray(declared) ? (declared as AttrMap) : {};
    return this.slotVars.map((v) => {
      const b = Object.hasOwn(bounds, v.name) ? bounds[v.name] : undefined;
      if (b === undefined) return null;
      if (typeof b !== 'number' || !Number.isSafeInteger(b) || b < 0) {
        return this.fail(`tir_var_upper_bound of '${v.name}' must be a non-negative integer, found ${JSON.stringify(b)}`);
      }
      return b;
    });
  }

  private paramInfo(p: GraphVar, name: string): ParamInfo {
    const s = p.sinfo;
    const info: ParamInfo = { name, type: printStructInfo(s) };
    if (s.kind !== 'tensor' || s.ndim < 0) return info;
    return { ...info, tensor: { dtype: s.dtype, ...(s.shape ? { dims: s.shape.map((d) => this.shapeExpr(d)) } : {}) } };
  }

  private fail(problem: string): never {
    return fail(M.vmLowering, { func: this.name, problem });
  }

  private emit(i: Instr): number {
    this.code.push(i);
    return this.code.length - 1;
  }

  private reg(): number {
    return this.registers++;
  }

  private varsOf(s: StructInfo): Set<PrimVar> {
    const out = new Set<PrimVar>();
    const scan = (x: StructInfo): void => {
      if (x.kind === 'tensor') x.shape?.forEach((d) => primVars(d, out));
      else if (x.kind === 'shape') x.values?.forEach((d) => primVars(d, out));
      else if (x.kind === 'prim' && x.value) primVars(x.value, out);
      else if (x.kind === 'tuple') x.fields.forEach(scan);
    };
    scan(s);
    return out;
  }

  // --- patterns and shape expressions ---------------------------------------------------

  /** `missed` is called for a dimension that cannot be checked yet (its variables are not bound). */
  private pattern(s: StructInfo, allowBind: boolean, missed: () => void): Pattern {
    const dim = (e: PrimExpr): DimPattern => {
      if (e.kind === 'var' && !this.slots.has(e)) {
        if (!allowBind) {
          missed();
          return null;
        }
        return { bind: this.slot(e) };
      }
      if ([...primVars(e)].some((v) => !this.slots.has(v))) {
        missed();
        return null;
      }
      return { eq: this.shapeExpr(e) };
    };
    switch (s.kind) {
      case 'tensor':
        return { k: 'tensor', dtype: s.dtype, ndim: s.ndim, ...(s.shape ? { dims: s.shape.map(dim) } : {}) };
      case 'shape':
        return { k: 'shape', ndim: s.ndim, ...(s.values ? { dims: s.values.map(dim) } : {}) };
      case 'prim':
        return { k: 'prim', dtype: s.dtype, ...(s.value ? { value: dim(s.value) } : {}) };
      case 'tuple':
        return { k: 'tuple', fields: s.fields.map((x) => this.pattern(x, allowBind, missed)) };
      case 'object':
      case 'func':
        return { k: 'any' };
    }
  }

  private slot(v: PrimVar): number {
    const i = this.slotNames.length;
    this.slots.set(v, i);
    this.slotNames.push(v.name);
    this.slotVars.push(v);
    return i;
  }

  private shapeExpr(e: PrimExpr): ShapeExpr {
    switch (e.kind) {
      case 'int':
      case 'float':
        return e.value;
      case 'bool':
        return e.value;
      case 'var': {
        const s = this.slots.get(e);
        if (s === undefined) this.fail(`symbolic variable '${e.name}' is used before anything binds it`);
        return ['v', s];
      }
      case 'binary': {
        const op = SHAPE_OPS[e.op];
        if (!op) return this.fail(`the shape expression operator ${e.op} is not supported by the VM`);
        return [op, this.shapeExpr(e.a), this.shapeExpr(e.b)];
      }
      case 'not':
        return ['not', this.shapeExpr(e.a)];
      case 'select':
        return ['select', this.shapeExpr(e.cond), this.shapeExpr(e.t), this.shapeExpr(e.f)];
      case 'cast':
        if (e.dtype === 'bool') return ['ne', this.shapeExpr(e.value), 0];
        return e.dtype.startsWith('float') ? ['float', this.shapeExpr(e.value)] : ['int', this.shapeExpr(e.value)];
      case 'call':
      case 'load':
        return this.fail(`a shape expression cannot contain ${e.kind === 'call' ? `a call of ${e.op}` : 'a buffer load'}`);
    }
  }

  // --- graph expressions ---------------------------------------------------------------

  private seq(s: SeqExpr): number {
    for (const blk of s.blocks) {
      for (const b of blk.bindings) {
        const where = `binding '${b.var.name}'`;
        const r = this.value(b.value, where);
        if (b.kind === 'match_cast') {
          const pattern = this.pattern(b.var.sinfo, true, () =>
            this.fail(`the match_cast of '${b.var.name}' uses a symbolic variable before anything binds it`),
          );
          this.emit({ op: 'match', src: r, pattern, what: `the match_cast of '${b.var.name}'` });
        }
        this.regs.set(b.var, r);
      }
    }
    return this.value(s.body, 'the result');
  }

  private value(e: Expr, where: string): number {
    switch (e.kind) {
      case 'graph_var': {
        const r = this.regs.get(e);
        if (r === undefined) return this.fail(`${where} uses '${e.name}' before it is defined`);
        return r;
      }
      case 'constant': {
        const dst = this.reg();
        this.emit({ op: 'const', dst, index: this.state.constant(e) });
        return dst;
      }
      case 'tuple': {
        const fields = e.fields.map((x) => this.value(x, where));
        const dst = this.reg();
        this.emit({ op: 'tuple', dst, fields });
        return dst;
      }
      case 'tuple_get': {
        const src = this.value(e.tuple, where);
        const dst = this.reg();
        this.emit({ op: 'get', dst, src, index: e.index });
        return dst;
      }
      case 'shape': {
        const dst = this.reg();
        this.emit({ op: 'shape', dst, dims: e.values.map((v) => this.shapeExpr(v)) });
        return dst;
      }
      case 'prim_value': {
        const dst = this.reg();
        this.emit({ op: 'prim', dst, value: this.shapeExpr(e.value), dtype: e.value.dtype });
        return dst;
      }
      case 'string': {
        const dst = this.reg();
        this.emit({ op: 'string', dst, value: e.value });
        return dst;
      }
      case 'call': {
        if (e.op === 'alloc_storage' || e.op === 'alloc_tensor') return this.planned(e, where);
        if (e.op !== 'shape_of') {
          return this.fail(`${where} still calls operator '${e.op}'; legalize the module before building it`);
        }
        const src = this.value(e.args[0]!, where);
        const dst = this.reg();
        this.emit({ op: 'shape_of', dst, src });
        return dst;
      }
      case 'call_tir': {
        const callee = this.state.module.functions.get(e.func);
        if (callee?.kind !== 'prim_func') return this.fail(`${where}: call_tir of '${e.func}', which is not a prim_func`);
        this.state.kernels.add(e.func);
        const args = e.args.map((a) => this.value(a, where));
        // A planned output (plan-memory) is written where its dst lies; otherwise the VM allocates it.
        const { outs, result } = e.dst
          ? { outs: [this.value(e.dst, where)], result: this.value(e.dst, where) }
          : this.outputs(e.out, where);
        const scalars = e.tirVars?.values.map((v) => this.shapeExpr(v)) ?? [];
        this.emit({ op: 'kernel', kernel: e.func, args: [...args, ...outs], scalars });
        return result;
      }
      case 'call_dps_packed': {
        this.state.externs.add(e.func);
        const args = e.args.map((a) => this.value(a, where));
        const { outs, result } = this.outputs(e.out, where);
        this.emit({ op: 'packed', func: e.func, args: [...args, ...outs] });
        return result;
      }
      case 'call_global': {
        const callee = this.state.module.functions.get(e.func);
        const args = e.args.map((a) => this.value(a, where));
        const dst = this.reg();
        if (callee?.kind === 'func') this.emit({ op: 'call', dst, func: e.func, args });
        else if (callee?.kind === 'extern_func') {
          this.state.externs.add(callee.symbol);
          this.emit({ op: 'extern', dst, func: callee.symbol, args });
        } else return this.fail(`${where} calls '@${e.func}', which is not a graph or extern function of the module`);
        return dst;
      }
      case 'if': {
        const cond = this.value(e.cond, where);
        const dst = this.reg();
        const branch = this.emit({ op: 'branch', cond, else: -1 });
        this.emit({ op: 'move', dst, src: this.seq(e.then) });
        const jump = this.emit({ op: 'jump', to: -1 });
        this.code[branch] = { op: 'branch', cond, else: this.code.length };
        this.emit({ op: 'move', dst, src: this.seq(e.else) });
        this.code[jump] = { op: 'jump', to: this.code.length };
        return dst;
      }
    }
  }

  /** alloc_storage / alloc_tensor of a memory plan: an arena, and views into it. */
  private planned(e: Expr & { kind: 'call' }, where: string): number {
    const shapeArg = (a: Expr | undefined): readonly PrimExpr[] =>
      a?.kind === 'shape' ? a.values : this.fail(`${where}: ${e.op} needs a shape(...) literal`);
    const dst = this.reg();
    if (e.op === 'alloc_storage') {
      this.emit({ op: 'storage', dst, bytes: this.shapeExpr(shapeArg(e.args[0])[0]!) });
      return dst;
    }
    const src = this.value(e.args[0]!, where);
    const offset = e.args[1];
    if (offset?.kind !== 'prim_value') return this.fail(`${where}: alloc_tensor needs its offset as prim(...)`);
    const dtype = typeof e.attrs.dtype === 'string' ? e.attrs.dtype : 'float32';
    const shape = shapeArg(e.args[2]).map((d) => this.shapeExpr(d));
    this.emit({ op: 'view', dst, src, offset: this.shapeExpr(offset.value), dtype, shape });
    return dst;
  }

  /** Allocates the outputs of a destination-passing call; the result is one tensor or their tuple. */
  private outputs(
    out: TensorStructInfo | { kind: 'tuple'; fields: readonly StructInfo[] },
    where: string,
  ): { outs: number[]; result: number } {
    const fields = out.kind === 'tuple' ? out.fields : [out];
    const outs = fields.map((s, i) => {
      if (s.kind !== 'tensor' || !s.shape) {
        return this.fail(`${where}: output ${i} (${printStructInfo(s)}) needs a known shape to be allocated`);
      }
      const dst = this.reg();
      this.emit({ op: 'alloc', dst, dtype: s.dtype, shape: s.shape.map((d) => this.shapeExpr(d)) });
      return dst;
    });
    if (out.kind !== 'tuple') return { outs, result: outs[0]! };
    const result = this.reg();
    this.emit({ op: 'tuple', dst: result, fields: outs });
    return { outs, result };
  }
}
