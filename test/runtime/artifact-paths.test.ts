/**
 * Every path an artifact names resolves inside it: the manifest's own paths
 * by their spelling, and each source (a directory, a URL) where the path
 * resolves. Nothing outside the artifact is read.
 */
import { symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { artifactPathProblem } from '../../src/runtime/artifact-paths.ts';
import { LOAD_CODES } from '../../src/runtime/errors.ts';
import { directorySource, load } from '../../src/runtime/node.ts';
import { JS_TARGET, parse } from '../helpers/build-run.ts';
import { type Workspace, workspace } from '../helpers/workspace.ts';

const MODEL = `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  c: Tensor[(n, 4), f32] = add(x, const(f32[4], [1.0, 2.0, 3.0, 4.0]))
  return c
}`;

test('plain relative paths pass; anything that can leave the artifact does not', () => {
  for (const ok of ['manifest.json', 'params/shard-0.bin', 'kernels.mjs', 'a/b/c..d', '..hidden']) {
    expect(artifactPathProblem(ok), ok).toBeUndefined();
  }
  const bad = [
    '',
    '../../../etc/passwd',
    'params/../../x',
    '/etc/passwd',
    'C:/Windows/x',
    'c:x',
    '..\\..\\x',
    'params\\shard',
    '%2e%2e/x',
    'http://evil.example/x',
    'a//b',
    './a',
    'a/./b',
    'a?x=1',
    'a#b',
    'a\u0000b',
    '..',
  ];
  for (const b of bad) expect(artifactPathProblem(b), JSON.stringify(b)).toBeDefined();
});

describe('an artifact directory', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = workspace();
    for (const f of (await buildArtifact(parse(MODEL), { name: 'art', target: JS_TARGET })).files)
      ws.write(`pkg/art/${f.path}`, f.bytes);
  });
  afterEach(() => ws.remove());

  async function loadCode(): Promise<{ code?: string; message: string }> {
    const e = await load(ws.path('pkg/art')).then(
      () => undefined,
      (err: unknown) => err as { code?: string; message: string },
    );
    expect(e, 'the load should fail').toBeDefined();
    return e!;
  }

  function setShardPath(file: string): void {
    const m = JSON.parse(ws.read('pkg/art/manifest.json')) as { params: { shards: { file: string }[] } };
    m.params.shards[0]!.file = file;
    writeFileSync(ws.path('pkg/art/manifest.json'), JSON.stringify(m));
  }

  test('manifest paths outside the artifact fail with K8104, even where a file of the right size waits', async () => {
    ws.write('secret.bin', ws.read('pkg/art/params/shard-0.bin'));
    for (const [file, problem] of [
      ['../../secret.bin', "it has a '..' segment"],
      [ws.path('secret.bin'), 'it is absolute'],
    ] as const) {
      setShardPath(file);
      const e = await loadCode();
      expect(e.code).toBe(LOAD_CODES.pathEscape);
      expect(e.message).toContain(`params.shards[0].file '${file}' is not a path inside the artifact: ${problem}`);
    }
    const m = JSON.parse(ws.read('pkg/art/manifest.json')) as Record<string, unknown>;
    m.program = '../../../../../../../../etc/passwd';
    writeFileSync(ws.path('pkg/art/manifest.json'), JSON.stringify(m));
    expect((await loadCode()).code).toBe(LOAD_CODES.pathEscape);
  });

  test('a symbolic link in the artifact that points outside it is not followed', async () => {
    ws.write('secret.bin', ws.read('pkg/art/params/shard-0.bin'));
    ws.write('pkg/art/params/.keep', '');
    symlinkSync(ws.path('secret.bin'), ws.path('pkg/art/params/link.bin'));
    setShardPath('params/link.bin');
    const e = await loadCode();
    expect(e.code).toBe(LOAD_CODES.pathEscape);
    expect(e.message).toContain('resolves to');
    // A link that stays inside the artifact is fine.
    symlinkSync(ws.path('pkg/art/params/shard-0.bin'), ws.path('pkg/art/params/inside.bin'));
    setShardPath('params/inside.bin');
    await expect(load(ws.path('pkg/art'))).resolves.toBeDefined();
  });

  test('the directory source itself refuses paths outside, whoever asks', async () => {
    ws.write('pkg/secret.txt', 'secret');
    const s = directorySource(ws.path('pkg/art'));
    for (const file of ['../secret.txt', ws.path('pkg/secret.txt')]) {
      await expect(s.readText(file)).rejects.toMatchObject({ code: LOAD_CODES.pathEscape });
      await expect(s.readBytes(file)).rejects.toMatchObject({ code: LOAD_CODES.pathEscape });
    }
    expect(await s.readText('manifest.json')).toContain('kiln-artifact');
  });
});
