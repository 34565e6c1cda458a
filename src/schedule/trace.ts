/**
 * The trace of a schedule: every primitive applied, in order, with its inputs
 * and outputs named by random-variable ids (b0 a block, l1 a loop). Replaying
 * a trace on the same PrimFunc gives the same result, so the tuner stores
 * traces and the build report shows them.
 */
export type TraceAttr = string | number | boolean | null | readonly TraceAttr[];

export interface TraceInstruction {
  /** The primitive: get_block, split, bind, cache_read, ... */
  readonly op: string;
  /** Ids of the handles it takes: `b<i>` blocks, `l<i>` loops. */
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, TraceAttr>>;
  /** Ids of the handles it returns. */
  readonly outputs: readonly string[];
}

export type Trace = readonly TraceInstruction[];

function attrText(v: TraceAttr): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `[${v.map(attrText).join(', ')}]`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** One instruction as a line: `l2, l3 = split(l1, factors=[None, 64])`. */
export function instructionText(ins: TraceInstruction): string {
  const args = [...ins.inputs, ...Object.entries(ins.attrs).map(([k, v]) => `${k}=${attrText(v)}`)];
  const call = `${ins.op}(${args.join(', ')})`;
  return ins.outputs.length > 0 ? `${ins.outputs.join(', ')} = ${call}` : call;
}

export function traceText(trace: Trace): string {
  return trace.map(instructionText).join('\n');
}
