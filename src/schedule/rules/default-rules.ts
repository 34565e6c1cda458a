/**
 * Default schedules: every kernel of a module gets a valid GPU schedule
 * without tuning. Each top-level nest of a kernel is one launch; for each, the
 * rules are tried in order on a fork of the kernel's schedule, and the first
 * that applies is kept. The kernel records which rule scheduled each nest and
 * the whole trace (attrs `schedule_rules`, `schedule_trace`), so a user can
 * see why a kernel looks the way it does and the tuner can start from it.
 */
import type { AttrMap, AttrValue } from '../../ir/attrs.ts';
import { type IRModule, withFunction } from '../../ir/module.ts';
import type { TargetDescription, TargetKind } from '../../ir/target.ts';
import { type PrimFunc, primFunc } from '../../ir/tir/stmt.ts';
import { KilnError } from '../../support/diagnostics.ts';
import { foldModule, type KernelEvaluator } from '../../passes/fold-constants.ts';
import { insertLayoutTransforms, layoutFreeParams, type LayoutRewrite } from '../layout-rewrite.ts';
import type { LayoutAxis } from '../primitives/layout.ts';
import { Schedule } from '../schedule.ts';
import type { Trace } from '../trace.ts';
import { convRule } from './conv.ts';
import { CPU_RULES } from './cpu.ts';
import { fallbackRule } from './fallback.ts';
import { injectiveRule } from './injective.ts';
import { matmulRule } from './matmul.ts';
import { hasThreadBinding, perfectNest, topLevelStmts } from './nest.ts';
import { crossThreadReductionRule, gemvRule, perThreadReductionRule } from './reduction.ts';
import { ruleContext, type ScheduleRule } from './rule.ts';

/** The GPU rules, most specific first. */
export const GPU_RULES: readonly ScheduleRule[] = [
  injectiveRule,
  matmulRule,
  convRule,
  crossThreadReductionRule,
  gemvRule,
  perThreadReductionRule,
  fallbackRule,
];

/** The default rules of each target kind (none: its kernels run as written). */
const DEFAULT_RULES: Record<TargetKind, readonly ScheduleRule[]> = {
  js: [],
  wasm: CPU_RULES,
  webgpu: GPU_RULES,
};

export function defaultRules(kind: TargetKind): readonly ScheduleRule[] {
  return DEFAULT_RULES[kind];
}

/** Rules whose launch ends in a write-back block an elementwise epilogue can fold into. */
const EPILOGUE_HOSTS = new Set(['conv', 'matmul', 'cpu-matmul', 'cpu-conv', 'cpu-conv-channels', 'cpu-depthwise']);

export const SCHEDULE_RULES_ATTR = 'schedule_rules';
export const SCHEDULE_TRACE_ATTR = 'schedule_trace';

export interface KernelSchedule {
  readonly func: PrimFunc;
  /** Per launch (top-level nest), the rule that scheduled it: `prescheduled` when it was bound already, `none` when no rule applied. */
  readonly rules: readonly string[];
  readonly trace: Trace;
}

export function scheduleKernel(
  name: string,
  f: PrimFunc,
  target: TargetDescription,
  rules: readonly ScheduleRule[] = defaultRules(target.kind),
  options: { readonly layoutFree?: ReadonlySet<number>; readonly relayout?: boolean } = {},
): KernelSchedule {
  const ctx = { ...ruleContext(target), layoutFree: options.layoutFree ?? NO_PARAMS, relayout: options.relayout ?? false };
  let sch = new Schedule(f, name);
  const used: string[] = [];
  // Blocks are named before scheduling starts: nests change shape as rules apply, names stay.
  const launches = topLevelStmts(f).map((s) => (hasThreadBinding(s) ? undefined : perfectNest(s)?.block.block.name));
  for (const blockName of launches) {
    if (blockName === undefined) {
      used.push(topLevelStmts(f).length > 0 ? 'prescheduled-or-opaque' : 'none');
      continue;
    }
    // An elementwise epilogue (fuse's bias / activation / residual add) after a tiled matmul or
    // conv folds into the tile's write-back from registers: one launch, no intermediate in memory.
    if (EPILOGUE_HOSTS.has(used[used.length - 1] ?? '')) {
      const fork = sch.fork();
      try {
        fork.reverseComputeInline(fork.getBlock(blockName));
        sch = fork;
        continue;
      } catch (e) {
        if (!(e instanceof KilnError && e.diagnostics.some((d) => d.code === 'K7201'))) throw e;
      }
    }
    const nest = currentNest(sch.func, blockName);
    let applied = 'none';
    for (const rule of nest ? rules : []) {
      const fork = sch.fork();
      try {
        if (!rule.apply(fork, nest!, ctx)) continue;
      } catch (e) {
        // A primitive refused: the rule does not fit this nest after all.
        if (e instanceof KilnError && e.diagnostics.some((d) => d.code === 'K7201')) continue;
        throw e;
      }
      sch = fork;
      applied = rule.name;
      break;
    }
    used.push(applied);
  }
  return { func: sch.func, rules: used, trace: sch.trace };
}

function currentNest(f: PrimFunc, blockName: string) {
  for (const s of topLevelStmts(f)) {
    const n = perfectNest(s);
    if (n && n.block.block.name === blockName) return n;
  }
  return undefined;
}

const NO_PARAMS: ReadonlySet<number> = new Set();

export interface ScheduleOptions {
  /**
   * Evaluates kernels on constants (fold-constants' evaluator, the js target's kernels): with it, the
   * layout transforms of pre-packed weights are folded into new constants at build time.
   */
  readonly evaluate?: KernelEvaluator;
  /**
   * Let rules change the layout of kernel parameters: constants at every call pre-packed (a matmul's B
   * in panels, folded at build time with `evaluate`), a stride-2 1x1 convolution's input subsampled (a
   * copy at run time). Default: when `evaluate` is given; without it the packing would run at every call.
   */
  readonly prepack?: boolean;
}

/**
 * Schedules every unscheduled PrimFunc of the module and records what was done in its attrs.
 * Where a rule changed the layout of a constant parameter, the calls pass it through the layout
 * transform (schedule/layout-rewrite.ts), folded into a packed constant when `evaluate` is given.
 */
export function scheduleModule(m: IRModule, target: TargetDescription, options: ScheduleOptions = {}): IRModule {
  if (defaultRules(target.kind).length === 0) return m;
  const relayout = options.prepack ?? options.evaluate !== undefined;
  const free = relayout ? layoutFreeParams(m) : new Map<string, Set<number>>();
  const rewrites = new Map<string, LayoutRewrite[]>();
  let out = m;
  for (const [name, f] of m.functions) {
    if (f.kind !== 'prim_func' || f.attrs[SCHEDULE_RULES_ATTR] !== undefined) continue;
    const s = scheduleKernel(name, f, target, defaultRules(target.kind), {
      layoutFree: free.get(name) ?? NO_PARAMS,
      relayout,
    });
    const changed = layoutRewrites(f, s.trace);
    if (changed.length > 0) rewrites.set(name, changed);
    const attrs: AttrMap = {
      ...s.func.attrs,
      [SCHEDULE_RULES_ATTR]: s.rules,
      [SCHEDULE_TRACE_ATTR]: s.trace.map((ins): AttrValue => ({
        op: ins.op,
        inputs: ins.inputs,
        attrs: ins.attrs as AttrMap,
        outputs: ins.outputs,
      })),
    };
    out = withFunction(out, name, primFunc(s.func.params, s.func.body, attrs));
  }
  if (rewrites.size === 0) return out;
  const { module, transforms } = insertLayoutTransforms(out, rewrites);
  const folded = options.evaluate
    ? foldModule(module, { evaluate: options.evaluate, batchNorm: false, only: (kernel) => transforms.has(kernel) })
    : module;
  // The transforms left to run time (of arguments that are not constants) get schedules too.
  return scheduleModule(folded, target);
}

/** The parameters a kernel's trace re-laid out (transform_layout instructions). */
function layoutRewrites(f: PrimFunc, trace: Trace): LayoutRewrite[] {
  const out: LayoutRewrite[] = [];
  for (const ins of trace) {
    if (ins.op !== 'transform_layout') continue;
    const param = ins.attrs.param as number;
    const source = f.params[param];
    if (source?.kind !== 'buffer') continue;
    out.push({ param, source, map: ins.attrs.map as unknown as LayoutAxis[] });
  }
  return out;
}
