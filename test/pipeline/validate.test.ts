/**
 * Broken pipelines: each reports every problem at once, each at its exact
 * file:line:col, with did-you-mean where a name was misspelled.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { resolvePipeline } from '../../src/pipeline/resolve.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

let ws: Workspace;
beforeAll(() => {
  ws = workspace({
    'model.kir': MM_RELU,
    'base.yaml': BASE,
    'cycle-a.yaml': 'name: a\nextends: cycle-b.yaml\n',
    'cycle-b.yaml': 'name: b\nextends: cycle-a.yaml\n',
  });
  ws.write('stages/not-a-stage.ts', 'export default { hello: 1 };\n');
});
afterAll(() => ws.remove());

const BASE = `name: base
target: js
model:
  path: model.kir
stages:
  - import: {}
  - name: cleanup
    passes: { passes: [dce] }
`;

const OK = `name: ok
target: js
model:
  path: model.kir
stages:
  - import: {}
  - passes: { passes: [simplify, dce] }
`;

interface Case {
  readonly name: string;
  readonly yaml: string;
  /** `line:col code message-fragment` per problem, in order; the file is the case's own unless given with @file. */
  readonly expected: readonly string[];
  readonly set?: readonly string[];
}

/** 325 bytes whose aliases expand to 9^9 strings ("billion laughs"). */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((x, i) => `${x}: &${x} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  '',
].join('\n');

const CASES: Case[] = [
  { name: 'an empty file', yaml: '', expected: ['1:1 K6011 the pipeline file is empty'] },
  { name: 'a file of comments only', yaml: '# nothing yet\n\n# still nothing\n', expected: ['1:1 K6011'] },
  { name: 'a YAML alias bomb', yaml: ALIAS_BOMB, expected: ['5:8 K6012 aliases expand to more than 10000 values'] },
  {
    name: 'a YAML alias inside the node it names',
    yaml: 'name: &n\n  x: *n\n',
    expected: ['2:6 K6012 alias *n refers to a node that contains it'],
  },
  { name: 'a YAML syntax error', yaml: 'name: x\nstages: [import\n', expected: ['3:1 K6001 Flow sequence'] },
  {
    name: 'a misspelled top-level key, and what it leaves missing',
    yaml: OK.replace('stages:', 'stagse:'),
    expected: ["1:1 K6003 pipeline: 'stages' is required", "5:1 K6004 pipeline: unknown option 'stagse'"],
  },
  { name: 'an unknown stage', yaml: OK.replace('- passes:', '- pases:'), expected: ["7:5 K6002 unknown stage 'pases'"] },
  {
    name: 'an unknown option of a stage',
    yaml: OK.replace('{ passes: [simplify, dce] }', '{ pases: [dce] }'),
    expected: ["7:13 K6003 stage 'passes': 'passes' is required", "7:15 K6004 stage 'passes': unknown option 'pases'"],
  },
  {
    name: 'an option of the wrong type',
    yaml: OK.replace('{ passes: [simplify, dce] }', '{ passes: dce }'),
    expected: ["7:23 K6003 stage 'passes', option 'passes': expected a list, found \"dce\""],
  },
  {
    name: 'an unknown pass',
    yaml: OK.replace('[simplify, dce]', '[simplify, dec]'),
    expected: ["7:34 K6003 stage 'passes', option 'passes[1]': unknown pass 'dec'"],
  },
  {
    name: 'a stage name used twice',
    yaml: `${OK}  - passes: { passes: [dce] }\n`,
    expected: ["8:5 K6005 stage name 'passes' is used twice"],
  },
  {
    name: 'a pipeline that does not start with import, and import later',
    yaml: OK.replace('  - import: {}\n', '').replace('dce] }\n', 'dce] }\n  - import: {}\n'),
    expected: [
      "6:5 K6003 stage 'passes': the first stage must read the model",
      "7:5 K6003 stage 'import': reads the model, so it must be the first stage",
    ],
  },
  {
    name: 'an unknown target, a missing model file and an unknown stage: all at once',
    yaml: OK.replace('target: js', 'target: jss').replace('model.kir', 'missing.kir').replace('- passes:', '- pases:'),
    expected: ["2:9 K6007 unknown target 'jss'", '4:9 K6008 model file', "7:5 K6002 unknown stage 'pases'"],
  },
  {
    name: 'a model format nobody imports',
    yaml: OK.replace('path: model.kir', 'path: model.kir\n  format: tflite'),
    expected: ["5:11 K6003 model: unknown format 'tflite'"],
  },
  {
    name: 'an entry naming two stages',
    yaml: OK.replace('  - passes: { passes: [simplify, dce] }', '  - passes: { passes: [dce] }\n    import: {}'),
    expected: ['7:5 K6003 stages[1]: names more than one stage (passes, import)'],
  },
  {
    name: "options of a built-in stage under 'options'",
    yaml: OK.replace('  - passes: { passes: [simplify, dce] }', '  - passes: {}\n    options: { passes: [dce] }'),
    expected: ["8:5 K6004 stage 'passes': unknown option 'options'"],
  },
  {
    name: 'a user stage file that does not exist, and one that is not a stage',
    yaml: `${OK}  - use: ./stages/missing.ts\n  - use: ./stages/not-a-stage.ts\n`,
    expected: ['8:10 K6008 stage file', '9:10 K6009 user stage ./stages/not-a-stage.ts: its default export must be a stage'],
  },
  { name: 'extends of a missing file', yaml: 'name: child\nextends: nowhere.yaml\n', expected: ['2:10 K6008 extended pipeline'] },
  {
    name: 'extends in a cycle',
    yaml: 'name: c\nextends: cycle-a.yaml\n',
    expected: ['@cycle-b.yaml 2:10 K6006 extends forms a cycle'],
  },
  {
    name: "a problem in a child's override is placed in the child",
    yaml: 'name: child\nextends: base.yaml\nstages:\n  - name: cleanup\n    passes: { passes: [dce], level: 2 }\n',
    expected: ["5:30 K6004 stage 'cleanup': unknown option 'level'"],
  },
  {
    name: '--set of a stage that does not exist',
    yaml: OK,
    set: ['stages.tune.trials=50'],
    expected: ["K6010 --set stages.tune.trials=50: no stage named 'tune'"],
  },
  {
    name: '--set of a value of the wrong type',
    yaml: OK,
    set: ['stages.passes.passes=3'],
    expected: ["@<--set stages.passes.passes=3> 1:1 K6003 stage 'passes', option 'passes': expected a list, found 3"],
  },
];

describe('pipeline validation', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const file = ws.write(`case-${c.name.replace(/\W+/g, '-')}.yaml`, c.yaml);
      const r = await resolvePipeline(file, { set: c.set ?? [] });
      expect(r.pipeline).toBeUndefined();
      const got = r.diagnostics.map((d) => {
        const loc = d.location;
        const at = loc ? `${loc.file === file ? '' : `@${loc.file.split('/').pop()} `}${loc.line}:${loc.column} ` : '';
        return `${at}${d.code} ${d.message}`;
      });
      expect(got, got.join('\n')).toHaveLength(c.expected.length);
      c.expected.forEach((want, i) => expect(got[i]!.startsWith(want), `${got[i]}\ndoes not start with\n${want}`).toBe(true));
    });
  }

  test('did you mean, for stages, options, targets and passes', async () => {
    const yaml = OK.replace('target: js', 'target: webgpuu').replace('- passes: { passes: [simplify, dce] }', '- pases: {}');
    const r = await resolvePipeline(ws.write('case-dym.yaml', yaml));
    const notes = r.diagnostics.flatMap((d) => d.notes ?? []);
    expect(notes).toContain("did you mean 'webgpu'?");
    expect(notes).toContain("did you mean 'passes'?");
  });

  test('a valid pipeline resolves, with defaults filled in and paths made absolute', async () => {
    const r = await resolvePipeline(ws.write('case-ok.yaml', OK));
    expect(r.diagnostics).toEqual([]);
    expect(r.pipeline!.stages.map((s) => s.name)).toEqual(['import', 'passes']);
    expect(r.pipeline!.model.path).toBe(ws.path('model.kir'));
    expect(r.pipeline!.target.description.kind).toBe('js');
  });

  test('extends merges stages by name and inserts new ones after the one before them', async () => {
    const child =
      'name: child\nextends: base.yaml\nstages:\n  - name: cleanup\n    passes: { passes: [simplify] }\n  - name: again\n    passes: { passes: [dce] }\n';
    const r = await resolvePipeline(ws.write('child.yaml', child));
    expect(r.diagnostics).toEqual([]);
    expect(r.pipeline!.stages.map((s) => [s.name, s.options])).toEqual([
      ['import', {}],
      ['cleanup', { passes: ['simplify'] }],
      ['again', { passes: ['dce'] }],
    ]);
    expect(r.pipeline!.files).toEqual([ws.path('child.yaml'), ws.path('base.yaml')]);
  });

  test('aliases that expand within bounds are read as the values they name', async () => {
    const yaml = `${OK.replace('[simplify, dce]', '&p [simplify, dce]')}  - name: again\n    passes: { passes: *p }\n`;
    const r = await resolvePipeline(ws.write('case-alias-ok.yaml', yaml));
    expect(r.diagnostics.map((d) => d.message)).toEqual([]);
    expect(r.pipeline!.stages.map((s) => s.options)).toEqual([
      {},
      { passes: ['simplify', 'dce'] },
      { passes: ['simplify', 'dce'] },
    ]);
  });

  test('kiln validate of an empty file reports it and exits 2', async () => {
    const file = ws.write('case-empty-cli.yaml', '# only a comment\n');
    let err = '';
    const code = await main(['validate', file], { stdout: () => undefined, stderr: (t) => (err += t) });
    expect(code).toBe(2);
    expect(err).toContain(`${file}:1:1 - error K6011: the pipeline file is empty`);
  });

  test('kiln validate prints every problem with its line and exits 2', async () => {
    const file = ws.write('case-cli.yaml', OK.replace('target: js', 'target: jss').replace('- passes:', '- pases:'));
    let err = '';
    const code = await main(['validate', file], { stdout: () => undefined, stderr: (t) => (err += t) });
    expect(code).toBe(2);
    expect(err).toContain(`${file}:2:9 - error K6007: unknown target 'jss'`);
    expect(err).toContain('  2 | target: jss\n    |         ^^^');
    expect(err).toContain(`${file}:7:5 - error K6002: unknown stage 'pases'`);
  });
});
