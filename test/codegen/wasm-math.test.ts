/**
 * The vector loops' inline math (src/codegen/wasm/helpers.ts `exp_f32x4`,
 * `erf_f32x4`, `tanh_f32x4`): e^x on four lanes against Math.exp rounded to f32, over the
 * whole range an f32 exponent takes, erf and tanh against float64 references, and the
 * special values.
 */
import { describe, expect, it } from 'vitest';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import '../../src/runtime/node.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { erf } from '../helpers/tir-interpreter.ts';
import { WASM_TARGET } from '../helpers/wasm-ops.ts';

const SIZE = 1 << 16;

async function run(op: string, x: Float32Array): Promise<Float32Array> {
  const text = `
func main(x: Tensor[(${x.length},), f32]) -> Tensor[(${x.length},), f32] {
  dataflow {
    y = ${op}(x)
    output y
  }
  return y
}`;
  const m = scheduleModule(legalizeModule(parseModule(text, { ...opHooks, file: 'math.kir' })), WASM_TARGET);
  const mod = await loadArtifact(memorySource(await buildArtifact(m, { name: 'math', target: WASM_TARGET })), { threads: 1 });
  const y = (await mod.call('main', tensor(x, [x.length], 'float32'))) as NDArray;
  return (await y.toCpu()).data as Float32Array;
}

/** The distance between a and b in units in the last place of b. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const ulp = Math.max(Math.abs(b) * 2 ** -23, 2 ** -149);
  return Math.abs(a - b) / ulp;
}

describe('vector exp', () => {
  const specials = [0, -0, Infinity, -Infinity, NaN, 88.72, 88.73, 89, -87.3, -103, -103.9, -104.5, -200, 1e-30, -1e-30];
  const x = new Float32Array(SIZE);
  specials.forEach((v, i) => (x[i] = v));
  for (let i = specials.length; i < SIZE; i++) x[i] = -110 + (200 * i) / SIZE;

  it('is within 2 ulp of Math.exp over [-110, 90], exact at the special values', async () => {
    const y = await run('exp', x);
    let worst = 0;
    for (let i = 0; i < SIZE; i++) {
      const want = Math.fround(Math.exp(x[i]!));
      if (Number.isNaN(want)) {
        expect(Number.isNaN(y[i]!), `exp(${x[i]})`).toBe(true);
        continue;
      }
      if (!Number.isFinite(want) || want === 0) {
        expect(y[i], `exp(${x[i]})`).toBe(want);
        continue;
      }
      expect(ulps(y[i]!, want), `exp(${x[i]}) = ${y[i]}, not ${want}`).toBeLessThanOrEqual(2);
      worst = Math.max(worst, ulps(y[i]!, want));
    }
    expect(worst).toBeGreaterThan(0);
  });

  it('erf is within 4 ulp of the float64 result over [-10, 10] (±1 beyond ±4), exact at 0, ±inf and NaN', async () => {
    const v = new Float32Array(SIZE);
    const edge = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-20, 4, -4, 5, 1e-6];
    edge.forEach((e, i) => (v[i] = e));
    for (let i = edge.length; i < SIZE; i++) v[i] = -10 + (20 * i) / SIZE;
    const y = await run('erf', v);
    for (let i = 0; i < SIZE; i++) {
      const want = Math.fround(erf(v[i]!));
      if (Number.isNaN(want)) expect(Number.isNaN(y[i]!)).toBe(true);
      else expect(ulps(y[i]!, want), `erf(${v[i]}) = ${y[i]}, not ${want}`).toBeLessThanOrEqual(4);
    }
  });

  it('tanh is within 4 ulp of Math.tanh over [-12, 12], exact at ±0, ±inf and NaN', async () => {
    const v = new Float32Array(SIZE);
    const edge = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-20, 0.625, -0.625, 0.6249999, 9, 100];
    edge.forEach((e, i) => (v[i] = e));
    for (let i = edge.length; i < SIZE; i++) v[i] = -12 + (24 * i) / SIZE;
    const y = await run('tanh', v);
    for (let i = 0; i < SIZE; i++) {
      const want = Math.fround(Math.tanh(v[i]!));
      if (Number.isNaN(want)) expect(Number.isNaN(y[i]!)).toBe(true);
      else if (want === 0) expect(Object.is(y[i], want), `tanh(${v[i]}) = ${y[i]}`).toBe(true);
      else expect(ulps(y[i]!, want), `tanh(${v[i]}) = ${y[i]}, not ${want}`).toBeLessThanOrEqual(4);
    }
  });

  it('sigmoid through it stays within 1e-6 of the float64 result', async () => {
    const y = await run('sigmoid', x);
    for (let i = 0; i < SIZE; i++) {
      const want = 1 / (1 + Math.exp(-x[i]!));
      if (Number.isNaN(want)) expect(Number.isNaN(y[i]!)).toBe(true);
      else expect(Math.abs(y[i]! - want), `sigmoid(${x[i]})`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
    }
  });
});
