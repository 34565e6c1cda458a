/**
 * `passes`: runs a list of registered IRModule passes in order:
 *
 *   - passes: { passes: [dce, simplify, { fuse-ops: { level: 2 } }] }
 *
 * Each entry is a pass name, or a one-key map from a pass name to its options.
 */
import { z } from 'zod';
import { createPass, getPass, type Pass, sequential } from '../passes/index.ts';
import { isKilnError } from '../support/diagnostics.ts';
import { defineStage, type OptionProblem } from './registry.ts';

const passEntry = z.union([z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))]);

const options = z
  .object({
    passes: z.array(passEntry).min(1).describe('Pass names, or {name: options} maps, run in order.'),
  })
  .strict();

type Entry = z.output<typeof passEntry>;

function entryParts(e: Entry): { name: string; options: unknown } {
  if (typeof e === 'string') return { name: e, options: {} };
  const [name, opts] = Object.entries(e)[0] ?? ['', {}];
  return { name, options: opts };
}

function build(entries: readonly Entry[]): Pass {
  return sequential(entries.map((e) => entryParts(e)).map(({ name, options: o }) => createPass(name, o)));
}

export const passesStage = defineStage({
  id: 'passes',
  version: 1,
  description: 'Runs registered IRModule passes in order (dce, simplify, ...).',
  options,
  usesTarget: (o) => o.passes.some((e) => getPass(entryParts(e).name)?.usesTarget ?? true),
  // A pass's version is part of the key: a new implementation must not reuse old results.
  fingerprint: (o) => o.passes.map((e) => `${entryParts(e).name}@${getPass(entryParts(e).name)?.version ?? '?'}`).join(','),
  check: (o) => {
    const problems: OptionProblem[] = [];
    o.passes.forEach((e, i) => {
      if (typeof e !== 'string' && Object.keys(e).length !== 1) {
        problems.push({ path: ['passes', i], message: 'a pass with options is a map with exactly one key, the pass name' });
        return;
      }
      const { name, options: passOptions } = entryParts(e);
      try {
        createPass(name, passOptions);
      } catch (err) {
        if (!isKilnError(err)) throw err;
        const d = err.diagnostics[0]!;
        problems.push({
          path: typeof e === 'string' ? ['passes', i] : ['passes', i, name],
          message: d.message,
          ...(d.notes ? { notes: d.notes } : {}),
        });
      }
    });
    return problems;
  },
  run: async (module, ctx) => {
    if (!module) throw new Error('passes needs a module; put import first');
    await Promise.all(ctx.options.passes.map((e) => getPass(entryParts(e).name)?.load() ?? Promise.resolve()));
    return build(ctx.options.passes).run(module, { target: ctx.target });
  },
});
