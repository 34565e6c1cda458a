/**
 * `partition`: hands groups of operator calls to backends (libraries, other
 * runtimes) by declarative rules, and lets the rest of the module compile as
 * usual (src/passes/partition/). Each rule is a pattern, a backend (a
 * built-in's name or a file of the user's own) and optional conditions:
 *
 *   - partition:
 *       rules:
 *         - { pattern: "conv2d(*, const) -> add(*, const)? -> relu?", backend: onnxruntime }
 *         - { pattern: matmul, backend: ./my-gemm.ts, when: { dtype: f32, min-flops: 1e6 } }
 *
 * Each backend's codegen runs here, for every composite it got; what it makes
 * is kept on the composite and written into the artifact by `codegen`. Put it
 * after `import` (and `fold-constants`, so weights are constants) and before
 * `legalize`.
 */
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { allBackends, type Backend, getBackend, isBackend } from '../codegen/backends/index.ts';
import { parseDataType } from '../ir/dtype.ts';
import { BACKEND_OUTPUT_ATTR, SYMBOL_ATTR } from '../ir/graph/composite.ts';
import type { GraphFunc } from '../ir/graph/expr.ts';
import { irModule, type IRModule } from '../ir/module.ts';
import { PARTITION_VERSION, partitionModule, type PartitionStats, RULES_ATTR } from '../passes/partition/partition.ts';
import { parsePattern, type Pattern, PatternError } from '../passes/partition/pattern.ts';
import { didYouMean, isKilnError, KilnError, type SourceLocation } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';
import { defineStage, type OptionProblem, type StageContext } from './registry.ts';
import { importUserModule, localSourceFiles } from './user-module.ts';

const when = z
  .object({
    dtype: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .describe('The result dtype of every matched call (f32, or a list).'),
    'min-flops': z
      .number()
      .min(0)
      .optional()
      .describe('At least this many floating-point operations in the match (symbolic dimensions count as 1).'),
    attrs: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Attribute values every matched call that has the attribute must have ({ groups: 1 }).'),
  })
  .strict();

const rule = z
  .object({
    pattern: z
      .string()
      .min(1)
      .describe("Operators in a chain: 'conv2d(*, const) -> add(*, const)? -> relu?'; '*' any, '?' optional, '|' either."),
    backend: z.string().min(1).describe('A built-in backend (onnxruntime, kiln-wasm-gemm) or the path of a backend file.'),
    when: when.optional(),
  })
  .strict();

const options = z
  .object({
    rules: z.array(rule).min(1).describe('The rules, in priority order: a call matched by one is not matched again.'),
    merge: z.boolean().default(true).describe('Merge adjacent composites of the same backend into one.'),
  })
  .strict();

type Options = z.output<typeof options>;

/** A backend given as a file rather than a built-in's name. */
const isFile = (backend: string): boolean => /^(\.{1,2}\/|\/)|\.(m?[jt]s)$/.test(backend);

const dtypes = (d: string | readonly string[] | undefined): readonly string[] | undefined =>
  d === undefined ? undefined : typeof d === 'string' ? [d] : d;

export const partitionStage = defineStage({
  id: 'partition',
  version: PARTITION_VERSION,
  description:
    'Hands groups of operator calls, matched by pattern rules, to backends (call_dps_packed into a library or another runtime).',
  options,
  usesTarget: false,
  inputs: (o, env) =>
    o.rules
      .filter((r) => isFile(r.backend))
      .flatMap((r) => {
        const path = resolve(env.dir, r.backend);
        try {
          return localSourceFiles(path);
        } catch {
          return [path]; // missing: the build reports it, at the stage
        }
      }),
  // A built-in backend's version is part of the key (a user's file is, by its content).
  fingerprint: (o) =>
    [...new Set(o.rules.map((r) => r.backend).filter((b) => !isFile(b)))]
      .map((b) => `${b}@${getBackend(b)?.version ?? 0}`)
      .join(','),
  check: (o) => {
    const problems: OptionProblem[] = [];
    o.rules.forEach((r, i) => {
      try {
        // Operator names are checked when the stage runs: the operator library loads on use.
        parsePattern(r.pattern);
      } catch (e) {
        if (!(e instanceof PatternError)) throw e;
        problems.push({ path: ['rules', i, 'pattern'], message: e.message, offset: e.offset, length: e.length });
      }
      if (!isFile(r.backend) && !getBackend(r.backend)) {
        const names = allBackends().map((b) => b.name);
        problems.push({
          path: ['rules', i, 'backend'],
          message: `unknown backend '${r.backend}'`,
          notes: [...didYouMean(r.backend, names), `backends: ${names.join(', ')}, or the path of a file (./my-backend.ts)`],
        });
      }
      for (const d of dtypes(r.when?.dtype) ?? []) {
        if (!parseDataType(d)) problems.push({ path: ['rules', i, 'when', 'dtype'], message: `unknown dtype '${d}'` });
      }
    });
    return problems;
  },
  run: async (module, ctx) => {
    if (!module) throw new Error('partition needs a module; put import first');
    const backends = await loadBackends(ctx);
    const byName = new Map([...backends.values()].map((b) => [b.name, b]));
    const { hasOp } = await import('../ops/index.ts');
    const patterns: Pattern[] = ctx.options.rules.map((r, i) => {
      try {
        return parsePattern(r.pattern, hasOp);
      } catch (e) {
        if (!(e instanceof PatternError)) throw e;
        const at = ctx.locate?.(['rules', i, 'pattern'], { offset: e.offset, length: e.length });
        throw new KilnError(diagnostic(M.pipelineValue, { where: `rule ${i + 1}, pattern`, problem: e.message }, at), {
          input: true,
        });
      }
    });
    const stats: PartitionStats = { matches: [], composites: [] };
    const out = partitionModule(
      module,
      {
        rules: ctx.options.rules.map((r, i) => ({
          pattern: patterns[i]!,
          backend: backends.get(r.backend)!.name,
          when: {
            ...(r.when?.dtype ? { dtype: dtypes(r.when.dtype)!.map((d) => parseDataType(d)!) } : {}),
            ...(r.when?.['min-flops'] !== undefined ? { minFlops: r.when['min-flops'] } : {}),
            ...(r.when?.attrs ? { attrs: r.when.attrs as never } : {}),
          },
        })),
        supports: (name, f) => byName.get(name)!.supports(f),
        merge: ctx.options.merge,
      },
      stats,
    );
    ctx.options.rules.forEach((r, i) => {
      if (!stats.matches[i]) {
        const at = where(ctx, i);
        ctx.warn(`${at ? `${at}: ` : ''}${M.partitionNoMatch.text({ rule: String(i + 1), pattern: r.pattern })}`);
      }
    });
    for (const c of stats.composites) {
      ctx.log(
        `${c.name}: ${c.calls} call(s) to ${c.backend} (rule${c.rules.length > 1 ? 's' : ''} ${c.rules.map((r) => r + 1).join(', ')})`,
      );
    }
    return codegenComposites(out, backends, stats, ctx);
  },
});

/** `file:line:col` of rule i, for messages. */
function where(ctx: StageContext<Options>, i: number): string | undefined {
  const loc: SourceLocation | undefined = ctx.locate?.(['rules', i]);
  return loc ? `${relative(process.cwd(), loc.file) || loc.file}:${loc.line}:${loc.column}` : undefined;
}

/** The backends the rules name, by the name the rules use (a file's path, or a built-in's name). */
async function loadBackends(ctx: StageContext<Options>): Promise<Map<string, Backend>> {
  const out = new Map<string, Backend>();
  for (const [i, r] of ctx.options.rules.entries()) {
    if (out.has(r.backend)) continue;
    if (!isFile(r.backend)) {
      out.set(r.backend, getBackend(r.backend)!);
      continue;
    }
    let mod: unknown;
    try {
      mod = await importUserModule(ctx.resolvePath(r.backend));
    } catch (e) {
      throw userBackendError(ctx, i, r.backend, e instanceof Error ? e.message : String(e));
    }
    if (!isBackend(mod)) {
      throw userBackendError(
        ctx,
        i,
        r.backend,
        'its default export must be a backend: export default defineBackend({ name, supports, codegen })',
      );
    }
    const other = [...out.entries()].find(([, b]) => b.name === mod.name);
    if (other) throw userBackendError(ctx, i, r.backend, `its name '${mod.name}' is also the name of ${other[0]}`);
    out.set(r.backend, mod);
  }
  return out;
}

function userBackendError(ctx: StageContext<Options>, i: number, file: string, problem: string): KilnError {
  return new KilnError(diagnostic(M.userBackend, { file, problem }, ctx.locate?.(['rules', i, 'backend'])), { input: true });
}

/** Runs each composite's backend codegen and keeps its output on the composite, for `codegen` to write. */
async function codegenComposites(
  m: IRModule,
  backends: ReadonlyMap<string, Backend>,
  stats: PartitionStats,
  ctx: StageContext<Options>,
): Promise<IRModule> {
  if (stats.composites.length === 0) return m;
  const functions = new Map(m.functions);
  for (const c of stats.composites) {
    const func = functions.get(c.name) as GraphFunc;
    const backend = [...backends.values()].find((b) => b.name === c.backend)!;
    const symbol = func.attrs[SYMBOL_ATTR] as string;
    let output: Awaited<ReturnType<Backend['codegen']>>;
    try {
      output = await backend.codegen({ name: c.name, symbol, func });
    } catch (e) {
      const rules = (func.attrs[RULES_ATTR] as number[]).map((r) => r);
      const first = rules[0] ?? 0;
      const problem = isKilnError(e) ? (e.diagnostics[0]?.message ?? e.message) : thrownText(e);
      const label = `${first + 1} ('${ctx.options.rules[first]!.pattern}')${rules.length > 1 ? ` and ${rules.length - 1} more` : ''}`;
      throw new KilnError(
        diagnostic(
          M.backendFailed,
          { backend: c.backend, composite: c.name, rule: label, problem },
          ctx.locate?.(['rules', first]),
        ),
      );
    }
    const files: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(output.files ?? {})) {
      files[name] = Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString('base64');
    }
    const kept = { entry: output.entry ?? null, files };
    functions.set(c.name, { ...func, attrs: { ...func.attrs, [BACKEND_OUTPUT_ATTR]: kept } });
  }
  return irModule(functions, m.attrs);
}

/** What a backend threw, in words: an Error's message, or what a library threw instead (binaryen throws objects). */
function thrownText(e: unknown): string {
  if (e instanceof Error) return e.message;
  const message = (e as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(e);
}
