/**
 * The host functions WebAssembly kernels import (module `math`, the names
 * kernel-spec.ts's MATH_IMPORTS lists): Math's, and erf, fmod and exp2 as the
 * JavaScript kernels compute them.
 */
import { MATH_IMPORTS, type MathImport } from './kernel-spec.ts';

/** Taylor series near 0 (relative accuracy there), Numerical Recipes' erfc fit beyond (1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  if (z < 0.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 14; n++) {
      term *= -x2 / n;
      sum += term / (2 * n + 1);
    }
    return 1.1283791670955126 * sum;
  }
  const t = 1 / (1 + 0.5 * z);
  const p =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + p);
  return x >= 0 ? 1 - r : r - 1;
}

export function mathImports(): Record<MathImport, (...x: number[]) => number> {
  const special: Partial<Record<MathImport, (...x: number[]) => number>> = {
    erf,
    exp2: (x) => 2 ** x,
    fmod: (a, b) => a % b,
  };
  const out = {} as Record<MathImport, (...x: number[]) => number>;
  for (const name of Object.keys(MATH_IMPORTS) as MathImport[]) {
    out[name] = special[name] ?? (Math as unknown as Record<string, (...x: number[]) => number>)[name]!;
  }
  return out;
}
