/**
 * ONNX operator converters: one per op_type of the default domain, each a
 * function of the node's context that emits Kiln operator calls (or computes
 * a known value at import time) and returns the node's outputs.
 */
import type { NodeContext } from '../context.ts';
import type { Value } from '../values.ts';

/** One value per output of the node (undefined for an optional output not produced). */
export type ConverterResult = Value | readonly (Value | undefined)[];

export type Converter = (ctx: NodeContext) => ConverterResult;

const TABLE = new Map<string, Converter>();

export function defineConverter(opTypes: string | readonly string[], fn: Converter): void {
  for (const op of typeof opTypes === 'string' ? [opTypes] : opTypes) {
    if (TABLE.has(op)) throw new Error(`ONNX operator '${op}' has two converters`);
    TABLE.set(op, fn);
  }
}

export function getConverter(opType: string): Converter | undefined {
  return TABLE.get(opType);
}

export function supportedOnnxOps(): string[] {
  return [...TABLE.keys()].sort();
}
