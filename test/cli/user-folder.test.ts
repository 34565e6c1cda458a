/**
 * Extending Kiln from a project of your own, outside Kiln's repository: a stage file there
 * imports `kiln` and `zod` (there is no node_modules next to it) and gets the modules the
 * CLI runs, so an operator it defines with `defineOp` reaches the build; and the schedule
 * API the README documents is a package export (`kiln/schedule`). These run the built
 * command (bin/kiln.js, dist/), as a user does.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readNpy } from '../../src/runtime/npy.ts';
import { readFileSync } from 'node:fs';
import { REPO } from '../helpers/workspace.ts';

const MODEL = `func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  y = triple(x)
  return y
}
`;

const STAGE = `import { z } from 'zod';
import { defineLegalization, defineOp, defineStage, floatImm, mul, te } from 'kiln';
import { Schedule } from 'kiln/schedule';

// An operator of this project's own, and the loop program it becomes.
defineOp({
  name: 'triple',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({}),
  infer: ({ data }) => data,
});
defineLegalization('triple', (c) => {
  const x = c.tensor('data');
  return te.compute(c.outShape(), (i) => mul(x.at(...i), floatImm(3, 'float32')), 'T_triple');
});

export default defineStage({
  id: 'note',
  version: 1,
  description: 'says what it sees',
  options: z.object({ word: z.string().default('functions') }).strict(),
  usesTarget: false,
  run: async (m, ctx) => {
    ctx.log(\`\${m!.functions.size} \${ctx.options.word}; Schedule is \${typeof Schedule}\`);
    return m!;
  },
});
`;

const PIPELINE = `name: mine
target: js
model:
  path: model.kir
stages:
  - import: {}
  - use: ./stages/triple.ts
    options: { word: graph functions }
  - codegen: { out: artifacts/mine }
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-user-project-'));
  mkdirSync(join(dir, 'stages'));
  writeFileSync(join(dir, 'model.kir'), MODEL);
  writeFileSync(join(dir, 'stages/triple.ts'), STAGE);
  writeFileSync(join(dir, 'pipeline.yaml'), PIPELINE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kiln(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/kiln.js'), ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('a stage file outside the repository imports kiln and zod, and its operator reaches the build', () => {
  const b = kiln('build', 'pipeline.yaml', '--cache-dir', join(dir, 'cache'));
  expect(b.code, b.err).toBe(0);
  expect(b.err).toContain('[mine] triple: 1 graph functions; Schedule is function');
  const r = kiln('run', 'artifacts/mine', '--shape', 'x=3,4', '--warmup', '0', '--output', 'out');
  expect(r.code, r.err).toBe(0);
  // The kernel is the operator's own legalization: three times the input.
  writeFileSync(join(dir, 'x.npy'), readFileSync(join(dir, 'out/output_0.npy')));
  const again = kiln('run', 'artifacts/mine', '--input', 'x=x.npy', '--warmup', '0', '--output', 'out2');
  expect(again.code, again.err).toBe(0);
  const x = readNpy(new Uint8Array(readFileSync(join(dir, 'x.npy')))).toNumbers();
  const y = readNpy(new Uint8Array(readFileSync(join(dir, 'out2/output_0.npy')))).toNumbers();
  expect(x.some((v) => v !== 0)).toBe(true);
  y.forEach((v, i) => expect(v).toBeCloseTo(3 * x[i]!, 5));
}, 60_000);

test('kiln/schedule is a package export: the documented Schedule and replayTrace', () => {
  // In the repository, so that `kiln` resolves to this package (its exports, dist/).
  const file = join(REPO, `.schedule-export-${process.pid}.mjs`);
  writeFileSync(
    file,
    `import { parseModule } from 'kiln';
import { Schedule, replayTrace } from 'kiln/schedule';
import { readFileSync } from 'node:fs';
const m = parseModule(readFileSync('examples/mm-relu.kir', 'utf8'));
const mm = m.functions.get('mm');
const sch = new Schedule(mm, 'mm');
const [i] = sch.getLoops(sch.getBlock('mm'));
sch.split(i, [null, 8]);
const again = replayTrace(mm, 'mm', sch.trace);
console.log(JSON.stringify({ steps: sch.trace.length, same: JSON.stringify(again.func) === JSON.stringify(sch.func) }));
`,
  );
  try {
    const r = spawnSync(process.execPath, [file], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ steps: 3, same: true });
  } finally {
    rmSync(file, { force: true });
  }
});
