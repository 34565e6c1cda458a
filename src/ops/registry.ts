/**
 * The operator registry: each operator is declared once with `defineOp` —
 * its arguments, its attributes (a zod schema with defaults) and its
 * struct-info inference — and every consumer (parser, builders, passes)
 * goes through `inferOpCall` and `normalizeAttrs`, so arity, argument
 * kinds and attributes are checked in one place with one set of messages.
 */
import type { z } from 'zod';
import { Analyzer } from '../ir/arith/analyzer.ts';
import type { AttrMap } from '../ir/attrs.ts';
import { INDEX_DTYPE, isInt } from '../ir/dtype.ts';
import { castIfNeeded, type PrimExpr, primVars } from '../ir/prim/expr.ts';
import {
  mapStructInfoExprs,
  type PrimStructInfo,
  type ShapeStructInfo,
  type StructInfo,
  type TensorStructInfo,
} from '../ir/graph/struct-info.ts';
import type { PrimFunc } from '../ir/tir/stmt.ts';
import { didYouMean } from '../support/diagnostics.ts';
import { fail, M } from '../support/messages.ts';
import { describeSinfo } from './shape.ts';

/**
 * What an argument must be: a tensor, a tuple of tensors, a shape value, a
 * prim value, or a scalar (a prim value or a 0-d tensor, as fill values are).
 */
export type ArgKind = 'tensor' | 'tensors' | 'shape' | 'prim' | 'scalar';

export interface ArgSpec {
  readonly name: string;
  readonly kind: ArgKind;
  /** Optional arguments come last; a call may leave them out. */
  readonly optional?: boolean;
}

/** The struct info an inference function receives for each kind, already checked. */
export interface ArgKindValue {
  tensor: TensorStructInfo;
  tensors: readonly TensorStructInfo[];
  shape: ShapeStructInfo;
  prim: PrimStructInfo;
  scalar: PrimStructInfo | TensorStructInfo;
}

type ArgValue = ArgKindValue[ArgKind];

/** The checked arguments of a call, by the names of the definition. */
export type ArgValues<Args extends readonly ArgSpec[]> = {
  readonly [A in Args[number] as A['name']]: A extends { readonly optional: true }
    ? ArgKindValue[A['kind']] | undefined
    : ArgKindValue[A['kind']];
};

/** Attribute schemas are zod objects; their output must be JSON-like (an AttrMap). */
export type AttrSchema = z.ZodObject;

export interface InferContext {
  readonly op: string;
  /** Simplifies result shapes and proves facts about dims; shape variables are bound non-negative. */
  readonly analyzer: Analyzer;
  /** Throws the catalog's shape error (K3005) for this operator. */
  shapeError(problem: string): never;
  /** Throws the catalog's dtype error (K3006) for this operator. */
  dtypeError(problem: string): never;
}

/** What legalization receives for one call; the legalize pass fills `legalize` in per op. */
export interface LegalizeInput {
  readonly args: readonly StructInfo[];
  readonly attrs: AttrMap;
  readonly out: StructInfo;
}

export type Legalize = (input: LegalizeInput) => PrimFunc;

export interface OpDefinition<Args extends readonly ArgSpec[], S extends AttrSchema> {
  readonly name: string;
  readonly args: Args;
  readonly attrs: S;
  readonly infer: (args: ArgValues<Args>, attrs: z.output<S>, ctx: InferContext) => StructInfo;
  readonly legalize?: Legalize;
  /**
   * The runtime registry function that runs the operator instead of a kernel (an output
   * shape only the data decides): legalize calls it as an extern function.
   */
  readonly builtin?: string;
}

/** An operator as the registry keeps it: the definition with its types erased. */
export interface RegisteredOp {
  readonly name: string;
  readonly args: readonly ArgSpec[];
  readonly attrs: AttrSchema;
  readonly infer: (args: Readonly<Record<string, ArgValue | undefined>>, attrs: AttrMap, ctx: InferContext) => StructInfo;
  readonly legalize?: Legalize;
  readonly builtin?: string;
}

const OPS = new Map<string, RegisteredOp>();

/** Declares an operator. Declaring a name twice is a bug in Kiln, not a user error. */
export function defineOp<const Args extends readonly ArgSpec[], S extends AttrSchema>(def: OpDefinition<Args, S>): RegisteredOp {
  if (OPS.has(def.name)) throw new Error(`operator '${def.name}' is defined twice`);
  let seenOptional = false;
  for (const a of def.args) {
    if (seenOptional && !a.optional)
      throw new Error(`operator '${def.name}': required argument '${a.name}' follows an optional one`);
    seenOptional ||= a.optional === true;
  }
  const op: RegisteredOp = {
    name: def.name,
    args: def.args,
    attrs: def.attrs,
    // The registry checked every argument against `def.args` and parsed the
    // attributes with `def.attrs`, which is what these two casts assert.
    infer: (args, attrs, ctx) => def.infer(args as unknown as ArgValues<Args>, attrs as z.output<S>, ctx),
    ...(def.legalize ? { legalize: def.legalize } : {}),
    ...(def.builtin ? { builtin: def.builtin } : {}),
  };
  OPS.set(def.name, op);
  return op;
}

export function hasOp(name: string): boolean {
  return OPS.has(name);
}

/** The operator named `name`; an unknown name fails with K3001 and the nearest names. */
export function getOp(name: string): RegisteredOp {
  const op = OPS.get(name);
  if (!op) fail(M.unknownOp, { name }, undefined, didYouMean(name, OPS.keys()));
  return op;
}

/** The names of all registered operators, sorted. */
export function allOps(): string[] {
  return [...OPS.keys()].sort();
}

/** The attribute names an operator accepts, sorted. */
export function attrNames(op: RegisteredOp): string[] {
  return Object.keys(op.attrs.shape).sort();
}

/**
 * Validates attributes and fills in defaults (and canonical spellings, such
 * as 4-value padding), so that two calls that mean the same have equal
 * attributes. Normalizing twice gives the same result.
 */
export function normalizeAttrs(opName: string, attrs: AttrMap): AttrMap {
  const op = getOp(opName);
  const known = attrNames(op);
  for (const key of Object.keys(attrs).sort()) {
    if (!known.includes(key)) {
      const accepted = known.length === 0 ? 'it takes no attributes' : `it takes ${known.map((k) => `'${k}'`).join(', ')}`;
      fail(M.opAttrs, { op: op.name, problem: `unknown attribute '${key}' (${accepted})` }, undefined, didYouMean(key, known));
    }
  }
  const parsed = op.attrs.safeParse(attrs);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? `attribute '${issue.path.map(String).join('.')}'` : 'attributes';
      return `${where}: ${issue.message}`;
    });
    fail(M.opAttrs, { op: op.name, problem: problems.join('; ') });
  }
  // Attribute schemas only produce JSON-like values (numbers, strings, booleans, null, lists).
  return parsed.data as AttrMap;
}

/**
 * The struct info of `op(args...)` with `attrs`: checks the number and kinds
 * of the arguments, normalizes the attributes, runs the operator's inference
 * and simplifies the result with `analyzer`. The variables of tensor
 * argument dims are shape variables, which are never negative; they are
 * bound so in `analyzer`, which never overrides a range the caller bound.
 */
export function inferOpCall(
  op: string,
  args: readonly StructInfo[],
  attrs: AttrMap,
  analyzer: Analyzer = new Analyzer(),
): StructInfo {
  const def = getOp(op);
  const required = def.args.filter((a) => !a.optional).length;
  if (args.length < required || args.length > def.args.length) {
    const expected = required === def.args.length ? String(required) : `${required} to ${def.args.length}`;
    fail(M.opArity, { op, expected, found: args.length });
  }
  const values: Record<string, ArgValue | undefined> = {};
  def.args.forEach((spec, i) => {
    const s = args[i];
    values[spec.name] = s === undefined ? undefined : checkArg(op, spec, s, analyzer);
  });
  const normalized = normalizeAttrs(op, attrs);
  const ctx: InferContext = {
    op,
    analyzer,
    shapeError: (problem) => fail(M.opShape, { op, problem }),
    dtypeError: (problem) => fail(M.opDtype, { op, problem }),
  };
  const out = def.infer(values, normalized, ctx);
  return mapStructInfoExprs(out, (e) => analyzer.simplify(e));
}

const KIND_TEXT: Record<ArgKind, string> = {
  tensor: 'a tensor',
  tensors: 'a tuple of tensors',
  shape: 'a shape',
  prim: 'a prim value',
  scalar: 'a prim value or a 0-d tensor',
};

function checkArg(op: string, spec: ArgSpec, s: StructInfo, analyzer: Analyzer): ArgValue {
  const wrong = (found: string = describeSinfo(s)): never =>
    fail(M.opArgKind, { op, arg: spec.name, expected: KIND_TEXT[spec.kind], found });
  switch (spec.kind) {
    case 'tensor':
      return s.kind === 'tensor' ? tensorArg(s, analyzer) : wrong();
    case 'tensors': {
      if (s.kind !== 'tuple') return wrong();
      return s.fields.map((f, i) =>
        f.kind === 'tensor' ? tensorArg(f, analyzer) : wrong(`a tuple whose field ${i} is ${describeSinfo(f)}`),
      );
    }
    case 'shape':
      if (s.kind !== 'shape') return wrong();
      return s.values ? { ...s, values: s.values.map(indexDim) } : s;
    case 'prim':
      return s.kind === 'prim' ? s : wrong();
    case 'scalar':
      if (s.kind === 'prim') return s;
      if (s.kind === 'tensor' && (s.ndim === 0 || s.ndim === -1)) return tensorArg(s, analyzer);
      return wrong();
  }
}

/** Dims are index-typed; casting the odd int32 dim lets dims of different sources combine. */
function indexDim(e: PrimExpr): PrimExpr {
  return isInt(e.dtype) ? castIfNeeded(INDEX_DTYPE, e) : e;
}

function tensorArg(t: TensorStructInfo, analyzer: Analyzer): TensorStructInfo {
  if (!t.shape) return t;
  for (const d of t.shape) for (const v of primVars(d)) if (isInt(v.dtype)) analyzer.bindNonNegative(v);
  return { ...t, shape: t.shape.map(indexDim) };
}
