/**
 * The default GPU schedules on the adapter: matmuls, GEMVs and convolutions
 * of sizes that divide the tiles and sizes that leave partial tiles, built
 * for the software-adapter target (targets/webgpu.yaml: register blocks, no
 * workgroup memory) and the discrete one (targets/webgpu-discrete.yaml:
 * staged tiles), run on WebGPU and compared with the JavaScript kernels on
 * the same random inputs. A faster schedule that changes a number fails here.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { getPrimFunc, type IRModule } from '../../src/ir/module.ts';
import { targetSchema, type TargetDescription } from '../../src/ir/target.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { type Device, NDArray, tensor } from '../../src/runtime/ndarray.ts';
import { SCHEDULE_RULES_ATTR, scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { WEBGPU_DISCRETE_TARGET, WEBGPU_TARGET } from '../helpers/gpu-ops.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';

const JS_TARGET: TargetDescription = targetSchema.parse(
  parseYaml(readFileSync(new URL('../../targets/js.yaml', import.meta.url), 'utf8')),
);

interface Case {
  readonly what: string;
  /** Per parameter its name and shape (a string dim is symbolic, `N=3`: named N, run at 3). */
  readonly params: readonly [string, readonly (number | string)[]][];
  readonly out: string;
  readonly call: string;
  /** The kernel and the rule expected to schedule it (on both targets). */
  readonly kernel: string;
  readonly rule: string;
}

const CASES: readonly Case[] = [
  {
    what: 'matmul 128x96x128 (whole tiles)',
    params: [
      ['x', [128, 96]],
      ['w', [96, 128]],
    ],
    out: '(128, 128)',
    call: 'matmul(x, w)',
    kernel: 'matmul',
    rule: 'matmul',
  },
  {
    what: 'matmul 37x70x50 (partial tiles)',
    params: [
      ['x', [37, 70]],
      ['w', [70, 50]],
    ],
    out: '(37, 50)',
    call: 'matmul(x, w)',
    kernel: 'matmul',
    rule: 'matmul',
  },
  {
    what: 'batched matmul 3x40x33x72',
    params: [
      ['x', [3, 40, 33]],
      ['w', [3, 33, 72]],
    ],
    out: '(3, 40, 72)',
    call: 'matmul(x, w)',
    kernel: 'matmul',
    rule: 'matmul',
  },
  {
    what: 'gemv 1x512 . 512x300',
    params: [
      ['x', [1, 512]],
      ['w', [512, 300]],
    ],
    out: '(1, 300)',
    call: 'matmul(x, w)',
    kernel: 'matmul',
    rule: 'gemv',
  },
  {
    what: 'conv 3x3 16->24 over 14x14, padding 1',
    params: [
      ['x', [1, 16, 14, 14]],
      ['w', [24, 16, 3, 3]],
    ],
    out: '(1, 24, 14, 14)',
    call: 'conv2d(x, w, padding=[1, 1, 1, 1])',
    kernel: 'conv2d',
    rule: 'conv',
  },
  {
    what: 'conv 3x3 8->8 over 9x11, batch 2',
    params: [
      ['x', [2, 8, 9, 11]],
      ['w', [8, 8, 3, 3]],
    ],
    out: '(2, 8, 9, 11)',
    call: 'conv2d(x, w, padding=[1, 1, 1, 1])',
    kernel: 'conv2d',
    rule: 'conv',
  },
  {
    what: 'conv 3x3 3->16 over 32x32, symbolic batch (3)',
    params: [
      ['x', ['N=3', 3, 32, 32]],
      ['w', [16, 3, 3, 3]],
    ],
    out: '(N, 16, 32, 32)',
    call: 'conv2d(x, w, padding=[1, 1, 1, 1])',
    kernel: 'conv2d',
    rule: 'conv',
  },
  {
    what: 'conv 3x3 16->32 stride 2 over 16x16, symbolic batch (1)',
    params: [
      ['x', ['N=1', 16, 16, 16]],
      ['w', [32, 16, 3, 3]],
    ],
    out: '(N, 32, 8, 8)',
    call: 'conv2d(x, w, strides=[2, 2], padding=[1, 1, 1, 1])',
    kernel: 'conv2d',
    rule: 'conv',
  },
  {
    what: 'conv 1x1 16->32 stride 2 over 16x16, symbolic batch (2)',
    params: [
      ['x', ['N=2', 16, 16, 16]],
      ['w', [32, 16, 1, 1]],
    ],
    out: '(N, 32, 8, 8)',
    call: 'conv2d(x, w, strides=[2, 2])',
    kernel: 'conv2d',
    rule: 'conv',
  },
];

function moduleOf(c: Case): IRModule {
  const dim = (d: number | string): string => (typeof d === 'number' ? String(d) : d.split('=')[0]!);
  const params = c.params.map(([n, s]) => `${n}: Tensor[(${s.map(dim).join(', ')}), f32]`).join(', ');
  const text = `
func main(${params}) -> Tensor[${c.out}, f32] {
  dataflow {
    y: Tensor[${c.out}, f32] = ${c.call}
    output y
  }
  return y
}`;
  return legalizeModule(parseModule(text, { ...opHooks, file: `${c.kernel}.kir` }));
}

function random(shape: readonly number[], seed: number): NDArray {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s / 4294967296) * 2 - 1;
    }),
    shape,
  );
}

async function run(m: IRModule, target: TargetDescription, args: readonly NDArray[], device?: Device): Promise<Float32Array> {
  const mod = await loadArtifact(memorySource(await buildArtifact(m, { name: 't', target })), device ? { device } : {});
  const out = await mod.call('main', ...args);
  if (!(out instanceof NDArray)) throw new Error('expected one tensor');
  return (await out.toCpu()).data as Float32Array;
}

describeWebGpu('default GPU schedules on the adapter', (device) => {
  for (const c of CASES) {
    test(`${c.what}: the same numbers as the CPU, on both adapter classes`, async () => {
      const legalized = moduleOf(c);
      const args = c.params.map(([, s], i) =>
        random(
          s.map((d) => (typeof d === 'number' ? d : Number(d.split('=')[1]))),
          i + 11,
        ),
      );
      const want = await run(legalized, JS_TARGET, args);
      for (const target of [WEBGPU_TARGET, WEBGPU_DISCRETE_TARGET]) {
        const scheduled = scheduleModule(legalized, target);
        expect(getPrimFunc(scheduled, c.kernel)!.attrs[SCHEDULE_RULES_ATTR], target.name).toEqual([c.rule]);
        const got = await run(scheduled, target, args, device);
        expect(got.length).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
        expect(worst, `${target.name}: max relative error`).toBeLessThan(1e-5);
      }
    });
  }
});
