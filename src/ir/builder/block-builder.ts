/**
 * The block builder: emits graph bindings with inferred struct info into
 * graph functions of a module, in A-normal form, and adds PrimFuncs shared by
 * structural equality (two identical kernels become one).
 */
import { fail, M } from '../../support/messages.ts';
import { Analyzer } from '../arith/analyzer.ts';
import { type AttrMap, NO_ATTRS } from '../attrs.ts';
import {
  type Binding,
  bindingBlock,
  type BindingBlock,
  type Expr,
  type ExternFunc,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  graphVar,
  type SeqExpr,
  intrinsicSinfo,
  isLeaf,
  matchCast,
  seqExpr,
  tuple,
  varBinding,
} from '../graph/expr.ts';
import {
  mapStructInfoExprs,
  primSI,
  shapeSI,
  type StructInfo,
  tensorSI,
  tupleSI,
  visitStructInfoExprs,
} from '../graph/struct-info.ts';
import { irModule, type IRModule, type ModuleFunction } from '../module.ts';
import { type PrimExpr, type PrimVar, primVars, substitute } from '../prim/expr.ts';
import { structuralHash } from '../structural.ts';
import type { PrimFunc } from '../tir/stmt.ts';
import type { OpHooks } from '../graph/op-hooks.ts';

/** Operator inference and attribute defaults come from src/ops (`opHooks`). */
export interface BlockBuilderOptions extends OpHooks {
  /** A module to extend. */
  readonly module?: IRModule;
}

interface FrameState {
  blocks: BindingBlock[];
  current: Binding[];
  dataflow: boolean;
  names: Set<string>;
  /** The next suffix to try per hint, so naming stays linear in the number of bindings. */
  next: Map<string, number>;
}

export class BlockBuilder {
  private readonly functions = new Map<string, ModuleFunction>();
  private readonly primByHash = new Map<string, string>();
  private readonly attrs: AttrMap;
  private frame: FrameState | undefined;

  constructor(private readonly options: BlockBuilderOptions = {}) {
    for (const [name, f] of options.module?.functions ?? []) {
      this.functions.set(name, f);
      if (f.kind === 'prim_func') this.primByHash.set(structuralHash(f), name);
    }
    this.attrs = options.module?.attrs ?? NO_ATTRS;
  }

  // --- module level ---------------------------------------------------------------------

  /**
   * Adds a PrimFunc under a fresh name derived from `hint`; a PrimFunc equal
   * to one already in the module is not added again, its name is returned.
   */
  addPrimFunc(f: PrimFunc, hint: string): string {
    const h = structuralHash(f);
    const existing = this.primByHash.get(h);
    if (existing) return existing;
    const name = this.freshGlobal(hint);
    this.functions.set(name, f);
    this.primByHash.set(h, name);
    return name;
  }

  /**
   * Adds an extern function under a fresh name derived from `hint`; one equal
   * to an extern function already in the module is not added again.
   */
  addExternFunc(f: ExternFunc, hint: string): string {
    const h = structuralHash(f);
    for (const [name, g] of this.functions) if (g.kind === 'extern_func' && structuralHash(g) === h) return name;
    const name = this.freshGlobal(hint);
    this.functions.set(name, f);
    return name;
  }

  /** Adds or replaces a function under exactly this name. */
  setFunction(name: string, f: ModuleFunction): void {
    // The function replaced is gone: addPrimFunc must not hand out its name for it any more.
    for (const [h, n] of this.primByHash) if (n === name) this.primByHash.delete(h);
    this.functions.set(name, f);
    if (f.kind === 'prim_func') this.primByHash.set(structuralHash(f), name);
  }

  freshGlobal(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_') || 'f';
    let name = base;
    for (let i = 1; this.functions.has(name); i++) name = `${base}${i}`;
    return name;
  }

  getModule(): IRModule {
    if (this.frame) fail(M.irConstruction, { what: 'block builder', problem: 'a function is still being built' });
    return irModule(this.functions, this.attrs);
  }

  // --- functions -----------------------------------------------------------------------

  /**
   * Builds graph function `name` over `params`: `body` emits bindings and
   * returns the result. The return type is the result's struct info unless given.
   */
  function(
    name: string,
    params: readonly GraphVar[],
    body: () => Expr,
    options: { attrs?: AttrMap; ret?: StructInfo } = {},
  ): GraphFunc {
    // A function built while another is (a loop body the importer makes) leaves the outer one as it was.
    const outer = this.frame;
    this.frame = { blocks: [], current: [], dataflow: false, names: new Set(params.map((p) => p.name)), next: new Map() };
    let result: Expr;
    try {
      result = this.leaf(body(), 'gv');
    } catch (e) {
      this.frame = outer;
      throw e;
    }
    this.flush();
    const blocks = this.frame.blocks;
    this.frame = outer;
    const inferred = intrinsicSinfo(result);
    if (!options.ret && !inferred)
      fail(M.irConstruction, { what: `function ${name}`, problem: 'the return type cannot be inferred; pass options.ret' });
    // Callers know only the symbolic variables of the parameters; one a match_cast
    // defines inside is unknown to them, so the inferred type keeps less there.
    const ret = options.ret ?? substituteOrErase(inferred!, paramVars(params));
    const f = graphFunc(params, seqExpr(blocks, result), ret, options.attrs ?? NO_ATTRS);
    this.functions.set(name, f);
    return f;
  }

  /**
   * Runs `body` inside a dataflow block. Values that leave the block must be
   * emitted with `emitOutput`.
   */
  dataflow<T>(body: () => T): T {
    const frame = this.requireFrame();
    if (frame.dataflow) fail(M.irConstruction, { what: 'block builder', problem: 'dataflow blocks cannot be nested' });
    this.flush();
    frame.dataflow = true;
    try {
      return body();
    } finally {
      this.flush();
      frame.dataflow = false;
    }
  }

  /**
   * Builds a nested sequence (a branch of an `if`): `body` emits into a scope of its
   * own, whose bindings end up in the returned SeqExpr, not in the enclosing block.
   * Names stay unique across the whole function, so a branch never shadows.
   */
  scope(body: () => Expr): SeqExpr {
    const outer = this.requireFrame();
    if (outer.dataflow) fail(M.irConstruction, { what: 'block builder', problem: 'an if cannot be built in a dataflow block' });
    this.frame = { blocks: [], current: [], dataflow: false, names: outer.names, next: outer.next };
    try {
      const result = this.leaf(body(), 'lv');
      this.flush();
      return seqExpr(this.frame.blocks, result);
    } finally {
      this.frame = outer;
    }
  }

  /** Binds `value` to a new variable (a dataflow variable inside a dataflow block). */
  emit(value: Expr, nameHint = 'lv', sinfo?: StructInfo): GraphVar {
    return this.bind(value, nameHint, sinfo, this.requireFrame().dataflow);
  }

  /** Binds `value` to a variable that may be used after the current dataflow block. */
  emitOutput(value: Expr, nameHint = 'gv', sinfo?: StructInfo): GraphVar {
    if (!this.requireFrame().dataflow) {
      fail(M.irConstruction, {
        what: 'block builder',
        problem: 'emitOutput is for values leaving a dataflow block; outside one, use emit',
      });
    }
    return this.bind(value, nameHint, sinfo, false);
  }

  /** Binds `value` checked against `sinfo` at run time; new symbolic variables in `sinfo` are defined here. */
  matchCast(value: Expr, sinfo: StructInfo, nameHint = 'lv'): GraphVar {
    const frame = this.requireFrame();
    const v = graphVar(this.freshLocal(nameHint), sinfo, frame.dataflow);
    frame.current.push(matchCast(v, this.leaf(value, 'lv')));
    return v;
  }

  private bind(value: Expr, nameHint: string, sinfo: StructInfo | undefined, dataflow: boolean): GraphVar {
    const frame = this.requireFrame();
    const normalized = this.normalize(value);
    const s = sinfo ?? this.infer(normalized);
    const v = graphVar(this.freshLocal(nameHint), s, dataflow);
    frame.current.push(varBinding(v, normalized));
    return v;
  }

  /** Makes the arguments of a call leaves, emitting nested calls first; fills in attribute defaults. */
  private normalize(value: Expr): Expr {
    switch (value.kind) {
      case 'call': {
        const args = value.args.map((a) => this.leaf(a, 'lv'));
        const attrs = this.options.normalizeAttrs ? this.options.normalizeAttrs(value.op, value.attrs) : value.attrs;
        return { ...value, args, attrs };
      }
      case 'call_global':
      case 'call_tir':
      case 'call_dps_packed':
        return { ...value, args: value.args.map((a) => this.leaf(a, 'lv')) };
      case 'tuple':
        return tuple(value.fields.map((f) => this.leaf(f, 'lv')));
      case 'tuple_get':
        return { ...value, tuple: this.leaf(value.tuple, 'lv') };
      default:
        return value;
    }
  }

  /** `e` itself when it is a leaf, else a variable bound to it. */
  private leaf(e: Expr, hint: string): Expr {
    if (e.kind === 'tuple') return isLeaf(e) ? e : tuple(e.fields.map((f) => this.leaf(f, hint)));
    if (isLeaf(e)) return e;
    return this.emit(e, hint);
  }

  /** The struct info of a value, from itself, its operator or its callee. */
  infer(value: Expr): StructInfo {
    const own = intrinsicSinfo(value);
    if (own) return own;
    if (value.kind === 'call') {
      if (!this.options.inferOp) {
        fail(M.irConstruction, { what: `call of ${value.op}`, problem: 'no operator inference was given to the block builder' });
      }
      return this.options.inferOp(
        value.op,
        value.args.map((a) => intrinsicSinfo(a)!),
        value.attrs,
      );
    }
    if (value.kind === 'call_global') return this.calleeResult(value.func, value.args);
    return fail(M.irConstruction, { what: value.kind, problem: 'its struct info cannot be inferred; pass it to emit' });
  }

  /** A callee's return type with its symbolic parameters replaced by the arguments' dimensions. */
  private calleeResult(name: string, args: readonly Expr[]): StructInfo {
    const callee = this.functions.get(name);
    if (!callee || callee.kind === 'prim_func')
      fail(M.irConstruction, { what: `call of @${name}`, problem: 'no graph or extern function of that name' });
    const params = callee.kind === 'func' ? callee.params.map((p) => p.sinfo) : (callee.sinfo.params ?? []);
    const ret = callee.kind === 'func' ? callee.ret : callee.sinfo.ret;
    const map = new Map<PrimVar, PrimExpr>();
    params.forEach((p, i) => {
      const a = args[i] ? intrinsicSinfo(args[i]) : undefined;
      if (a) bindDims(p, a, map);
    });
    return substituteOrErase(ret, map);
  }

  private requireFrame(): FrameState {
    if (!this.frame)
      return fail(M.irConstruction, { what: 'block builder', problem: 'bindings can only be emitted inside function()' });
    return this.frame;
  }

  private flush(): void {
    const frame = this.requireFrame();
    if (frame.current.length > 0) frame.blocks.push(bindingBlock(frame.current, frame.dataflow));
    frame.current = [];
  }

  private freshLocal(hint: string): string {
    const { names, next } = this.requireFrame();
    let name = hint;
    let i = next.get(hint) ?? 1;
    while (names.has(name)) name = `${hint}${i++}`;
    next.set(hint, i);
    names.add(name);
    return name;
  }
}

/** The symbolic variables the parameters define, each mapped to itself. */
function paramVars(params: readonly GraphVar[]): Map<PrimVar, PrimExpr> {
  const map = new Map<PrimVar, PrimExpr>();
  for (const p of params) visitStructInfoExprs(p.sinfo, (e) => primVars(e).forEach((v) => map.set(v, v)));
  return map;
}

/** Binds the callee's symbolic variables that stand alone in a parameter to what the argument has there. */
function bindDims(param: StructInfo, arg: StructInfo, map: Map<PrimVar, PrimExpr>): void {
  const bindAll = (ps: readonly PrimExpr[] | undefined, as: readonly PrimExpr[] | undefined): void => {
    if (!ps || !as || ps.length !== as.length) return;
    ps.forEach((d, i) => {
      if (d.kind === 'var' && !map.has(d)) map.set(d, as[i]!);
    });
  };
  if (param.kind === 'tensor' && arg.kind === 'tensor') bindAll(param.shape, arg.shape);
  else if (param.kind === 'shape' && arg.kind === 'shape') bindAll(param.values, arg.values);
  else if (param.kind === 'prim' && arg.kind === 'prim' && param.value && arg.value) bindAll([param.value], [arg.value]);
  else if (param.kind === 'tuple' && arg.kind === 'tuple') {
    param.fields.forEach((f, i) => arg.fields[i] && bindDims(f, arg.fields[i], map));
  }
}

/**
 * `s` with the callee's variables replaced by the caller's; where one stays
 * unknown the caller cannot name it, so that part keeps only what is certain
 * (a tensor or shape its rank, a prim value its dtype).
 */
function substituteOrErase(s: StructInfo, map: ReadonlyMap<PrimVar, PrimExpr>): StructInfo {
  const known = (es: readonly PrimExpr[]): boolean => es.every((e) => [...primVars(e)].every((v) => map.has(v)));
  const analyzer = new Analyzer();
  // Simplified, so that a callee returning `k + 1` called with `n + 1` gives `n + 2`.
  const sub = (x: StructInfo): StructInfo =>
    mapStructInfoExprs(x, (e) => {
      const out = substitute(e, map);
      return out === e ? e : analyzer.simplify(out);
    });
  switch (s.kind) {
    case 'tensor':
      return !s.shape || known(s.shape) ? sub(s) : tensorSI(s.ndim, s.dtype, s.device);
    case 'shape':
      return !s.values || known(s.values) ? sub(s) : shapeSI(s.ndim);
    case 'prim':
      return !s.value || known([s.value]) ? sub(s) : primSI(s.dtype);
    case 'tuple':
      return tupleSI(s.fields.map((f) => substituteOrErase(f, map)));
    case 'object':
      return s;
    case 'func':
      // A function value's own signature is not in terms of the call's arguments.
      return s;
  }
}
