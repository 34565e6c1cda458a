/**
 * Helper functions the kernels call, added to the module on first use: half
 * float conversions (float16 and bfloat16 are stored as bits and computed in
 * f32, rounded to nearest even as the JavaScript kernels round them), and
 * the math the WebAssembly instruction set lacks, imported from the host's
 * Math (in f64, as the JavaScript kernels compute them). The runtime supplies
 * the imports (src/runtime/wasm/imports.ts) under the names MATH_IMPORTS lists.
 */
import { MATH_IMPORTS, type MathImport } from '../../runtime/wasm/kernel-spec.ts';
import type { ModuleContext } from './context.ts';

type Helper = (ctx: ModuleContext) => void;

function mathImport(name: MathImport): Helper {
  return ({ B, m }) => {
    const arity = MATH_IMPORTS[name];
    m.addFunctionImport(name, 'math', name, B.createType(new Array<number>(arity).fill(B.f64)), B.f64);
  };
}

const imports = Object.fromEntries(Object.keys(MATH_IMPORTS).map((n) => [n, mathImport(n as MathImport)])) as Record<
  MathImport,
  Helper
>;

export const HELPERS = {
  ...imports,
  /** float16 bits (i32) -> f32: the bits shifted into place and scaled by 2^112 (subnormals too); infinities and NaN kept. */
  f16_to_f32: ({ B, m }) => {
    const h = (): number => m.local.get(0, B.i32);
    // A function, not a shared node: binaryen's IR is a tree (a node used twice breaks its passes).
    const magnitude = (): number => m.i32.shl(m.i32.and(h(), m.i32.const(0x7fff)), m.i32.const(13));
    const scaled = m.f32.mul(m.f32.reinterpret(magnitude()), m.f32.const(2 ** 112));
    const special = m.f32.reinterpret(m.i32.or(magnitude(), m.i32.const(0x7f800000)));
    const isSpecial = m.i32.eq(m.i32.and(h(), m.i32.const(0x7c00)), m.i32.const(0x7c00));
    const value = m.select(isSpecial, special, scaled);
    const signed = m.i32.or(m.i32.reinterpret(value), m.i32.shl(m.i32.and(h(), m.i32.const(0x8000)), m.i32.const(16)));
    m.addFunction('f16_to_f32', B.i32, B.f32, [], m.f32.reinterpret(signed));
  },
  /** f32 -> float16 bits, round to nearest even, overflow to infinity (numpy's conversion, as the JavaScript kernels). */
  f32_to_f16: ({ B, m }) => {
    // Locals: 0 the value; 1 its bits, 2 sign, 3 exponent bits, 4 significand.
    const get = (i: number): number => m.local.get(i, B.i32);
    const set = (i: number, v: number): number => m.local.set(i, v);
    const c = (x: number): number => m.i32.const(x);
    const body = m.block(null, [
      set(1, m.i32.reinterpret(m.local.get(0, B.f32))),
      set(2, m.i32.and(m.i32.shr_u(get(1), c(16)), c(0x8000))),
      set(3, m.i32.and(get(1), c(0x7f800000))),
      set(4, m.i32.and(get(1), c(0x007fffff))),
      // Overflow and infinities; NaN stays NaN.
      m.if(
        m.i32.ge_u(get(3), c(0x47800000)),
        m.return(
          m.select(m.i32.and(m.i32.eq(get(3), c(0x7f800000)), m.i32.ne(get(4), c(0))), c(0x7e00), m.i32.or(get(2), c(0x7c00))),
        ),
      ),
      // Subnormal results (and zero).
      m.if(
        m.i32.le_u(get(3), c(0x38000000)),
        m.block(null, [
          m.if(m.i32.lt_u(get(3), c(0x33000000)), m.return(get(2))),
          set(4, m.i32.shr_u(m.i32.add(c(0x00800000), get(4)), m.i32.sub(c(113), m.i32.shr_u(get(3), c(23))))),
          m.if(
            m.i32.or(m.i32.ne(m.i32.and(get(4), c(0x3fff)), c(0x1000)), m.i32.ne(m.i32.and(get(1), c(0x7ff)), c(0))),
            set(4, m.i32.add(get(4), c(0x1000))),
          ),
          m.return(m.i32.add(get(2), m.i32.shr_u(get(4), c(13)))),
        ]),
      ),
      m.if(m.i32.ne(m.i32.and(get(4), c(0x3fff)), c(0x1000)), set(4, m.i32.add(get(4), c(0x1000)))),
      m.return(m.i32.add(get(2), m.i32.add(m.i32.shr_u(m.i32.sub(get(3), c(0x38000000)), c(13)), m.i32.shr_u(get(4), c(13))))),
    ]);
    m.addFunction('f32_to_f16', B.f32, B.i32, [B.i32, B.i32, B.i32, B.i32], body);
  },
  /** f32 -> bfloat16 bits, round to nearest even; NaN to the quiet NaN. */
  f32_to_bf16: ({ B, m }) => {
    const x = (): number => m.local.get(0, B.f32);
    const b = (): number => m.i32.reinterpret(x());
    const rounded = m.i32.shr_u(
      m.i32.add(m.i32.add(b(), m.i32.const(0x7fff)), m.i32.and(m.i32.shr_u(b(), m.i32.const(16)), m.i32.const(1))),
      m.i32.const(16),
    );
    m.addFunction('f32_to_bf16', B.f32, B.i32, [], m.select(m.f32.ne(x(), x()), m.i32.const(0x7fc0), rounded));
  },
  /**
   * e^x on four f32 lanes, for vector loops (softmax, sigmoid): Cephes' expf, as XNNPACK and MLAS
   * compute it. x = n·ln2 + r with |r| <= ln2/2 (ln2 in two parts, so r is exact), e^r by a degree-6
   * polynomial, times 2^n built in the exponent bits in two halves (2^128 and the subnormal results
   * have no single f32 factor). Within 2 ulp of the correctly rounded result; infinities and NaN as
   * Math.exp; below e^-104 (under half the least subnormal) 0.
   */
  exp_f32x4: ({ B, m }) => {
    const x = (): number => m.local.get(0, B.v128);
    const n = (): number => m.local.get(1, B.v128);
    const r = (): number => m.local.get(2, B.v128);
    const k = (): number => m.local.get(3, B.v128);
    const c = (v: number): number => m.f32x4.splat(m.f32.const(v));
    const ci = (v: number): number => m.i32x4.splat(m.i32.const(v));
    const fma = (a: number, b: number, add: number): number => m.f32x4.add(m.f32x4.mul(a, b), add);
    const P = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
    let poly = c(P[0]!);
    for (const p of P.slice(1)) poly = fma(poly, r(), c(p));
    // 2^h as f32 bits for an integer vector h in [-126, 127].
    const pow2 = (h: number): number => m.i32x4.shl(m.i32x4.add(h, ci(127)), m.i32.const(23));
    const body = m.block(null, [
      m.local.set(0, m.f32x4.min(m.f32x4.max(x(), c(-104)), c(88.8))),
      m.local.set(1, m.f32x4.nearest(m.f32x4.mul(x(), c(Math.LOG2E)))),
      m.local.set(2, fma(n(), c(2.1219444e-4), fma(n(), c(-0.693359375), x()))),
      m.local.set(3, m.i32x4.trunc_sat_f32x4_s(n())),
      m.local.set(1, m.i32x4.shr_s(k(), m.i32.const(1))),
      m.return(
        m.f32x4.mul(
          m.f32x4.mul(fma(m.f32x4.mul(poly, r()), r(), m.f32x4.add(r(), c(1))), pow2(n())),
          pow2(m.i32x4.sub(k(), n())),
        ),
      ),
    ]);
    m.addFunction('exp_f32x4', B.v128, B.v128, [B.v128, B.v128, B.v128], body);
  },
  /**
   * erf on four f32 lanes (GELU's), as Eigen computes it in float: x clamped to [-4, 4] (beyond, erf
   * rounds to ±1), then x·P(x²)/Q(x²), a degree-13 odd over a degree-8 even polynomial. Within 4 ulp of
   * the correctly rounded result; NaN stays NaN.
   */
  erf_f32x4: ({ B, m }) => {
    const x = (): number => m.local.get(0, B.v128);
    const x2 = (): number => m.local.get(1, B.v128);
    const c = (v: number): number => m.f32x4.splat(m.f32.const(v));
    const poly = (coefficients: readonly number[]): number => {
      let acc = c(coefficients[0]!);
      for (const k of coefficients.slice(1)) acc = m.f32x4.add(m.f32x4.mul(acc, x2()), c(k));
      return acc;
    };
    const P = [
      -2.72614225801306e-10, 2.77068142495902e-8, -2.10102402082508e-6, -5.69250639462346e-5, -7.34990630326855e-4,
      -2.95459980854025e-3, -1.60960333262415e-2,
    ];
    const Q = [-1.45660718464996e-5, -2.13374055278905e-4, -1.68282697438203e-3, -7.37332916720468e-3, -1.42647390514189e-2];
    const body = m.block(null, [
      m.local.set(0, m.f32x4.min(m.f32x4.max(x(), c(-4)), c(4))),
      m.local.set(1, m.f32x4.mul(x(), x())),
      m.return(m.f32x4.div(m.f32x4.mul(x(), poly(P)), poly(Q))),
    ]);
    m.addFunction('erf_f32x4', B.v128, B.v128, [B.v128], body);
  },
  /**
   * tanh on four f32 lanes, as Cephes' tanhf: below |x| = 0.625, x + x³·P(x²); above, through
   * exp_f32x4 as 1 - 2/(e^{2|x|} + 1), which rounds to 1 past the range of exp. Both are computed and
   * the lanes chosen by |x|, then x's sign put on the result; NaN stays NaN.
   */
  tanh_f32x4: (ctx) => {
    const { B, m } = ctx;
    const x = (): number => m.local.get(0, B.v128);
    const z = (): number => m.local.get(1, B.v128);
    const c = (v: number): number => m.f32x4.splat(m.f32.const(v));
    let p = c(-5.70498872745e-3);
    for (const k of [2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1]) {
      p = m.f32x4.add(m.f32x4.mul(p, z()), c(k));
    }
    const small = m.f32x4.add(m.f32x4.mul(m.f32x4.mul(p, z()), x()), x());
    const e = m.call(ctx.helper('exp_f32x4'), [m.f32x4.mul(m.f32x4.abs(x()), c(2))], B.v128);
    const large = m.f32x4.sub(c(1), m.f32x4.div(c(2), m.f32x4.add(e, c(1))));
    const magnitude = m.f32x4.abs(m.v128.bitselect(small, large, m.f32x4.lt(m.f32x4.abs(x()), c(0.625))));
    // The sign bit of x on the magnitude (tanh(-0) is -0).
    const body = m.block(null, [
      m.local.set(1, m.f32x4.mul(x(), x())),
      m.return(m.v128.or(magnitude, m.v128.and(x(), m.i32x4.splat(m.i32.const(-0x80000000))))),
    ]);
    m.addFunction('tanh_f32x4', B.v128, B.v128, [B.v128], body);
  },
} satisfies Record<string, Helper>;

export type HelperName = keyof typeof HELPERS;
