/** kiln.tensor_to_shape: a 1-d integer tensor's elements as a shape value, for a match_cast to bind. */
import { Shape, type Value } from '../values.ts';
import { hostNumbers, tensorArg } from './host.ts';

export async function tensorToShape(...args: Value[]): Promise<Value> {
  const t = tensorArg(args, 0, 'kiln.tensor_to_shape');
  const dims = await hostNumbers(t);
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new RangeError(`kiln.tensor_to_shape: ${d} is not a size (a non-negative integer)`);
  }
  return new Shape(dims);
}
