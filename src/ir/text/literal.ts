/**
 * How the text format types literals without a dtype suffix. The printer and
 * the parser share these rules, so a literal is printed with a suffix exactly
 * when the parser would otherwise give it another type.
 */
import { type DataType, INDEX_DTYPE, isFloat, isInt } from '../dtype.ts';

export type LiteralClass = 'int' | 'float';

/** The type an unsuffixed literal gets where `expected` is the type its position calls for. */
export function literalType(cls: LiteralClass, expected: DataType | undefined): DataType {
  if (expected !== undefined && isFloat(expected)) return expected;
  if (cls === 'int' && expected !== undefined && isInt(expected)) return expected;
  return cls === 'int' ? INDEX_DTYPE : 'float32';
}
