/**
 * The values entry functions and registry functions exchange: tensors,
 * shapes, scalars (numbers), strings, tuples (arrays) and opaque objects.
 */
import type { NDArray } from './ndarray.ts';

/** A shape value (`shape(n, 4)` in the IR): a list of dimensions, not a tensor. */
export class Shape {
  readonly dims: readonly number[];
  constructor(dims: readonly number[]) {
    this.dims = Object.freeze([...dims]);
  }
  toString(): string {
    return `Shape(${this.dims.join(', ')})`;
  }
}

export type Value = NDArray | Shape | number | boolean | string | readonly Value[] | object;
