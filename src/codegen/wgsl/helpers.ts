/**
 * WGSL functions the generated kernels call: what WGSL lacks (floor division
 * of signed integers, erf, log1p, expm1, C's fmod and pow), what it leaves
 * undefined (NaN tests, which compilers may fold away, so they read the bits;
 * float-to-int casts of NaN), and the 16-bit float formats. Each is emitted
 * only when a kernel uses it.
 */

interface Helper {
  readonly deps?: readonly string[];
  readonly source: string;
}

const HELPERS = {
  // A function call is never a constant expression, and WGSL rejects constant infinities and NaNs.
  kiln_f32_bits: { source: 'fn kiln_f32_bits(b: u32) -> f32 { return bitcast<f32>(b); }' },
  kiln_isnan: { source: 'fn kiln_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }' },
  kiln_isinf: { source: 'fn kiln_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }' },
  kiln_isfinite: { source: 'fn kiln_isfinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }' },
  // WGSL's a / 0 is a; the JavaScript kernels give 0 (C leaves it undefined).
  kiln_div: { source: 'fn kiln_div(a: i32, b: i32) -> i32 { return select(a / b, 0i, b == 0i); }' },
  kiln_udiv: { source: 'fn kiln_udiv(a: u32, b: u32) -> u32 { return select(a / b, 0u, b == 0u); }' },
  kiln_floordiv: {
    source: `fn kiln_floordiv(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let q = a / b;
  return select(q, q - 1i, q * b != a && (a < 0i) != (b < 0i));
}`,
  },
  kiln_floormod: {
    source: `fn kiln_floormod(a: i32, b: i32) -> i32 {
  let r = a % b;
  return select(r, r + b, r != 0i && (r < 0i) != (b < 0i));
}`,
  },
  kiln_floormod_f: { source: 'fn kiln_floormod_f(a: f32, b: f32) -> f32 { return a - floor(a / b) * b; }' },
  kiln_f2i: {
    deps: ['kiln_isnan'],
    // Truncates toward zero and saturates; NaN becomes 0 as in the JavaScript kernels.
    source: `fn kiln_f2i(x: f32) -> i32 {
  if (kiln_isnan(x)) { return 0i; }
  if (x >= 2147483648.0f) { return 2147483647i; }
  return i32(max(x, -2147483648.0f));
}`,
  },
  kiln_f2u: {
    deps: ['kiln_f2i', 'kiln_isnan'],
    // Negative values wrap through i32, as a C cast through int (and the JavaScript kernels) do.
    source: `fn kiln_f2u(x: f32) -> u32 {
  if (kiln_isnan(x)) { return 0u; }
  if (x < 0.0f) { return bitcast<u32>(kiln_f2i(x)); }
  if (x >= 4294967296.0f) { return 4294967295u; }
  return u32(x);
}`,
  },
  kiln_erf: {
    // Taylor series near 0 (relative accuracy there), Numerical Recipes' erfc fit beyond (1.2e-7), as the JS kernels.
    source: `fn kiln_erf(x: f32) -> f32 {
  let z = abs(x);
  if (z < 0.5f) {
    let x2 = x * x;
    var term = x;
    var sum = x;
    for (var n = 1; n < 9; n++) {
      term = term * -x2 / f32(n);
      sum = sum + term / f32(2 * n + 1);
    }
    return 1.1283791670955126f * sum;
  }
  let t = 1.0f / (1.0f + 0.5f * z);
  let r = t * exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
    t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
  return select(r - 1.0f, 1.0f - r, x >= 0.0f);
}`,
  },
  kiln_log1p: {
    // log(1 + x) loses x's low bits near 0; 2 atanh(x / (2 + x)) as a short series does not.
    source: `fn kiln_log1p(x: f32) -> f32 {
  if (x < -0.25f || x > 0.5f) { return log(1.0f + x); }
  let s = x / (2.0f + x);
  let s2 = s * s;
  return 2.0f * s * (1.0f + s2 * (0.33333333f + s2 * (0.2f + s2 * (0.14285714f + s2 * (0.11111111f +
    s2 * (0.09090909f + s2 * 0.07692308f))))));
}`,
  },
  kiln_expm1: {
    // exp(x) - 1 cancels near 0; the Taylor series (to x^10) does not.
    source: `fn kiln_expm1(x: f32) -> f32 {
  if (abs(x) >= 0.5f) { return exp(x) - 1.0f; }
  return x * (1.0f + x / 2.0f * (1.0f + x / 3.0f * (1.0f + x / 4.0f * (1.0f + x / 5.0f * (1.0f + x / 6.0f *
    (1.0f + x / 7.0f * (1.0f + x / 8.0f * (1.0f + x / 9.0f * (1.0f + x / 10.0f)))))))));
}`,
  },
  kiln_tanh: {
    // Some drivers compute tanh as a quotient of exponentials that overflows to NaN for large |x|.
    source: 'fn kiln_tanh(x: f32) -> f32 { return select(tanh(x), sign(x), abs(x) > 10.0f); }',
  },
  kiln_sign: {
    // WGSL leaves sign(NaN) open (drivers give 0); JavaScript's Math.sign keeps NaN and -0.
    source: `fn kiln_sign(x: f32) -> f32 {
  if (x > 0.0f) { return 1.0f; }
  if (x < 0.0f) { return -1.0f; }
  return x;
}`,
  },
  // WGSL's asin and acos may be as coarse as atan2 of 4096 ulp (lavapipe is off by 2e-4); through atan2 they are not.
  kiln_asin: { source: 'fn kiln_asin(x: f32) -> f32 { return atan2(x, sqrt((1.0f - x) * (1.0f + x))); }' },
  kiln_acos: { source: 'fn kiln_acos(x: f32) -> f32 { return atan2(sqrt((1.0f - x) * (1.0f + x)), x); }' },
  kiln_fmod: {
    deps: ['kiln_f32_bits'],
    // C's fmod is exact, with the sign of x; x - y * trunc(x / y) is neither. Subtracting |y| 2^k with
    // |y| 2^k <= r < |y| 2^(k+1) is exact (Sterbenz), so r shrinks to the true remainder.
    source: `fn kiln_fmod(x: f32, y: f32) -> f32 {
  let ax = bitcast<u32>(x) & 0x7fffffffu;
  let ay = bitcast<u32>(y) & 0x7fffffffu;
  if (ax >= 0x7f800000u || ay > 0x7f800000u || ay == 0u) { return kiln_f32_bits(0x7fc00000u); }
  var r = bitcast<f32>(ax);
  let m = bitcast<f32>(ay);
  for (var i = 0; i < 300 && r >= m; i++) {
    var d = ldexp(m, frexp(r).exp - frexp(m).exp);
    if (d > r) { d = d * 0.5f; }
    r = r - d;
  }
  return bitcast<f32>(bitcast<u32>(r) | (bitcast<u32>(x) & 0x80000000u));
}`,
  },
  kiln_pow: {
    deps: ['kiln_f32_bits', 'kiln_isnan'],
    // WGSL's pow is exp2(y * log2(x)): undefined for x <= 0. C's pow defines zero and negative bases.
    source: `fn kiln_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0f) { return 1.0f; }
  if (kiln_isnan(x) || kiln_isnan(y)) { return kiln_f32_bits(0x7fc00000u); }
  let odd = abs(y) < 16777216.0f && fract(y * 0.5f) == 0.5f;
  let negative = (bitcast<u32>(x) & 0x80000000u) != 0u;
  var p: f32;
  if (x == 0.0f) {
    p = select(0.0f, kiln_f32_bits(0x7f800000u), y < 0.0f);
  } else {
    p = pow(abs(x), y);
    // A finite negative base has no real power of a non-integer exponent; -inf has (+inf or +0).
    if (negative && floor(y) != y && abs(x) < kiln_f32_bits(0x7f800000u)) { return kiln_f32_bits(0x7fc00000u); }
  }
  return select(p, -p, negative && odd);
}`,
  },
  kiln_f16_bits: {
    // numpy's float-to-half conversion: round to nearest even, overflow to infinity.
    source: `fn kiln_f16_bits(v: f32) -> u32 {
  let f = bitcast<u32>(v);
  let sign = (f >> 16u) & 0x8000u;
  let e = f & 0x7f800000u;
  var sig = f & 0x007fffffu;
  if (e >= 0x47800000u) {
    if (e == 0x7f800000u && sig != 0u) { return 0x7e00u; }
    return sign | 0x7c00u;
  }
  if (e <= 0x38000000u) {
    if (e < 0x33000000u) { return sign; }
    sig = (0x00800000u + sig) >> (113u - (e >> 23u));
    if ((sig & 0x3fffu) != 0x1000u || (f & 0x7ffu) != 0u) { sig = sig + 0x1000u; }
    return sign + (sig >> 13u);
  }
  if ((sig & 0x3fffu) != 0x1000u) { sig = sig + 0x1000u; }
  return sign + (((e - 0x38000000u) >> 13u) + (sig >> 13u));
}`,
  },
  kiln_f16_value: {
    source: `fn kiln_f16_value(h: u32) -> f32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) { return bitcast<f32>(s | bitcast<u32>(f32(m) * 5.9604644775390625e-8f)); }
  if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}`,
  },
  kiln_round_f16: {
    deps: ['kiln_f16_bits', 'kiln_f16_value'],
    source: 'fn kiln_round_f16(v: f32) -> f32 { return kiln_f16_value(kiln_f16_bits(v)); }',
  },
  kiln_to_f16: {
    deps: ['kiln_f16_bits'],
    // Through the bits: a conversion f16(v) of a value out of range is undefined in WGSL.
    source: 'fn kiln_to_f16(v: f32) -> f16 { return bitcast<vec2<f16>>(kiln_f16_bits(v)).x; }',
  },
  kiln_round_bf16: {
    // The top half of the float32, round to nearest even; NaN stays NaN.
    source: `fn kiln_round_bf16(v: f32) -> f32 {
  let b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return v; }
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}`,
  },
} satisfies Record<string, Helper>;

export type HelperName = keyof typeof HELPERS;

export const HELPER_NAMES = Object.keys(HELPERS) as HelperName[];

/** The sources of `used` and what they depend on, each once, dependencies first. */
export function helperSources(used: Iterable<HelperName>): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const add = (name: HelperName): void => {
    if (done.has(name)) return;
    done.add(name);
    const h: Helper = HELPERS[name];
    for (const d of h.deps ?? []) add(d as HelperName);
    out.push(h.source);
  };
  for (const name of [...used].sort()) add(name);
  return out;
}
