/** kiln.nonzero: ONNX NonZero — the coordinates of the non-zero elements, one column each (row-major order). */
import type { Value } from '../values.ts';
import { hostNumbers, int64Result, tensorArg } from './host.ts';

export async function nonzero(...args: Value[]): Promise<Value> {
  const x = tensorArg(args, 0, 'kiln.nonzero');
  const values = await hostNumbers(x);
  // A 0-d input counts as one axis of length one, as onnxruntime does.
  const shape = x.shape.length === 0 ? [1] : x.shape;
  const hits: number[] = [];
  values.forEach((v, i) => {
    if (v !== 0) hits.push(i);
  });
  const rank = shape.length;
  const out = new Array<number>(rank * hits.length);
  hits.forEach((flat, col) => {
    let rest = flat;
    for (let a = rank - 1; a >= 0; a--) {
      out[a * hits.length + col] = rest % shape[a]!;
      rest = Math.floor(rest / shape[a]!);
    }
  });
  return int64Result(x.device, [rank, hits.length], out);
}
