/**
 * A schedule: a PrimFunc being transformed by primitives, and the trace of
 * what was applied. Handles name blocks by their (unique) name and loops by
 * their loop variable, which survives every primitive that keeps the loop;
 * the trace names them by ids (b0, l1) so it replays on a fresh copy of the
 * same function.
 */
import type { PrimVar } from '../ir/prim/expr.ts';
import type { StorageScope } from '../ir/tir/buffer.ts';
import { type PrimFunc, type ThreadTag } from '../ir/tir/stmt.ts';
import { KilnError } from '../support/diagnostics.ts';
import { fail, M } from '../support/messages.ts';
import type { PrimitiveContext } from './errors.ts';
import { bind, parallel, unroll, vectorize } from './primitives/annotate.ts';
import { cacheRead, cacheWrite, padRead } from './primitives/cache.ts';
import { computeAt, reverseComputeAt } from './primitives/compute-at.ts';
import { getLoops } from './primitives/get.ts';
import { computeInline, reverseComputeInline } from './primitives/inline.ts';
import { fuse, reorder, split } from './primitives/loops.ts';
import { crossThreadReduction, decomposeReduction } from './primitives/reduction.ts';
import { isLayoutMap, type LayoutAxis, transformLayout } from './primitives/layout.ts';
import { rfactor } from './primitives/rfactor.ts';
import { instructionText, type Trace, type TraceAttr, type TraceInstruction } from './trace.ts';
import { getBlockRealize } from './tree.ts';

export interface BlockRV {
  readonly kind: 'block_rv';
  readonly name: string;
}

export interface LoopRV {
  readonly kind: 'loop_rv';
  readonly var: PrimVar;
}

type RV = BlockRV | LoopRV;

export class Schedule {
  private current: PrimFunc;
  private readonly instructions: TraceInstruction[] = [];
  private readonly ids = new Map<string | PrimVar, string>();
  private nextId = 0;

  constructor(
    func: PrimFunc,
    /** The kernel's name, for messages. */
    readonly kernel: string,
  ) {
    this.current = func;
  }

  /** The function as scheduled so far. */
  get func(): PrimFunc {
    return this.current;
  }

  get trace(): Trace {
    return this.instructions;
  }

  /** An independent copy: a rule tries its primitives on a fork and keeps it only when all apply. */
  fork(): Schedule {
    const copy = new Schedule(this.current, this.kernel);
    copy.instructions.push(...this.instructions);
    for (const [k, v] of this.ids) copy.ids.set(k, v);
    copy.nextId = this.nextId;
    return copy;
  }

  // --- handles ------------------------------------------------------------------------------

  getBlock(name: string): BlockRV {
    getBlockRealize(this.current, name, this.ctx('get_block'));
    const rv: BlockRV = { kind: 'block_rv', name };
    this.record('get_block', [], { name }, [rv]);
    return rv;
  }

  /** The loops above a block, outermost first. */
  getLoops(block: BlockRV): LoopRV[] {
    const vars = getLoops(this.current, block.name, this.ctx('get_loops'));
    const out = vars.map((v): LoopRV => ({ kind: 'loop_rv', var: v }));
    this.record('get_loops', [block], {}, out);
    return out;
  }

  // --- loop transformations ------------------------------------------------------------------

  /** Splits a loop into nested loops of the given extents; one factor may be null (inferred). */
  split(loop: LoopRV, factors: readonly (number | null)[]): LoopRV[] {
    const r = split(this.current, loop.var, factors, this.ctx('split'));
    this.current = r.func;
    const out = r.loops.map((v): LoopRV => ({ kind: 'loop_rv', var: v }));
    this.record('split', [loop], { factors: [...factors] }, out);
    return out;
  }

  /** Fuses perfectly nested consecutive loops (outermost first) into one. */
  fuse(...loops: LoopRV[]): LoopRV {
    const r = fuse(
      this.current,
      loops.map((l) => l.var),
      this.ctx('fuse'),
    );
    this.current = r.func;
    const out: LoopRV = { kind: 'loop_rv', var: r.loop };
    this.record('fuse', loops, {}, [out]);
    return out;
  }

  /** Reorders loops of one nest into the given order. */
  reorder(...loops: LoopRV[]): void {
    this.current = reorder(
      this.current,
      loops.map((l) => l.var),
      this.ctx('reorder'),
    );
    this.record('reorder', loops, {}, []);
  }

  bind(loop: LoopRV, thread: ThreadTag): void {
    this.current = bind(this.current, loop.var, thread, this.ctx('bind'));
    this.record('bind', [loop], { thread }, []);
  }

  vectorize(loop: LoopRV): void {
    this.current = vectorize(this.current, loop.var, this.ctx('vectorize'));
    this.record('vectorize', [loop], {}, []);
  }

  /** Marks `loop` unrolled; `maxCopies` lets lowering write out up to that many copies of its body (see unroll). */
  unroll(loop: LoopRV, maxCopies?: number): void {
    this.current = unroll(this.current, loop.var, this.ctx('unroll'), maxCopies);
    this.record('unroll', [loop], maxCopies === undefined ? {} : { max_copies: maxCopies }, []);
  }

  parallel(loop: LoopRV): void {
    this.current = parallel(this.current, loop.var, this.ctx('parallel'));
    this.record('parallel', [loop], {}, []);
  }

  // --- data movement and placement -----------------------------------------------------------

  /** A block copying read region `readIndex` of `block` into a `scope` buffer, which `block` then reads. */
  cacheRead(block: BlockRV, readIndex: number, scope: StorageScope): BlockRV {
    const r = cacheRead(this.current, block.name, readIndex, scope, this.ctx('cache_read'));
    this.current = r.func;
    const out: BlockRV = { kind: 'block_rv', name: r.block };
    this.record('cache_read', [block], { read_index: readIndex, scope }, [out]);
    return out;
  }

  /**
   * cache_read of an input `block` reads past its bounds: the `scope` buffer holds the padding as zeros and
   * the block's guards against it go; its last axis starts and ends on multiples of `multiple`. Under `loop`
   * (around the block) it holds what one iteration reads, else all the block's launch reads.
   */
  padRead(block: BlockRV, readIndex: number, scope: StorageScope, multiple = 1, loop?: LoopRV): BlockRV {
    const r = padRead(this.current, block.name, readIndex, scope, multiple, loop?.var, this.ctx('pad_read'));
    this.current = r.func;
    const out: BlockRV = { kind: 'block_rv', name: r.block };
    this.record('pad_read', loop ? [block, loop] : [block], { read_index: readIndex, scope, multiple }, [out]);
    return out;
  }

  /** `block` writes to a `scope` buffer; a new block copies it to the original output. */
  cacheWrite(block: BlockRV, writeIndex: number, scope: StorageScope): BlockRV {
    const r = cacheWrite(this.current, block.name, writeIndex, scope, this.ctx('cache_write'));
    this.current = r.func;
    const out: BlockRV = { kind: 'block_rv', name: r.block };
    this.record('cache_write', [block], { write_index: writeIndex, scope }, [out]);
    return out;
  }

  /** Moves a producer block under `loop` of its consumer, computing only the region used there. */
  computeAt(block: BlockRV, loop: LoopRV): void {
    this.current = computeAt(this.current, block.name, loop.var, this.ctx('compute_at'));
    this.record('compute_at', [block, loop], {}, []);
  }

  /** Moves a consumer block under `loop` of its producer. */
  reverseComputeAt(block: BlockRV, loop: LoopRV): void {
    this.current = reverseComputeAt(this.current, block.name, loop.var, this.ctx('reverse_compute_at'));
    this.record('reverse_compute_at', [block, loop], {}, []);
  }

  /** Inlines an elementwise producer block into its consumers. */
  computeInline(block: BlockRV): void {
    this.current = computeInline(this.current, block.name, this.ctx('compute_inline'));
    this.record('compute_inline', [block], {}, []);
  }

  /** Inlines an elementwise consumer block into its producer. */
  reverseComputeInline(block: BlockRV): void {
    this.current = reverseComputeInline(this.current, block.name, this.ctx('reverse_compute_inline'));
    this.record('reverse_compute_inline', [block], {}, []);
  }

  /**
   * The kernel takes buffer parameter `param` (an input) in the layout `map` (primitives/layout.ts):
   * whoever calls it must pass the tensor rewritten so (the schedule stage does, for constants).
   */
  transformLayout(param: number, map: readonly LayoutAxis[]): void {
    this.current = transformLayout(this.current, param, map, this.ctx('transform_layout'));
    this.record('transform_layout', [], { param, map: map.map((a) => [...a]) }, []);
  }

  // --- reductions ------------------------------------------------------------------------------

  /** Moves a reduction block's init into a block of its own, placed above `loop`. */
  decomposeReduction(block: BlockRV, loop: LoopRV): BlockRV {
    const r = decomposeReduction(this.current, block.name, loop.var, this.ctx('decompose_reduction'));
    this.current = r.func;
    const out: BlockRV = { kind: 'block_rv', name: r.initBlock };
    this.record('decompose_reduction', [block, loop], {}, [out]);
    return out;
  }

  /** Factors the reduction over `loop` into a new block computing partial results indexed by it. */
  rfactor(loop: LoopRV, factorAxis: number): BlockRV {
    const r = rfactor(this.current, loop.var, factorAxis, this.ctx('rfactor'));
    this.current = r.func;
    const out: BlockRV = { kind: 'block_rv', name: r.block };
    this.record('rfactor', [loop], { factor_axis: factorAxis }, [out]);
    return out;
  }

  /**
   * Turns a reduction block whose reduce loop is bound to a threadIdx tag into a
   * cooperative reduction: each thread accumulates, then the workgroup combines
   * the partial results in workgroup memory.
   */
  crossThreadReduction(block: BlockRV): void {
    this.current = crossThreadReduction(this.current, block.name, this.ctx('cross_thread_reduction'));
    this.record('cross_thread_reduction', [block], {}, []);
  }

  // --- trace -------------------------------------------------------------------------------

  private ctx(primitive: string): PrimitiveContext {
    return { kernel: this.kernel, primitive };
  }

  private id(rv: RV): string {
    const key = rv.kind === 'block_rv' ? `block:${rv.name}` : rv.var;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = `${rv.kind === 'block_rv' ? 'b' : 'l'}${this.nextId++}`;
      this.ids.set(key, id);
    }
    return id;
  }

  private record(op: string, inputs: readonly RV[], attrs: Record<string, TraceAttr>, outputs: readonly RV[]): void {
    const ins = inputs.map((rv) => this.id(rv));
    // Outputs always get fresh ids, so a replay can map them one to one.
    const outs = outputs.map((rv) => {
      const key = rv.kind === 'block_rv' ? `block:${rv.name}` : rv.var;
      const id = `${rv.kind === 'block_rv' ? 'b' : 'l'}${this.nextId++}`;
      this.ids.set(key, id);
      return id;
    });
    this.instructions.push({ op, inputs: ins, attrs, outputs: outs });
  }
}

/**
 * Applies a trace to `func` and returns the schedule. Each instruction's inputs
 * must have been produced by an earlier instruction of the trace.
 */
export function replayTrace(func: PrimFunc, kernel: string, trace: Trace): Schedule {
  const sch = new Schedule(func, kernel);
  const env = new Map<string, RV>();
  trace.forEach((ins, step) => {
    const problem = (p: string): never => fail(M.traceReplay, { kernel, step, instruction: instructionText(ins), problem: p });
    const inputs = ins.inputs.map((id) => env.get(id) ?? problem(`input ${id} is not defined by an earlier instruction`));
    const block = (i: number): BlockRV => {
      const rv = inputs[i];
      return rv?.kind === 'block_rv' ? rv : problem(`input ${i} must be a block`);
    };
    const loop = (i: number): LoopRV => {
      const rv = inputs[i];
      return rv?.kind === 'loop_rv' ? rv : problem(`input ${i} must be a loop`);
    };
    const attr = <T>(name: string, check: (v: unknown) => v is T): T => {
      const v = ins.attrs[name];
      return check(v) ? v : problem(`attribute '${name}' is missing or has the wrong type`);
    };
    let outs: RV[];
    try {
      outs = applyInstruction(sch, ins, inputs, block, loop, attr, problem);
    } catch (e) {
      // A primitive refusing during replay: say which step of the trace it was.
      if (e instanceof KilnError && e.diagnostics.some((d) => d.code === 'K7201')) problem(e.diagnostics[0]!.message);
      throw e;
    }
    if (outs.length !== ins.outputs.length) {
      problem(`it produced ${outs.length} handles, the trace recorded ${ins.outputs.length}`);
    }
    outs.forEach((rv, i) => env.set(ins.outputs[i]!, rv));
  });
  return sch;
}

type Attr = <T>(name: string, check: (v: unknown) => v is T) => T;

function applyInstruction(
  sch: Schedule,
  ins: TraceInstruction,
  inputs: readonly RV[],
  block: (i: number) => BlockRV,
  loop: (i: number) => LoopRV,
  attr: Attr,
  problem: (p: string) => never,
): RV[] {
  const isNum = (v: unknown): v is number => typeof v === 'number';
  const isStr = (v: unknown): v is string => typeof v === 'string';
  const isFactors = (v: unknown): v is (number | null)[] =>
    Array.isArray(v) && v.every((x) => x === null || typeof x === 'number');
  let outs: RV[];
  switch (ins.op) {
    case 'get_block':
      outs = [sch.getBlock(attr('name', isStr))];
      break;
    case 'get_loops':
      outs = sch.getLoops(block(0));
      break;
    case 'split':
      outs = sch.split(loop(0), attr('factors', isFactors));
      break;
    case 'fuse':
      outs = [sch.fuse(...inputs.map((_, i) => loop(i)))];
      break;
    case 'reorder':
      sch.reorder(...inputs.map((_, i) => loop(i)));
      outs = [];
      break;
    case 'bind':
      sch.bind(loop(0), attr('thread', isStr) as ThreadTag);
      outs = [];
      break;
    case 'vectorize':
    case 'parallel':
      sch[ins.op](loop(0));
      outs = [];
      break;
    case 'unroll':
      sch.unroll(loop(0), 'max_copies' in ins.attrs ? attr('max_copies', isNum) : undefined);
      outs = [];
      break;
    case 'cache_read':
      outs = [sch.cacheRead(block(0), attr('read_index', isNum), attr('scope', isStr) as StorageScope)];
      break;
    case 'pad_read':
      outs = [
        sch.padRead(
          block(0),
          attr('read_index', isNum),
          attr('scope', isStr) as StorageScope,
          attr('multiple', isNum),
          inputs.length > 1 ? loop(1) : undefined,
        ),
      ];
      break;
    case 'cache_write':
      outs = [sch.cacheWrite(block(0), attr('write_index', isNum), attr('scope', isStr) as StorageScope)];
      break;
    case 'compute_at':
      sch.computeAt(block(0), loop(1));
      outs = [];
      break;
    case 'reverse_compute_at':
      sch.reverseComputeAt(block(0), loop(1));
      outs = [];
      break;
    case 'compute_inline':
      sch.computeInline(block(0));
      outs = [];
      break;
    case 'reverse_compute_inline':
      sch.reverseComputeInline(block(0));
      outs = [];
      break;
    case 'decompose_reduction':
      outs = [sch.decomposeReduction(block(0), loop(1))];
      break;
    case 'rfactor':
      outs = [sch.rfactor(loop(0), attr('factor_axis', isNum))];
      break;
    case 'cross_thread_reduction':
      sch.crossThreadReduction(block(0));
      outs = [];
      break;
    case 'transform_layout':
      sch.transformLayout(attr('param', isNum), attr('map', isLayoutMap));
      outs = [];
      break;
    default:
      return problem(`unknown primitive '${ins.op}'`);
  }
  return outs;
}
