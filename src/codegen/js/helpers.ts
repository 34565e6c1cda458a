/**
 * Helper functions the generated JavaScript kernels call: number formats
 * (float16, bfloat16, int64 stores), math the JS standard library lacks
 * (erf, round half to even), and the shape errors of the kernel prologues.
 * Each helper is emitted into kernels.mjs only when a kernel uses it.
 */

interface Helper {
  readonly deps?: readonly string[];
  readonly source: string;
}

const HELPERS: Record<string, Helper> = {
  $bits: {
    source: `const $f32 = new Float32Array(1);
const $u32 = new Uint32Array($f32.buffer);`,
  },
  $f16: {
    // Decoding through a table: 64 Ki entries, built on first use.
    source: `let $f16Table;
function $f16(h) {
  if (!$f16Table) {
    $f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const e = (i >> 10) & 31, f = i & 1023, s = i & 32768 ? -1 : 1;
      $f16Table[i] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
    }
  }
  return $f16Table[h];
}`,
  },
  $toF16: {
    deps: ['$bits'],
    // numpy's float-to-half bit conversion: round to nearest even, overflow to infinity.
    source: `function $toF16(v) {
  $f32[0] = v;
  const f = $u32[0];
  const sign = (f >>> 16) & 0x8000;
  const exp = f & 0x7f800000;
  let sig = f & 0x007fffff;
  if (exp >= 0x47800000) return exp === 0x7f800000 && sig !== 0 ? 0x7e00 : sign | 0x7c00;
  if (exp <= 0x38000000) {
    if (exp < 0x33000000) return sign;
    const e = exp >>> 23;
    sig = (0x00800000 + sig) >>> (113 - e);
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign + (sig >>> 13);
  }
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  return sign + (((exp - 0x38000000) >>> 13) + (sig >>> 13));
}`,
  },
  $roundF16: { deps: ['$f16', '$toF16'], source: 'function $roundF16(v) { return $f16($toF16(v)); }' },
  $bf16: {
    deps: ['$bits'],
    source: `function $bf16(b) { $u32[0] = b << 16; return $f32[0]; }`,
  },
  $toBf16: {
    deps: ['$bits'],
    source: `function $toBf16(v) {
  if (v !== v) return 0x7fc0;
  $f32[0] = v;
  const b = $u32[0];
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}`,
  },
  $roundBf16: { deps: ['$bf16', '$toBf16'], source: 'function $roundBf16(v) { return $bf16($toBf16(v)); }' },
  $i64: {
    // BigInt64Array elements take BigInts; NaN and infinities (undefined in C) become 0.
    source: `function $i64(v) { return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n; }`,
  },
  $erf: {
    // Taylor series near 0 (relative accuracy there), Numerical Recipes' erfc fit beyond (1.2e-7).
    source: `function $erf(x) {
  const z = Math.abs(x);
  if (z < 0.5) {
    const x2 = x * x;
    let term = x, sum = x;
    for (let n = 1; n < 14; n++) { term *= -x2 / n; sum += term / (2 * n + 1); }
    return 1.1283791670955126 * sum;
  }
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}`,
  },
  $round: {
    // Half to even, as WGSL's round and C's nearbyint.
    source: `function $round(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}`,
  },
  $floormod: { source: 'function $floormod(a, b) { return a - Math.floor(a / b) * b; }' },
  $isinf: { source: 'function $isinf(x) { return x === Infinity || x === -Infinity; }' },
  $and64: { source: 'function $and64(a, b) { return (a | 0) === a && (b | 0) === b ? a & b : Number(BigInt(a) & BigInt(b)); }' },
  $or64: { source: 'function $or64(a, b) { return (a | 0) === a && (b | 0) === b ? a | b : Number(BigInt(a) | BigInt(b)); }' },
  $xor64: { source: 'function $xor64(a, b) { return (a | 0) === a && (b | 0) === b ? a ^ b : Number(BigInt(a) ^ BigInt(b)); }' },
  $shapeError: {
    source: `function $shapeError(kernel, buffer, problem) {
  throw new Error(\`kernel \${kernel}: buffer \${buffer} \${problem}\`);
}`,
  },
};

export type HelperName = keyof typeof HELPERS;

export function isHelper(name: string): name is HelperName {
  return Object.hasOwn(HELPERS, name);
}

/** The sources of `used` and what they depend on, each once, dependencies first. */
export function helperSources(used: Iterable<string>): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const add = (name: string): void => {
    if (done.has(name)) return;
    done.add(name);
    const h = HELPERS[name];
    if (!h) throw new Error(`unknown kernel helper ${name}`);
    for (const d of h.deps ?? []) add(d);
    out.push(h.source);
  };
  for (const name of [...used].sort()) add(name);
  return out;
}
