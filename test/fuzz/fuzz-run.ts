/**
 * One fuzz campaign, in a process of its own so that a mutant that hangs can be stopped
 * from outside (a synchronous loop would hold a test worker forever): mutants of the
 * example `.kir` files or pipeline files, made by fast-check from a seed, each checked to
 * end in a result or a KilnError (a located one, for a parse error), never in another
 * exception: a `.kir` mutant is parsed, verified, printed and built to a JavaScript
 * artifact; a pipeline mutant is resolved, and the first few that resolve are built. Before each mutant it prints `mutant <n>` so the parent can name one that
 * hangs; at the end `ok <count>` or `failed <fast-check's report>`.
 *
 * Usage: fuzz-run.ts kir|pipeline <seed> <runs>
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { printModule } from '../../src/ir/text/printer.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { assertWellFormed } from '../../src/ir/verify/index.ts';
import { opHooks } from '../../src/ops/index.ts';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { Build } from '../../src/pipeline/engine.ts';
import { loadTarget } from '../../src/pipeline/targets.ts';
import { resolvePipeline } from '../../src/pipeline/resolve.ts';
import { isKilnError } from '../../src/support/diagnostics.ts';
import { type Mutation, mutate, mutationArb } from './mutate.ts';

const REPO = join(import.meta.dirname, '../..');
const [kind, seedText, runsText] = process.argv.slice(2);
const seed = Number(seedText);
const numRuns = Number(runsText);

/** A KilnError is a verdict; anything else escapes as the failure it is. */
function expectKilnError(e: unknown, located: boolean): void {
  if (!isKilnError(e)) throw e;
  for (const d of e.diagnostics) {
    if (located && !d.location) throw new Error(`a diagnostic without file:line:col: ${d.code} ${d.message}`);
    if (d.notes?.some((n) => n.includes('bug in Kiln'))) throw new Error(`a stage failed as a bug in Kiln: ${e.message}`);
  }
}

let mutantNumber = 0;
const announce = (): void => void process.stdout.write(`mutant ${++mutantNumber}\n`);

const jsTarget = loadTarget('js', REPO, { file: 'fuzz', line: 1, column: 1 }, new Map()).target!.description;

function kirCampaign(): fc.IAsyncProperty<[number, Mutation[]]> {
  const dir = join(REPO, 'examples');
  const corpus = readdirSync(dir)
    .filter((f) => f.endsWith('.kir'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
  return fc.asyncProperty(
    fc.nat(corpus.length - 1),
    fc.array(mutationArb(corpus), { minLength: 1, maxLength: 4 }),
    async (i, ms) => {
      announce();
      const text = mutate(corpus[i]!, ms);
      let module;
      try {
        module = parseModule(text, { file: 'fuzz.kir', ...opHooks });
      } catch (e) {
        return expectKilnError(e, true);
      }
      try {
        assertWellFormed(module, opHooks);
      } catch (e) {
        return expectKilnError(e, false);
      }
      printModule(module);
      // A module that verifies builds to an artifact, or says why it cannot.
      try {
        await buildArtifact(module, { name: 'fuzz', target: jsTarget });
      } catch (e) {
        expectKilnError(e, false);
      }
    },
  );
}

function pipelineCampaign(): fc.IAsyncProperty<[number, Mutation[]]> {
  // A project like the repository: pipelines next to examples/, so their relative paths hold.
  const root = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'pipelines'));
  symlinkSync(join(REPO, 'examples'), join(root, 'examples'));
  const pipelines = join(REPO, 'pipelines');
  const corpus = readdirSync(pipelines)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(join(pipelines, f), 'utf8'));
  writeFileSync(join(root, 'pipelines/base.yaml'), corpus[0]!);
  corpus.push(
    'name: child\nextends: ./base.yaml\nstages:\n  - name: legalize\n    legalize: {}\n  - passes: { passes: [dce] }\n',
  );
  const file = join(root, 'pipelines/fuzz.yaml');
  // Building every mutant that resolves would take minutes: the first few exercise the engine.
  let builds = 0;
  return fc.asyncProperty(
    fc.nat(corpus.length - 1),
    fc.array(mutationArb(corpus), { minLength: 1, maxLength: 4 }),
    async (i, ms) => {
      announce();
      writeFileSync(file, mutate(corpus[i]!, ms));
      const r = await resolvePipeline(file);
      // Problems of a file (no --set here) are each at their file:line:col.
      for (const d of r.diagnostics) if (!d.location) throw new Error(`a problem without a place: ${d.code} ${d.message}`);
      if (!r.pipeline) {
        if (r.diagnostics.length === 0) throw new Error('no pipeline and no problem reported');
        return;
      }
      // Only where every stage writes inside the scratch project (a mutated `out: ../..` must not write elsewhere).
      const outs = r.pipeline.stages.flatMap((s) => {
        const out = (s.options as { out?: unknown }).out;
        return typeof out === 'string' ? [resolve(s.dir, out)] : [];
      });
      if (!outs.every((o) => o.startsWith(`${root}/artifacts/`)) || builds++ >= 10) return;
      try {
        await new Build(r.pipeline).run();
      } catch (e) {
        expectKilnError(e, false);
      }
    },
  );
}

try {
  if (kind === 'kir') await fc.assert(kirCampaign(), { seed, numRuns });
  else await fc.assert(pipelineCampaign(), { seed, numRuns });
  process.stdout.write(`ok ${mutantNumber}\n`);
} catch (e) {
  process.stdout.write(`failed ${JSON.stringify(e instanceof Error ? e.message : String(e))}\n`);
}
