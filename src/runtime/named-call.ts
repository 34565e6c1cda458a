/**
 * Calling an entry function by the model's own input and output names (the
 * ONNX Runtime way: feeds in, results out, both by name): the names the
 * manifest lists, which may spell what IR identifiers cannot (`gpu_0/data_0`).
 */
import { CALL_CODES, CallError } from './errors.ts';
import type { EntryInfo } from './manifest.ts';
import type { Value } from './values.ts';

/** The positional arguments of `entry` from inputs by name; every input must be given, and no other. */
export function argsByName(entry: string, info: EntryInfo, inputs: Readonly<Record<string, Value>>): Value[] {
  const names = info.params.map((p) => p.name);
  const unknown = Object.keys(inputs).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new CallError(
      `${entry} has no input ${unknown.map((u) => `'${u}'`).join(', ')}; its inputs are ${names.map((n) => `'${n}'`).join(', ')}`,
      CALL_CODES.unknownName,
    );
  }
  const missing = names.filter((n) => !Object.hasOwn(inputs, n));
  if (missing.length > 0) {
    throw new CallError(
      `${entry}: input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} not given`,
      CALL_CODES.unknownName,
    );
  }
  return names.map((n) => inputs[n]!);
}

/**
 * The results of `entry` by name: the manifest's output names (one name: the result itself;
 * several: the fields of the result tuple), else output_0, output_1, ... as `kiln run --output` writes them.
 */
export function outputsByName(info: EntryInfo, result: Value): Record<string, Value> {
  const names = info.outputs;
  const fields = names
    ? names.length === 1
      ? [result]
      : (result as readonly Value[])
    : Array.isArray(result)
      ? result
      : [result];
  const out: Record<string, Value> = {};
  (fields as readonly Value[]).forEach((v, i) => (out[names?.[i] ?? `output_${i}`] = v));
  return out;
}
