/**
 * kiln.check_slice_bounds: a slice whose bounds the graph computes runs with them as they
 * are (not clamped, so its length stays `end - begin`); this checks, before it runs, that on
 * each axis 0 <= begin <= end <= size, and returns `end` (what the slice takes). Out of range
 * is the model's input leading its computed bounds past a tensor (a sequence longer than the
 * positions a model was exported with): a CallError naming the node, never a read past the data.
 */
import { CALL_CODES, CallError } from '../errors.ts';
import { Shape, type Value } from '../values.ts';
import { builtinAttrs, tensorArg } from './host.ts';

const NAME = 'kiln.check_slice_bounds';

function shapeArg(args: readonly unknown[], i: number): readonly number[] {
  const s = args[i];
  if (!(s instanceof Shape)) throw new TypeError(`${NAME}: argument ${i} must be a shape`);
  return s.dims;
}

export function checkSliceBounds(...args: Value[]): Value {
  const data = tensorArg(args, 0, NAME);
  const [begin, end] = [shapeArg(args, 1), shapeArg(args, 2)];
  const attrs = builtinAttrs(args[3], NAME);
  const axes = attrs.axes as readonly number[];
  const node = typeof attrs.node === 'string' && attrs.node !== '' ? `Slice '${attrs.node}'` : 'a slice';
  axes.forEach((axis, k) => {
    const size = data.shape[axis]!;
    const [b, e] = [begin[k]!, end[k]!];
    if (b < 0 || b > e || e > size) {
      throw new CallError(
        `${node}: its bounds, computed while the model runs, are [${b}, ${e}) on axis ${axis} of a tensor of shape [${data.shape.join(', ')}] ` +
          `(they must lie within 0..${size}); the inputs lead the model past what it was built for (e.g. a sequence longer than its positions)`,
        CALL_CODES.outOfRange,
      );
    }
  });
  return new Shape([...end]);
}
