/**
 * How fast this core runs right now, timed as a contender of each CPU row: one thread's GFLOPS for the
 * inner loop every WebAssembly SIMD matmul here is built around (MLAS's and XNNPACK's wasm kernels too): a
 * 4×8 register tile of f32x4 sums, each step four broadcast values of A times two vectors of B, with A and B
 * small enough to stay in L1. A kernel's GFLOPS read against it says how close the kernel comes to what the
 * machine gives a wasm SIMD loop at that moment, whatever the VM's clock was doing during the row (this
 * probe reads 36 and 54 GFLOPS minutes apart). A loop with its operands in registers is no measure: V8 hoists
 * a loop-invariant multiply out of it and then counts twice the machine's peak.
 */
import { wasm } from '../src/runtime/wasm/api.ts';
import { type Contender, inProcess } from './interleave.ts';

const ROWS = 4;
const VECTORS = 2;
/** Reduction steps per pass over A (ROWS × STEPS floats) and B (STEPS × 8 floats): 12 KB, in L1. */
const STEPS = 256;
const PASSES = 20_000;
/** Work of one probe run: every step multiplies and adds a 4×8 tile. */
export const PEAK_PROBE_FLOPS = PASSES * STEPS * ROWS * VECTORS * 4 * 2;

/** The probe's module text: `probe(passes)` runs the tile over A at 0 and B after it, `passes` times. */
function probeText(): string {
  const sums = Array.from({ length: ROWS * VECTORS }, (_, i) => `$s${i}`);
  const b = Array.from(
    { length: VECTORS },
    (_, v) => `(local.set $b${v} (v128.load offset=${ROWS * STEPS * 4 + 16 * v} (local.get $pb)))`,
  );
  const rows = Array.from({ length: ROWS }, (_, r) => [
    `(local.set $a (v128.load32_splat offset=${r * STEPS * 4} (local.get $pa)))`,
    ...Array.from(
      { length: VECTORS },
      (_, v) =>
        `(local.set $s${r * VECTORS + v} (f32x4.add (local.get $s${r * VECTORS + v}) (f32x4.mul (local.get $a) (local.get $b${v}))))`,
    ),
  ]);
  const total = sums.slice(1).reduce((acc, s) => `(f32x4.add ${acc} (local.get ${s}))`, `(local.get ${sums[0]})`);
  return `(module (memory 1)
  (func (export "probe") (param $n i32) (result f32)
    (local $pa i32) (local $pb i32) (local $a v128) ${Array.from({ length: VECTORS }, (_, v) => `(local $b${v} v128)`).join(' ')}
    ${sums.map((s) => `(local ${s} v128)`).join(' ')}
    (loop $pass
      (local.set $pa (i32.const 0))
      (local.set $pb (i32.const 0))
      (loop $step
        ${b.join('\n        ')}
        ${rows.flat().join('\n        ')}
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (br_if $step (i32.lt_u (local.tee $pb (i32.add (local.get $pb) (i32.const ${VECTORS * 16}))) (i32.const ${STEPS * VECTORS * 16}))))
      (br_if $pass (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${total})))`;
}

export async function peakProbe(): Promise<Contender> {
  const binaryen = (await import('binaryen')).default;
  const m = binaryen.parseText(probeText());
  let bytes: Uint8Array;
  try {
    m.setFeatures(binaryen.Features.SIMD128);
    if (!m.validate()) throw new Error('internal error: the peak probe does not validate');
    bytes = m.emitBinary();
  } finally {
    m.dispose();
  }
  const instance = await wasm.instantiate(await wasm.compile(bytes), {});
  const probe = instance.exports.probe as (passes: number) => number;
  return inProcess(() => Promise.resolve(probe(PASSES)));
}
