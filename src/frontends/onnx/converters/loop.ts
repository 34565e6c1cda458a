/**
 * ONNX Loop and Scan as a recursive graph function the VM runs:
 *
 *   loop_N(i, cond, carried..., acc..., outer...) =
 *     if (keep(i, cond)) { body; call_global(@loop_N, i + 1, cond', carried'..., concat(acc, [scan])..., outer...) }
 *     else { (carried..., acc...) }
 *
 * The iteration number `i` is a symbolic variable (a prim parameter), so a body that
 * slices at `i` keeps symbolic shapes. The recursive call is in tail position: the VM
 * runs it in the same frame, so the trip count is not bounded by the call depth.
 * Values of enclosing graphs the body reads become parameters; scan outputs
 * accumulate along a new leading axis whose final length is bound by a match_cast.
 * A carried tensor keeps its shape in the function's type when the body keeps it;
 * otherwise only its rank, which the body must keep (checked here, at import).
 */
import { type Expr, globalCall, graphVar, type GraphVar, ifExpr, primValue, tuple, tupleGet } from '../../../ir/graph/expr.ts';
import { primSI, type StructInfo, tensorSI, tupleSI } from '../../../ir/graph/struct-info.ts';
import {
  add,
  constInt,
  intImm,
  lt,
  sub,
  type PrimExpr,
  primVar,
  type PrimVar,
  primVars,
  substitute,
} from '../../../ir/prim/expr.ts';
import { primExprEqual } from '../../../ir/structural.ts';
import type { GraphProto } from '../proto.ts';
import { type NodeContext, sanitize } from '../context.ts';
import type { KnownValue, TensorValue, Value } from '../values.ts';
import { defineConverter } from './registry.ts';

type Shape = readonly PrimExpr[];

export interface LoopSpec {
  readonly body: GraphProto;
  /** The initial values of the loop-carried tensors. */
  readonly carried: readonly TensorValue[];
  /** Tensors every iteration reads unchanged (Scan's inputs, Loop's trip count). */
  readonly invariants: readonly TensorValue[];
  /** Number of scan outputs the body gives after its carried values. */
  readonly scans: number;
  /** The body's first output is the next condition (Loop). */
  readonly condOut: boolean;
  /** The initial condition (Loop); absent: true. */
  readonly cond0?: TensorValue;
  /** Whether to run iteration `i` (inside the function): a bool prim or 0-d bool tensor. */
  readonly keep: (i: PrimVar, cond: TensorValue, invariants: readonly TensorValue[]) => Expr;
  /** The body's inputs for iteration `i`, after the carried ones are known. */
  readonly inputs: (
    i: PrimVar,
    cond: TensorValue,
    carried: readonly TensorValue[],
    invariants: readonly TensorValue[],
  ) => Value[];
}

interface Attempt {
  carried: TensorValue[];
  scans: TensorValue[];
}

/** Converts a loop; returns the final carried values, then the stacked scan outputs. */
export function buildLoop(ctx: NodeContext, spec: LoopSpec): TensorValue[] {
  const bb = ctx.builder;
  const name = bb.freshGlobal(`loop_${sanitize(ctx.name)}`);
  const outer = outerTensors(ctx, spec.body);
  const fresh = (hint: string): PrimVar => primVar(ctx.freshSymbol(hint));
  const iter = fresh('iter');
  /** Outer symbolic variables → the function's own, and back (for the first iteration's shapes). */
  const toInner = new Map<PrimVar, PrimExpr>();
  const toOuter = new Map<PrimVar, PrimExpr>([[iter, constInt0()]]);
  const generalize = (shape: Shape, allFresh: boolean): PrimExpr[] =>
    shape.map((d, k) => {
      if (!allFresh && d.kind === 'int') return d;
      if (!allFresh && d.kind === 'var') {
        let v = toInner.get(d);
        if (!v) {
          v = fresh(d.name);
          toInner.set(d, v);
          toOuter.set(v, d);
        }
        return v;
      }
      const v = fresh(`dim${k}`);
      toOuter.set(v, d);
      return v;
    });
  const param = (hint: string, t: TensorValue, allFresh: boolean): GraphVar =>
    graphVar(sanitize(hint), tensorSI(generalize(t.sinfo.shape, allFresh), t.sinfo.dtype));
  const asValue = (v: GraphVar): TensorValue => ({ kind: 'tensor', expr: v, sinfo: v.sinfo as TensorValue['sinfo'] });

  const iParam = graphVar('i', primSI('int64', iter));
  const condParam = graphVar('cond', tensorSI([], 'bool'));
  const outerParams = outer.map(([n, t]) => param(n, t, false));
  const invParams = spec.invariants.map((t, k) => param(`inv${k}`, t, false));
  const bodyNames = new Map(outer.map(([n], k) => [n, asValue(outerParams[k]!)] as const));

  /** Runs the body on the parameters (inside a scope of the function being built). */
  const runBody = (carriedParams: readonly GraphVar[]): { cond: TensorValue | undefined; attempt: Attempt } => {
    const invs = invParams.map(asValue);
    const inputs = spec.inputs(iter, asValue(condParam), carriedParams.map(asValue), invs);
    const outs = ctx.subgraph(spec.body, inputs, bodyNames).map((v) => ctx.materialize(v));
    const n = spec.carried.length;
    const first = spec.condOut ? 1 : 0;
    if (outs.length !== first + n + spec.scans) {
      ctx.fail(`the body gives ${outs.length} outputs, expected ${first + n + spec.scans}`);
    }
    return {
      cond: spec.condOut ? outs[0] : undefined,
      attempt: { carried: outs.slice(first, first + n), scans: outs.slice(first + n) },
    };
  };

  // First pass: what the body makes of the carried values (does it keep their shapes?) and its scan outputs.
  let carriedParams = spec.carried.map((t, k) => param(`c${k}`, t, false));
  let probe: Attempt | undefined;
  bb.function(name, [iParam, condParam, ...carriedParams, ...outerParams, ...invParams], () => {
    bb.scope(() => {
      probe = runBody(carriedParams).attempt;
      return tuple([]);
    });
    return tuple([]);
  });
  const kept = probe!.carried.map((out, k) => {
    const p = carriedParams[k]!.sinfo as TensorValue['sinfo'];
    const what = `loop-carried value ${k} ('${spec.body.input[spec.condOut ? k + 2 : k]?.name ?? k}')`;
    if (out.sinfo.dtype !== p.dtype) ctx.fail(`the body changes the dtype of ${what} from ${p.dtype} to ${out.sinfo.dtype}`);
    if (out.sinfo.shape.length !== p.shape.length) {
      ctx.fail(
        `the body changes the rank of ${what} from ${p.shape.length} to ${out.sinfo.shape.length}; ` +
          'a loop-carried tensor must keep its rank',
      );
    }
    return out.sinfo.shape.every((d, i) => primExprEqual(d, p.shape[i]!));
  });
  carriedParams = spec.carried.map((t, k) => (kept[k] ? carriedParams[k]! : param(`c${k}`, t, true)));
  // The scan outputs' element shapes at the first iteration size the empty accumulators.
  const elem0 = probe!.scans.map((s, k) =>
    s.sinfo.shape.map((d) => {
      const inside = [...primVars(d)].filter((v) => !toOuter.has(v));
      if (inside.length > 0) {
        ctx.fail(
          `scan output ${k} has a shape computed inside the body (${inside.map((v) => v.name).join(', ')}); Kiln needs it from the loop's inputs`,
        );
      }
      return ctx.simplify(substitute(d, toOuter));
    }),
  );
  const elemVars = probe!.scans.map((s, k) => s.sinfo.shape.map((_, j) => fresh(`scan${k}_d${j}`)));
  const accParams = probe!.scans.map((s, k) => graphVar(`acc${k}`, tensorSI([iter, ...elemVars[k]!], s.sinfo.dtype)));
  const ret: StructInfo = tupleSI([
    ...carriedParams.map((p, k) =>
      kept[k] ? p.sinfo : tensorSI((p.sinfo as TensorValue['sinfo']).shape.length, (p.sinfo as TensorValue['sinfo']).dtype),
    ),
    ...accParams.map((p) => tensorSI((p.sinfo as TensorValue['sinfo']).shape.length, (p.sinfo as TensorValue['sinfo']).dtype)),
  ]);
  const params = [iParam, condParam, ...carriedParams, ...accParams, ...outerParams, ...invParams];

  bb.function(
    name,
    params,
    () => {
      const keep = spec.keep(iter, asValue(condParam), invParams.map(asValue));
      const then = bb.scope(() => {
        const { cond, attempt } = runBody(carriedParams);
        let next = cond ?? asValue(condParam);
        if (next.sinfo.dtype !== 'bool') ctx.fail(`the body's condition output is ${next.sinfo.dtype}, expected bool`);
        if (next.sinfo.shape.length !== 0) next = ctx.op('reshape', [next, ctx.shapeArg([])]);
        const accs = attempt.scans.map((s, k) => {
          const elem = tensorSI(elemVars[k], s.sinfo.dtype) as TensorValue['sinfo'];
          const checked: TensorValue = { kind: 'tensor', expr: bb.matchCast(s.expr, elem, 'lv'), sinfo: elem };
          const row = ctx.op('expand_dims', [checked], { axis: [0] });
          return ctx.op('concat', [tuple([accParams[k]!, row.expr])], { axis: 0 });
        });
        const args: Expr[] = [
          primValue(add(iter, 1)),
          next.expr,
          ...attempt.carried.map((c) => c.expr),
          ...accs.map((a) => a.expr),
          ...outerParams,
          ...invParams,
        ];
        return bb.emit(globalCall(name, args), 'lv', ret);
      });
      const otherwise = bb.scope(() => tuple([...carriedParams, ...accParams]));
      return bb.emit(ifExpr(keep, then, otherwise), 'lv', ret);
    },
    { ret, attrs: { private: true } },
  );

  const cond0 = spec.cond0 ?? ctx.constant('bool', [], [1]);
  const accs0 = probe!.scans.map((s, k) => ctx.op('zeros', [ctx.shapeArg([0, ...elem0[k]!])], { dtype: s.sinfo.dtype }));
  const r = bb.emit(
    globalCall(name, [
      primValue(constInt0()),
      cond0.expr,
      ...spec.carried.map((c) => c.expr),
      ...accs0.map((a) => a.expr),
      ...outer.map(([, t]) => t.expr),
      ...spec.invariants.map((t) => t.expr),
    ]),
    'lv',
  );
  const sinfos = (r.sinfo.kind === 'tuple' ? r.sinfo.fields : []) as StructInfo[];
  return sinfos.map((s, k) => {
    const item = bb.emit(tupleGet(r, k), 'lv', s);
    if (s.kind !== 'tensor') return ctx.fail('a loop result is not a tensor');
    if (s.shape) return { kind: 'tensor', expr: item, sinfo: s as TensorValue['sinfo'] };
    const dims = Array.from({ length: s.ndim }, (_, j) => primVar(ctx.freshSymbol(`${sanitize(ctx.name)}_${k}_d${j}`)));
    const sinfo = tensorSI(dims, s.dtype) as TensorValue['sinfo'];
    return { kind: 'tensor', expr: bb.matchCast(item, sinfo, 'lv'), sinfo };
  });
}

function constInt0(): PrimExpr {
  return intImm(0, 'int64');
}

/**
 * The tensors of enclosing graphs the body reads (its free names), which become parameters
 * of the loop function. Constants and values known at import time with literal elements
 * are read where they are and need none.
 */
function outerTensors(ctx: NodeContext, body: GraphProto): [string, TensorValue][] {
  const free = new Set<string>();
  const visit = (g: GraphProto, bound: ReadonlySet<string>): void => {
    const own = new Set(bound);
    for (const i of g.input) own.add(i.name);
    for (const t of g.initializer) own.add(t.name);
    for (const n of g.node) {
      for (const name of n.input) if (name !== '' && !own.has(name)) free.add(name);
      for (const a of n.attribute) for (const sub of [...(a.g ? [a.g] : []), ...a.graphs]) visit(sub, own);
      for (const o of n.output) own.add(o);
    }
    for (const o of g.output) if (!own.has(o.name)) free.add(o.name);
  };
  visit(body, new Set());
  const out: [string, TensorValue][] = [];
  for (const name of [...free].sort()) {
    const v = ctx.lookup(name);
    if (!v) continue; // reported as undefined when the body's node is converted
    if (v.kind === 'known' && v.values.every((e) => constInt(e) !== undefined || e.kind === 'float' || e.kind === 'bool'))
      continue;
    if (v.kind === 'tensor' && v.expr.kind === 'constant') continue;
    out.push([name, ctx.materialize(v)]);
  }
  return out;
}

/** The iteration number as an ONNX value: a known int64 scalar whose element is the symbolic `i`. */
export function iterValue(i: PrimVar): KnownValue {
  return { kind: 'known', dtype: 'int64', shape: [], values: [i] };
}

/** `i < n` as an if's condition. */
export function below(i: PrimVar, n: PrimExpr): Expr {
  return primValue(lt(i, n));
}

defineConverter('Loop', (ctx) => {
  const body = ctx.attr.graph('body') ?? ctx.fail("attribute 'body' is required");
  const scalar = (t: TensorValue): TensorValue => (t.sinfo.shape.length === 0 ? t : ctx.op('reshape', [t, ctx.shapeArg([])]));
  const carried = ctx.node.input.slice(2).map((_, k) => ctx.tensor(k + 2));
  const trip = ctx.has(0) ? scalar(ctx.tensor(0)) : undefined;
  const cond0 = ctx.has(1) ? scalar(ctx.tensor(1)) : undefined;
  return buildLoop(ctx, {
    body,
    carried,
    invariants: trip ? [trip] : [],
    scans: body.output.length - 1 - carried.length,
    condOut: true,
    ...(cond0 ? { cond0 } : {}),
    keep: (i, cond, invs) => {
      if (!trip) return cond.expr;
      const below = ctx.op('less', [ctx.materialize(iterValue(i)), ctx.op('astype', [invs[0]!], { dtype: 'int64' })]);
      return ctx.op('logical_and', [below, cond]).expr;
    },
    inputs: (i, cond, c) => [iterValue(i), cond, ...c],
  });
});

/**
 * Scan (opset 9+) as the same loop: the scan inputs are invariants sliced at the iteration
 * number (from the end for a reverse direction); the trip count is the scan axis's length.
 * Opset 8's batched form runs one such loop per batch element (its batch size must be a constant).
 */
defineConverter('Scan', (ctx) => {
  const body = ctx.attr.graph('body') ?? ctx.fail("attribute 'body' is required");
  const m = ctx.attr.int('num_scan_inputs');
  if (ctx.opset < 9) {
    if (ctx.has(0)) ctx.fail('sequence_lens is not supported');
    const ins = ctx.node.input.slice(1).map((_, k) => ctx.tensor(k + 1));
    const batch = ins[0]?.sinfo.shape[0];
    const b = batch?.kind === 'int' ? batch.value : ctx.fail('the batch size must be a constant');
    const dirs = ctx.attr.ints(
      'directions',
      ins.slice(ins.length - m).map(() => 0),
    );
    const per = Array.from({ length: b }, (_, j) => {
      const idx = ctx.materialize(ctx.knownValue('int64', [], [intImm(j, 'int64')]));
      const sliced = ins.map((t) => ctx.op('take', [t, idx], { axis: 0 }));
      return scan(
        ctx,
        body,
        m,
        sliced,
        dirs,
        sliced.slice(sliced.length - m).map(() => 0),
        [],
        [],
      );
    });
    return per[0]!.map((_, k) =>
      per.length === 1
        ? ctx.op('expand_dims', [per[0]![k]!], { axis: [0] })
        : ctx.op('concat', [tuple(per.map((p) => ctx.op('expand_dims', [p[k]!], { axis: [0] }).expr))], { axis: 0 }),
    );
  }
  const ins = ctx.node.input.map((_, k) => ctx.tensor(k));
  const zeros = (n: number): number[] => Array.from({ length: n }, () => 0);
  const nOut = body.output.length - (ins.length - m);
  return scan(
    ctx,
    body,
    m,
    ins,
    ctx.attr.ints('scan_input_directions', zeros(m)),
    ctx.attr.ints('scan_input_axes', zeros(m)),
    ctx.attr.ints('scan_output_directions', zeros(nOut)),
    ctx.attr.ints('scan_output_axes', zeros(nOut)),
  );
});

function scan(
  ctx: NodeContext,
  body: GraphProto,
  m: number,
  ins: readonly TensorValue[],
  inDirs: readonly number[],
  inAxes: readonly number[],
  outDirs: readonly number[],
  outAxes: readonly number[],
): TensorValue[] {
  const n = ins.length - m;
  const scanIns = ins.slice(n);
  const axes = scanIns.map((t, k) => {
    const a = inAxes[k] ?? 0;
    return a < 0 ? a + t.sinfo.shape.length : a;
  });
  const outs = buildLoop(ctx, {
    body,
    carried: ins.slice(0, n),
    invariants: scanIns,
    scans: body.output.length - n,
    condOut: false,
    keep: (i, _cond, invs) => below(i, invs[0]!.sinfo.shape[axes[0]!]!),
    inputs: (i, _cond, carried, invs) => [
      ...carried,
      ...invs.map((x, k) => {
        const len = x.sinfo.shape[axes[k]!]!;
        const at = inDirs[k] ? sub(sub(len, 1), i) : i;
        const idx = ctx.materialize(ctx.knownValue('int64', [], [at]));
        return ctx.op('take', [x, idx], { axis: axes[k]! });
      }),
    ],
  });
  return outs.map((t, k) => {
    if (k < n) return t;
    const j = k - n;
    let r = outDirs[j] ? ctx.op('flip', [t], { axis: 0 }) : t;
    const rank = r.sinfo.shape.length;
    const a = (outAxes[j] ?? 0) < 0 ? outAxes[j]! + rank : (outAxes[j] ?? 0);
    if (a !== 0) {
      const perm = Array.from({ length: rank - 1 }, (_, q) => q + 1);
      perm.splice(a, 0, 0);
      r = ctx.op('permute_dims', [r], { axes: perm });
    }
    return r;
  });
}
