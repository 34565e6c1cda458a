/**
 * Legalizations of the operators of src/ops/manipulate.ts (all but shape_of,
 * which the VM runs itself). Every output element is one input element, so
 * each operator is one compute whose body is index arithmetic. reshape,
 * flatten, squeeze and expand_dims copy for now; they may become views later.
 */
import { Analyzer, simplify } from '../../ir/arith/analyzer.ts';
import { compute, type Tensor } from '../../ir/builder/te.ts';
import { add, eq, floordiv, floormod, intImm, lt, max, min, mul, type PrimExpr, select, sub } from '../../ir/prim/expr.ts';
import { isOne, normAxis } from './common.ts';
import { defineLegalization, type LegalizeCall } from './registry.ts';

const analyzer = new Analyzer();

/** Whether two dims are equal for every value of their variables. */
function sameDim(a: PrimExpr, b: PrimExpr): boolean {
  return analyzer.proveEqual(a, b);
}

/** The row-major offset of index `idx` in `shape`. */
export function ravel(idx: readonly PrimExpr[], shape: readonly PrimExpr[]): PrimExpr {
  if (idx.length === 0) return intImm(0);
  return idx.slice(1).reduce((acc, i, k) => add(mul(acc, shape[k + 1]!), i), idx[0]!);
}

/** The index in `shape` of the row-major offset `offset` (which must be in range). */
export function unravel(offset: PrimExpr, shape: readonly PrimExpr[]): PrimExpr[] {
  const idx: PrimExpr[] = [];
  let rest = offset;
  for (let k = shape.length - 1; k > 0; k--) {
    const d = shape[k]!;
    if (isOne(d)) {
      idx.unshift(intImm(0, d.dtype));
      continue;
    }
    idx.unshift(floormod(rest, d));
    rest = floordiv(rest, d);
  }
  // The leading index needs no modulo: an offset in range is below the product of the dims.
  if (shape.length > 0) idx.unshift(rest);
  return idx;
}

/**
 * The input index that a row-major reshape from `inShape` to `outShape` pairs
 * with output index `out`. Leading and trailing dims that the two shapes
 * share map straight through, so a squeeze or expand_dims needs no division.
 */
export function reshapeIndex(out: readonly PrimExpr[], outShape: readonly PrimExpr[], inShape: readonly PrimExpr[]): PrimExpr[] {
  let lead = 0;
  while (lead < outShape.length && lead < inShape.length && sameDim(outShape[lead]!, inShape[lead]!)) lead++;
  let trail = 0;
  while (
    trail < outShape.length - lead &&
    trail < inShape.length - lead &&
    sameDim(outShape[outShape.length - 1 - trail]!, inShape[inShape.length - 1 - trail]!)
  ) {
    trail++;
  }
  const outMid = outShape.slice(lead, outShape.length - trail);
  const inMid = inShape.slice(lead, inShape.length - trail);
  const mid = unravel(ravel(out.slice(lead, out.length - trail), outMid), inMid);
  return [...out.slice(0, lead), ...mid, ...out.slice(out.length - trail)];
}

function copyReshaped(c: LegalizeCall, name: string): Tensor {
  const x = c.tensor('data');
  const shape = c.outShape();
  return compute(shape, (i) => x.at(...reshapeIndex(i, shape, x.shape)), name);
}

defineLegalization('reshape', (c) => copyReshaped(c, 'T_reshape'));
defineLegalization('flatten', (c) => copyReshaped(c, 'T_flatten'));
defineLegalization('squeeze', (c) => copyReshaped(c, 'T_squeeze'));
defineLegalization('expand_dims', (c) => copyReshaped(c, 'T_expand_dims'));

defineLegalization('permute_dims', (c) => {
  const x = c.tensor('data');
  const ndim = x.shape.length;
  const axes =
    c.optionalAttr<readonly number[]>('axes')?.map((a) => normAxis(a, ndim)) ??
    Array.from({ length: ndim }, (_, i) => ndim - 1 - i);
  return compute(
    c.outShape(),
    (i) => {
      // Output axis k is input axis axes[k].
      const idx: PrimExpr[] = new Array<PrimExpr>(ndim);
      axes.forEach((a, k) => (idx[a] = i[k]!));
      return x.at(...idx);
    },
    'T_permute_dims',
  );
});

defineLegalization('concat', (c) => {
  const all = c.tensors('tensors');
  const axis = normAxis(c.attr<number>('axis'), all[0]!.shape.length);
  // Empty parts contribute nothing, and no index into them is valid.
  const nonEmpty = all.filter((t) => {
    const d = t.shape[axis]!;
    return !(d.kind === 'int' && d.value === 0);
  });
  const parts = nonEmpty.length > 0 ? nonEmpty : [all[0]!];
  const starts: PrimExpr[] = [intImm(0)];
  for (const t of parts.slice(0, -1)) starts.push(simplify(add(starts[starts.length - 1]!, t.shape[axis]!)));
  const last = parts.length - 1;
  return compute(
    c.outShape(),
    (i) => {
      const at = (p: number): PrimExpr => {
        const t = parts[p]!;
        // A select may evaluate both branches (as in TVM), so the index into a part the
        // element is not in is clamped to stay a valid read.
        let j = p === 0 ? i[axis]! : max(sub(i[axis]!, starts[p]!), 0);
        if (p < last) j = min(j, sub(t.shape[axis]!, 1));
        return t.at(...i.map((v, k) => (k === axis ? j : v)));
      };
      let e = at(last);
      for (let p = last - 1; p >= 0; p--) e = select(lt(i[axis]!, starts[p + 1]!), at(p), e);
      return e;
    },
    'T_concat',
  );
});

defineLegalization('broadcast_to', (c) => {
  const x = c.tensor('data');
  const shape = c.outShape();
  const lead = shape.length - x.shape.length;
  return compute(
    shape,
    (i) =>
      x.at(
        ...x.shape.map((d, k) => {
          const o = i[lead + k]!;
          if (isOne(d)) return intImm(0, o.dtype);
          if (sameDim(d, shape[lead + k]!)) return o;
          // A dim that is neither provably 1 nor provably the target's is one of them at run time.
          return select(eq(d, 1), intImm(0, o.dtype), o);
        }),
      ),
    'T_broadcast_to',
  );
});

defineLegalization('tile', (c) => {
  const x = c.tensor('data');
  const shape = c.outShape();
  const lead = shape.length - x.shape.length;
  const repeats = c.attr<readonly number[]>('repeats');
  // Repeats align to the trailing axes of the result.
  const rep = (axis: number): number => repeats[axis - (shape.length - repeats.length)] ?? 1;
  return compute(
    shape,
    (i) =>
      x.at(
        ...x.shape.map((d, k) => {
          const o = i[lead + k]!;
          if (isOne(d)) return intImm(0, o.dtype);
          return rep(lead + k) === 1 ? o : floormod(o, d);
        }),
      ),
    'T_tile',
  );
});

defineLegalization('repeat', (c) => {
  const x = c.tensor('data');
  const repeats = c.attr<number>('repeats');
  const axis = c.optionalAttr<number>('axis');
  // With 0 repeats the result is empty and the body never runs: no division by 0 is written.
  const source = (o: PrimExpr): PrimExpr => (repeats <= 1 ? o : floordiv(o, repeats));
  if (axis === undefined) {
    return compute(c.outShape(), ([i]) => x.at(...unravel(source(i!), x.shape)), 'T_repeat');
  }
  const a = normAxis(axis, x.shape.length);
  return compute(c.outShape(), (i) => x.at(...i.map((v, k) => (k === a ? source(v) : v))), 'T_repeat');
});

defineLegalization('flip', (c) => {
  const x = c.tensor('data');
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  return compute(c.outShape(), (i) => x.at(...i.map((v, k) => (k === axis ? sub(sub(x.shape[k]!, 1), v) : v))), 'T_flip');
});
