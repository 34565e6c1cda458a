/**
 * Structural equality and hashing. Both come from one canonical token stream
 * per function in which variables and buffers are numbered by first
 * occurrence, so alpha-equivalent programs (other variable names) give the
 * same stream, and anything else (a dtype, an attribute, a constant's
 * content, a shape expression, a block or function name) changes it.
 *
 * The hash is SHA-256 of that stream: stable across processes and machines.
 * Functions are hashed once per object, so a module that shares unchanged
 * functions with its predecessor rehashes only what changed.
 */
import { sha256, sha256Hex } from '../support/hash.ts';
import { type AttrMap, type AttrValue, sortedKeys } from './attrs.ts';
import type { BindingBlock, Expr, SeqExpr } from './graph/expr.ts';
import type { StructInfo } from './graph/struct-info.ts';
import { type IRModule, type ModuleFunction, sortedFunctionNames } from './module.ts';
import { type PrimExpr, visitPrim } from './prim/expr.ts';
import type { Buffer } from './tir/buffer.ts';
import type { Block, BufferRegion, Range, Stmt } from './tir/stmt.ts';

type Node = IRModule | ModuleFunction;

/**
 * The canonical stream hashed as it is made: the tokens' UTF-8, separated by NUL, exactly the
 * bytes of `tokens.join('\u0000')`, written into a buffer that is hashed whenever it fills.
 * Nothing is kept per token, so hashing a large module allocates no more than it must.
 */
class HashSink {
  private readonly buf = new Uint8Array(64 * 1024);
  private pos = 0;
  private first = true;
  private readonly hash = sha256();
  private readonly encoder = new TextEncoder();

  push(token: string): void {
    if (this.first) this.first = false;
    else this.byte(0);
    const n = token.length;
    if (this.pos + n + 1 > this.buf.length) this.flush();
    if (n + 1 > this.buf.length) {
      this.hash.update(this.encoder.encode(token));
      return;
    }
    const start = this.pos;
    for (let i = 0; i < n; i++) {
      const c = token.charCodeAt(i);
      if (c >= 0x80) {
        // Not ASCII: the encoder writes it (a code point takes up to 3 bytes per UTF-16 unit).
        this.pos = start;
        if (this.pos + 3 * n > this.buf.length) this.flush();
        if (3 * n > this.buf.length) this.hash.update(this.encoder.encode(token));
        else this.pos += this.encoder.encodeInto(token, this.buf.subarray(this.pos)).written;
        return;
      }
      this.buf[this.pos++] = c;
    }
  }

  digest(): string {
    this.flush();
    return this.hash.digestHex();
  }

  private byte(b: number): void {
    if (this.pos === this.buf.length) this.flush();
    this.buf[this.pos++] = b;
  }

  private flush(): void {
    if (this.pos > 0) this.hash.update(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }
}

class Canon {
  /** The tokens, unless they go straight into a hash. */
  readonly tokens: string[] = [];
  /** The path of each token, when tracking (for mismatch reports). */
  readonly paths: string[] | undefined;
  /** Numbers of variables and buffers, by first occurrence; each function starts afresh. */
  private ids = new Map<object, number>();
  private readonly path: string[] = [];

  constructor(
    trackPaths: boolean,
    private readonly sink?: HashSink,
  ) {
    this.paths = trackPaths ? [] : undefined;
  }

  private t(token: string): void {
    if (this.sink) {
      this.sink.push(token);
      return;
    }
    this.tokens.push(token);
    this.paths?.push(this.path.join(' > '));
  }

  /** Runs f one step deeper in the path; the label is only computed when paths are tracked. */
  private at<T>(step: string | (() => string), f: () => T): T {
    if (!this.paths) return f();
    this.path.push(typeof step === 'string' ? step : step());
    try {
      return f();
    } finally {
      this.path.pop();
    }
  }

  /** `#k` for a known object; for a new one, its definition. */
  private ref(obj: object, define: (id: number) => void): void {
    const id = this.ids.get(obj);
    if (id !== undefined) {
      this.t(`#${id}`);
      return;
    }
    const fresh = this.ids.size;
    this.ids.set(obj, fresh);
    define(fresh);
  }

  // --- module and functions ------------------------------------------------------------

  module(m: IRModule): void {
    this.t('module');
    this.attrs(m.attrs);
    for (const name of sortedFunctionNames(m)) {
      this.t(`fn ${name}`);
      this.ids = new Map();
      this.at(
        () => `function ${name}`,
        () => this.func(m.functions.get(name)!),
      );
    }
  }

  func(f: ModuleFunction): void {
    switch (f.kind) {
      case 'prim_func':
        this.t(`prim_func ${f.params.length}`);
        f.params.forEach((p, i) =>
          this.at(
            () => `param ${i}`,
            () => (p.kind === 'buffer' ? this.buffer(p) : this.prim(p)),
          ),
        );
        this.attrs(f.attrs);
        this.at('body', () => this.stmt(f.body));
        return;
      case 'func':
        this.t(`func ${f.params.length}`);
        f.params.forEach((p, i) =>
          this.at(
            () => `param ${i} (${p.name})`,
            () => this.expr(p),
          ),
        );
        this.at('return type', () => this.sinfo(f.ret));
        this.attrs(f.attrs);
        this.at('body', () => this.seq(f.body));
        return;
      case 'extern_func':
        this.t(`extern ${JSON.stringify(f.symbol)}`);
        this.sinfo(f.sinfo);
        return;
    }
  }

  attrs(a: AttrMap): void {
    this.t(`attrs ${canonicalAttr(a)}`);
  }

  // --- prim ------------------------------------------------------------------------------

  prim(e: PrimExpr): void {
    switch (e.kind) {
      case 'int':
        this.t(`i ${e.dtype} ${e.value}`);
        return;
      case 'float':
        this.t(`f ${e.dtype} ${Object.is(e.value, -0) ? '-0' : String(e.value)}`);
        return;
      case 'bool':
        this.t(`b ${e.value}`);
        return;
      case 'var':
        this.ref(e, (id) => this.t(`var ${id} ${e.dtype}`));
        return;
      case 'binary':
        this.t(`${e.op} ${e.dtype}`);
        this.prim(e.a);
        this.prim(e.b);
        return;
      case 'not':
        this.t('not');
        this.prim(e.a);
        return;
      case 'select':
        this.t(`select ${e.dtype}`);
        this.prim(e.cond);
        this.prim(e.t);
        this.prim(e.f);
        return;
      case 'cast':
        this.t(`cast ${e.dtype}`);
        this.prim(e.value);
        return;
      case 'call':
        this.t(`call ${e.op} ${e.dtype} ${e.args.length}`);
        for (const a of e.args) this.prim(a);
        return;
      case 'load':
        this.t(`load ${e.indices.length}`);
        this.buffer(e.buffer);
        for (const i of e.indices) this.prim(i);
        return;
    }
  }

  private buffer(b: Buffer): void {
    this.ref(b, (id) => {
      this.t(`buffer ${id} ${b.dtype} ${b.scope} ${b.shape.length} ${b.strides.length}`);
      for (const d of b.shape) this.prim(d);
      for (const s of b.strides) this.prim(s);
    });
  }

  private range(r: Range): void {
    this.prim(r.min);
    this.prim(r.extent);
  }

  // --- statements --------------------------------------------------------------------------

  stmt(s: Stmt): void {
    switch (s.kind) {
      case 'for':
        this.t(`for ${s.forKind} ${s.thread ?? ''}`);
        this.prim(s.loopVar);
        this.prim(s.min);
        this.prim(s.extent);
        this.attrs(s.annotations);
        this.at(
          () => `loop ${s.loopVar.name}`,
          () => this.stmt(s.body),
        );
        return;
      case 'block_realize':
        this.t(`block_realize ${s.iterValues.length}`);
        for (const v of s.iterValues) this.prim(v);
        this.prim(s.predicate);
        this.at(
          () => `block ${s.block.name}`,
          () => this.block(s.block),
        );
        return;
      case 'store':
        this.t(`store ${s.indices.length}`);
        this.buffer(s.buffer);
        for (const i of s.indices) this.prim(i);
        this.prim(s.value);
        return;
      case 'allocate':
        this.t('allocate');
        this.buffer(s.buffer);
        this.stmt(s.body);
        return;
      case 'if':
        this.t(`if ${s.else ? 2 : 1}`);
        this.prim(s.cond);
        this.at('then', () => this.stmt(s.then));
        if (s.else) this.at('else', () => this.stmt(s.else!));
        return;
      case 'let':
        this.t('let');
        this.prim(s.var);
        this.prim(s.value);
        this.stmt(s.body);
        return;
      case 'seq':
        this.t(`seq ${s.stmts.length}`);
        s.stmts.forEach((x, i) =>
          this.at(
            () => `statement ${i}`,
            () => this.stmt(x),
          ),
        );
        return;
      case 'evaluate':
        this.t('evaluate');
        this.prim(s.value);
        return;
    }
  }

  private block(b: Block): void {
    this.t(`block ${JSON.stringify(b.name)} ${b.iterVars.length} ${b.reads.length} ${b.writes.length} ${b.init ? 1 : 0}`);
    for (const iv of b.iterVars) {
      this.t(`iter ${iv.iterKind}`);
      this.prim(iv.var);
      this.range(iv.dom);
    }
    const regions = (rs: readonly BufferRegion[]): void => {
      for (const r of rs) {
        this.t(`region ${r.region.length}`);
        this.buffer(r.buffer);
        r.region.forEach((x) => this.range(x));
      }
    };
    this.at('reads', () => regions(b.reads));
    this.at('writes', () => regions(b.writes));
    this.attrs(b.annotations);
    if (b.init) this.at('init', () => this.stmt(b.init!));
    this.at('body', () => this.stmt(b.body));
  }

  // --- graph ---------------------------------------------------------------------------------

  sinfo(s: StructInfo): void {
    switch (s.kind) {
      case 'tensor':
        this.t(`Tensor ${s.dtype} ${s.ndim} ${s.shape ? 1 : 0} ${s.device ?? ''}`);
        s.shape?.forEach((d) => this.prim(d));
        return;
      case 'tuple':
        this.t(`Tuple ${s.fields.length}`);
        s.fields.forEach((f) => this.sinfo(f));
        return;
      case 'shape':
        this.t(`Shape ${s.ndim} ${s.values ? 1 : 0}`);
        s.values?.forEach((d) => this.prim(d));
        return;
      case 'prim':
        this.t(`Prim ${s.dtype} ${s.value ? 1 : 0}`);
        if (s.value) this.prim(s.value);
        return;
      case 'object':
        this.t('Object');
        return;
      case 'func':
        this.t(`Callable ${s.params ? s.params.length : -1}`);
        s.params?.forEach((p) => this.sinfo(p));
        this.sinfo(s.ret);
        return;
    }
  }

  expr(e: Expr): void {
    switch (e.kind) {
      case 'graph_var':
        this.ref(e, (id) => {
          this.t(`gvar ${id} ${e.dataflow ? 'dataflow' : ''}`);
          this.sinfo(e.sinfo);
        });
        return;
      case 'constant':
        this.t(`const ${e.dtype} [${e.shape.join(',')}] ${e.blob.hash}`);
        return;
      case 'tuple':
        this.t(`tuple ${e.fields.length}`);
        e.fields.forEach((f) => this.expr(f));
        return;
      case 'tuple_get':
        this.t(`get ${e.index}`);
        this.expr(e.tuple);
        return;
      case 'shape':
        this.t(`shape ${e.values.length}`);
        e.values.forEach((v) => this.prim(v));
        return;
      case 'prim_value':
        this.t('prim');
        this.prim(e.value);
        return;
      case 'string':
        this.t(`str ${JSON.stringify(e.value)}`);
        return;
      case 'call':
        this.t(`op ${e.op} ${e.args.length}`);
        e.args.forEach((a, i) =>
          this.at(
            () => `arg ${i}`,
            () => this.expr(a),
          ),
        );
        this.attrs(e.attrs);
        return;
      case 'call_global':
        this.t(`call @${e.func} ${e.args.length}`);
        e.args.forEach((a, i) =>
          this.at(
            () => `arg ${i}`,
            () => this.expr(a),
          ),
        );
        return;
      case 'call_tir':
        this.t(`call_tir ${e.func} ${e.args.length} ${e.tirVars ? 1 : 0}${e.dst ? ' dst' : ''}`);
        e.args.forEach((a, i) =>
          this.at(
            () => `arg ${i}`,
            () => this.expr(a),
          ),
        );
        this.at('out', () => this.sinfo(e.out));
        if (e.tirVars) this.expr(e.tirVars);
        if (e.dst) this.expr(e.dst);
        return;
      case 'call_dps_packed':
        this.t(`call_dps_packed ${JSON.stringify(e.func)} ${e.args.length}`);
        e.args.forEach((a, i) =>
          this.at(
            () => `arg ${i}`,
            () => this.expr(a),
          ),
        );
        this.at('out', () => this.sinfo(e.out));
        return;
      case 'if':
        this.t('if');
        this.expr(e.cond);
        this.at('then', () => this.seq(e.then));
        this.at('else', () => this.seq(e.else));
        return;
    }
  }

  private seq(s: SeqExpr): void {
    this.t(`seq ${s.blocks.length}`);
    s.blocks.forEach((b, i) =>
      this.at(
        () => `block ${i}`,
        () => this.bindingBlock(b),
      ),
    );
    this.at('result', () => this.expr(s.body));
  }

  private bindingBlock(b: BindingBlock): void {
    this.t(`${b.dataflow ? 'dataflow' : 'bindings'} ${b.bindings.length}`);
    b.bindings.forEach((x, i) =>
      this.at(
        () => `binding ${i} (${x.var.name})`,
        () => {
          this.t(x.kind);
          this.at('value', () => this.expr(x.value));
          this.expr(x.var);
        },
      ),
    );
  }
}

/** Attributes as JSON with sorted keys; non-finite numbers spelled out. */
export function canonicalAttr(v: AttrValue): string {
  if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(v)) : `"${String(v)}"#`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly AttrValue[]).map(canonicalAttr).join(',')}]`;
  const m = v as AttrMap;
  return `{${sortedKeys(m)
    .map((k) => `${JSON.stringify(k)}:${canonicalAttr(m[k]!)}`)
    .join(',')}}`;
}

function canonicalTokens(node: Node, trackPaths = false): Canon {
  const c = new Canon(trackPaths);
  if (node.kind === 'module') c.module(node);
  else c.func(node);
  return c;
}

const functionHashes = new WeakMap<ModuleFunction, string>();

function functionHash(f: ModuleFunction): string {
  let h = functionHashes.get(f);
  if (h === undefined) {
    // The SHA-256 of the function's canonical tokens joined by NUL, made without keeping them.
    const sink = new HashSink();
    new Canon(false, sink).func(f);
    h = sink.digest();
    functionHashes.set(f, h);
  }
  return h;
}

/** A function's canonical tokens joined by NUL: what its hash is the SHA-256 of (for tests and debugging). */
export function canonicalText(f: ModuleFunction): string {
  return canonicalTokens(f).tokens.join('\u0000');
}

/** SHA-256 (hex) of a module or function, invariant under renaming of variables. */
export function structuralHash(node: Node): string {
  if (node.kind !== 'module') return functionHash(node);
  const parts = [`module ${canonicalAttr(node.attrs)}`];
  for (const name of sortedFunctionNames(node)) parts.push(`${name} ${functionHash(node.functions.get(name)!)}`);
  return sha256Hex(parts.join('\u0000'));
}

export interface Mismatch {
  /** Where in the first operand the two differ ("function main > body > block 0 > binding 2 (lv) > value"). */
  readonly path: string;
  readonly expected: string;
  readonly found: string;
}

/** The first difference between two modules or functions, or undefined when they are structurally equal. */
export function findMismatch(expected: Node, actual: Node): Mismatch | undefined {
  const a = canonicalTokens(expected);
  const b = canonicalTokens(actual);
  if (a.tokens.length === b.tokens.length && a.tokens.every((t, i) => t === b.tokens[i])) return undefined;
  const pa = canonicalTokens(expected, true);
  const pb = canonicalTokens(actual, true);
  let i = 0;
  while (i < pa.tokens.length && i < pb.tokens.length && pa.tokens[i] === pb.tokens[i]) i++;
  return {
    path: pa.paths![i] || pb.paths![i] || 'module',
    expected: pa.tokens[i] ?? '(end)',
    found: pb.tokens[i] ?? '(end)',
  };
}

export function structuralEqual(a: Node, b: Node): boolean {
  if (a === b) return true;
  if (a.kind === 'module' && b.kind === 'module' && a.functions.size !== b.functions.size) return false;
  return findMismatch(a, b) === undefined;
}

/** Structural equality of two prim expressions (variables matched by first occurrence). */
export function primStructuralEqual(a: PrimExpr, b: PrimExpr): boolean {
  const x = new Canon(false);
  const y = new Canon(false);
  x.prim(a);
  y.prim(b);
  return x.tokens.length === y.tokens.length && x.tokens.every((t, i) => t === y.tokens[i]);
}

/**
 * The same expression over the very same variables. Structural equality alone
 * matches free variables by first occurrence (alpha-equivalence), under which
 * `1 <= r` equals `1 <= c` and a dimension `n` equals `m`.
 */
export function primExprEqual(a: PrimExpr, b: PrimExpr): boolean {
  if (!primStructuralEqual(a, b)) return false;
  const vars = (e: PrimExpr): PrimExpr[] => {
    const out: PrimExpr[] = [];
    visitPrim(e, (x) => {
      if (x.kind === 'var') out.push(x);
    });
    return out;
  };
  const va = vars(a);
  const vb = vars(b);
  return va.length === vb.length && va.every((v, i) => v === vb[i]);
}

/** Structural equality of two statements. */
export function stmtStructuralEqual(a: Stmt, b: Stmt): boolean {
  const x = new Canon(false);
  const y = new Canon(false);
  x.stmt(a);
  y.stmt(b);
  return x.tokens.length === y.tokens.length && x.tokens.every((t, i) => t === y.tokens[i]);
}
