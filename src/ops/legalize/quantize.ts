/**
 * Legalization of quantize / dequantize / dequantize_blockwise (src/ops/quantize.ts).
 * Quantizing divides by the scale in the scale's dtype, rounds half to even, adds
 * the zero point and clamps to the integer range before the cast (so the cast never
 * overflows); dequantizing subtracts in int32, as onnxruntime does, and multiplies.
 * Narrow integers stay narrow in memory (WebGPU widens them to 32-bit words itself).
 */
import { compute, type Tensor } from '../../ir/builder/te.ts';
import { intRange } from '../../ir/dtype.ts';
import { binary, call, floordiv, floormod, intImm, max, min, mul, type PrimExpr, sub } from '../../ir/prim/expr.ts';
import { convert, isOne, lit, normAxis } from './common.ts';
import { defineLegalization, type LegalizeCall } from './registry.ts';

/** The element of a scale or zero point for output index `i`: the one value, or the one of index i[axis]. */
function param(p: Tensor, i: readonly PrimExpr[], axis: number): PrimExpr {
  if (p.shape.length === 0) return p.at();
  return isOne(p.shape[0]!) ? p.at(intImm(0, p.shape[0]!.dtype)) : p.at(i[axis]!);
}

function axisOf(c: LegalizeCall): number {
  return normAxis(c.attr<number>('axis'), c.outShape().length);
}

defineLegalization('quantize', (c) => {
  const x = c.tensor('x');
  const scale = c.tensor('scale');
  const out = c.outDtype();
  const f = scale.dtype;
  const axis = axisOf(c);
  const range = intRange(out);
  return compute(
    c.outShape(),
    (i) => {
      let v: PrimExpr = call('round', [binary('div', convert(x.at(...i), f), param(scale, i, axis))]);
      if (c.has('zero_point')) v = binary('add', v, convert(param(c.tensor('zero_point'), i, axis), f));
      return convert(min(max(v, lit(range.min, f)), lit(range.max, f)), out);
    },
    'T_quantize',
  );
});

defineLegalization('dequantize', (c) => {
  const x = c.tensor('x');
  const scale = c.tensor('scale');
  const axis = axisOf(c);
  return compute(
    c.outShape(),
    (i) => {
      let q = convert(x.at(...i), 'int32');
      if (c.has('zero_point')) q = sub(q, convert(param(c.tensor('zero_point'), i, axis), 'int32'));
      return mul(convert(q, scale.dtype), param(scale, i, axis));
    },
    'T_dequantize',
  );
});

/** Field `slot` (of `bits` bits, the low ones first) of byte `byte`, as int32. */
function field(byte: PrimExpr, slot: PrimExpr, bits: number): PrimExpr {
  const shift = mul(convert(slot, 'int32'), intImm(bits, 'int32'));
  return binary('bitand', binary('shr', convert(byte, 'int32'), shift), intImm(2 ** bits - 1, 'int32'));
}

/**
 * W[k, n] = (q - zero_point) * scale of block k / block_size of column n, q being field
 * k % block_size of b[n, block]: the packed weights of MatMulNBits, transposed to [K, N].
 */
defineLegalization('dequantize_blockwise', (c) => {
  const b = c.tensor('b');
  const scales = c.tensor('scales');
  const bits = c.attr<number>('bits');
  const blockSize = c.attr<number>('block_size');
  const perByte = 8 / bits;
  const f = scales.dtype;
  const idx = (v: number): PrimExpr => intImm(v, c.outShape()[0]!.dtype);
  return compute(
    c.outShape(),
    ([k, n]) => {
      const block = floordiv(k!, idx(blockSize));
      const within = floormod(k!, idx(blockSize));
      const q = field(b.at(n!, block, floordiv(within, idx(perByte))), floormod(within, idx(perByte)), bits);
      let centered: PrimExpr;
      if (!c.has('zero_points')) centered = convert(sub(q, intImm(2 ** (bits - 1), 'int32')), f);
      else {
        const zp = c.tensor('zero_points');
        centered =
          zp.dtype === 'uint8'
            ? convert(sub(q, field(zp.at(n!, floordiv(block, idx(perByte))), floormod(block, idx(perByte)), bits)), f)
            : sub(convert(q, f), zp.at(n!, block));
      }
      return mul(centered, scales.at(n!, block));
    },
    'T_dequantize_blockwise',
  );
});
