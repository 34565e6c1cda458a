/**
 * The up-to-date check of `kiln build` (src/cli/up-to-date.ts): the built command (bin/kiln.js,
 * dist/) answers a rebuild with nothing changed from its stamp, without loading the compiler,
 * and anything that changed — an input, an output, a cache entry, the command line — sends it
 * the ordinary way, which puts things right.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { REPO, type Workspace, workspace } from '../helpers/workspace.ts';

const PIPELINE = `name: mm
target: js
model:
  path: model.kir
  dynamic:
    n: { upper: 4096 }
stages:
  - import: {}
  - name: cleanup
    passes: { passes: [simplify, dce] }
  - legalize: {}
  - codegen: { out: artifact }
`;

let ws: Workspace;

/** Files the check may trust are older than a second (see RACY_MS); younger ones give no stamp. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));

beforeEach(async () => {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'model.kir': readFileSync(join(REPO, 'examples/mm-relu.kir'), 'utf8') });
  await settle();
});
afterEach(() => ws.remove());

function kiln(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/kiln.js'), ...args], { cwd: ws.dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const build = (...extra: string[]) => kiln('build', 'pipeline.yaml', '--cache-dir', 'cache', ...extra);

/** Builds until a stamp is there: the first build of a fresh workspace runs every stage. */
function builtAndStamped(): void {
  const first = build();
  expect(first.code, first.err).toBe(0);
  expect(first.err).toContain('4 ran, 0 cached');
  expect(existsSync(ws.path('cache/up-to-date'))).toBe(true);
}

test('a rebuild with nothing changed is answered from the stamp, and says so', () => {
  builtAndStamped();
  const artifact = readFileSync(ws.path('artifact/manifest.json'), 'utf8');
  const again = build();
  expect(again.code, again.err).toBe(0);
  expect(again.err).toContain('[mm] import: cached');
  expect(again.err).toContain('[mm] codegen: cached');
  expect(again.err).toMatch(/built mm \(js\) in [\d.]+ ms: 0 ran, 4 cached \(up to date\)/);
  expect(readFileSync(ws.path('artifact/manifest.json'), 'utf8')).toBe(artifact);
  // `kiln cache stats` reports it as the build it stands for: four local hits.
  const stats = kiln('cache', 'stats', '--cache-dir', 'cache');
  expect(stats.code, stats.err).toBe(0);
  expect(stats.out).toMatch(/local\s+4 hits, 0 misses/);
});

test('an edited input, a changed or deleted output, or another command line goes the ordinary way', async () => {
  builtAndStamped();
  // The pipeline edited (a comment): resolved and looked up again, every stage still cached.
  ws.write('pipeline.yaml', `# edited\n${PIPELINE}`);
  let r = build();
  expect(r.err).toContain('0 ran, 4 cached');
  expect(r.err).not.toContain('up to date');

  await settle();
  expect(build().err).not.toContain('up to date'); // records the stamp of the edited file
  expect(build().err).toContain('up to date');

  // An artifact file deleted or overwritten: the ordinary build restores it from the cache.
  const manifest = readFileSync(ws.path('artifact/manifest.json'), 'utf8');
  unlinkSync(ws.path('artifact/manifest.json'));
  r = build();
  expect(r.err).not.toContain('up to date');
  expect(readFileSync(ws.path('artifact/manifest.json'), 'utf8')).toBe(manifest);
  writeFileSync(ws.path('artifact/manifest.json'), '{}');
  r = build();
  expect(r.err).not.toContain('up to date');
  expect(readFileSync(ws.path('artifact/manifest.json'), 'utf8')).toBe(manifest);

  // Another --set is another command: its own stamp, after its own build.
  r = build('--set', 'stages.cleanup.passes=[dce]');
  expect(r.code, r.err).toBe(0);
  expect(r.err).toContain('3 ran, 1 cached');
  expect(build('--set', 'stages.cleanup.passes=[dce]').err).toContain('up to date');

  // The model changed: the import runs again.
  ws.write('model.kir', `${readFileSync(ws.path('model.kir'), 'utf8')}\n`);
  r = build();
  expect(r.code, r.err).toBe(0);
  expect(r.err).not.toContain('up to date');
});

test('cache entries gone (cleared, or one deleted) are not vouched for', () => {
  builtAndStamped();
  expect(build().err).toContain('up to date');
  // One blob of the stamp's entries removed by hand: the ordinary build finds the stage's entry incomplete.
  const stamps = readdirSync(ws.path('cache/up-to-date'));
  const stamp = JSON.parse(readFileSync(ws.path(`cache/up-to-date/${stamps[0]}`), 'utf8')) as { blobs: string[] };
  const blob = stamp.blobs[0]!;
  unlinkSync(ws.path(`cache/cas/${blob.slice(0, 2)}/${blob}`));
  let r = build();
  expect(r.code, r.err).toBe(0);
  expect(r.err).not.toContain('up to date');

  expect(kiln('cache', 'clear', '--cache-dir', 'cache').code).toBe(0);
  expect(existsSync(ws.path('cache/up-to-date'))).toBe(false);
  r = build();
  expect(r.err).toContain('4 ran, 0 cached');
});

test('a report, --no-cache or a project config always builds; a build from the sources records no stamp', async () => {
  builtAndStamped();
  const report = build('--report', 'report.json');
  expect(report.err).not.toContain('up to date');
  expect((JSON.parse(readFileSync(ws.path('report.json'), 'utf8')) as { stages: unknown[] }).stages).toHaveLength(4);
  expect(kiln('build', 'pipeline.yaml', '--no-cache').err).toContain('4 ran, 0 cached');

  ws.write('kiln.config.yaml', 'cache:\n  dir: cache\n');
  await settle();
  expect(build().err).not.toContain('up to date');
  expect(build().err).not.toContain('up to date');
  unlinkSync(ws.path('kiln.config.yaml'));

  // In-process (tsx, vitest: the sources, which change without a build of dist/): no stamp.
  rmSync(ws.path('cache'), { recursive: true });
  const io = { stdout: () => undefined, stderr: () => undefined };
  const args = ['build', ws.path('pipeline.yaml'), '--cache-dir', ws.path('cache')];
  expect(await main(args, io)).toBe(0);
  expect(await main(args, io)).toBe(0);
  expect(existsSync(ws.path('cache/ac'))).toBe(true);
  expect(existsSync(ws.path('cache/up-to-date'))).toBe(false);
}, 60_000);
