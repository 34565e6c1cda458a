/**
 * Targets: `target: webgpu` names Kiln's targets/webgpu.yaml; a value with a
 * slash or a .yaml ending is the path of a target file of your own.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TargetDescription, targetSchema } from '../ir/target.ts';
import { type Diagnostic, didYouMean, type SourceLocation } from '../support/diagnostics.ts';
import { sha256Hex } from '../support/hash.ts';
import { diagnostic, M } from '../support/messages.ts';
import { fileProblem } from './file-problem.ts';
import { keyJson } from './key-material.ts';
import { ajvDiagnostics, dotted, validateJson, zodDiagnostics } from './problems.ts';
import { targetJsonSchema } from './schema.ts';
import { parseYaml, toJson } from './yaml-tree.ts';

export interface ResolvedTarget {
  readonly file: string;
  readonly description: TargetDescription;
  /** The hash of the description's canonical JSON: what cache keys include. */
  readonly hash: string;
}

/** The root of the Kiln package (where targets/ and schemas/ are), from src/ or dist/ alike. */
export function kilnRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Kiln package root');
    dir = up;
  }
  return dir;
}

export function builtinTargets(): string[] {
  const dir = join(kilnRoot(), 'targets');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

export function targetFile(value: string, declaringDir: string): string {
  return /[\\/]|\.ya?ml$/.test(value) ? resolve(declaringDir, value) : join(kilnRoot(), 'targets', `${value}.yaml`);
}

let schema: Record<string, unknown> | undefined;

export function loadTarget(
  value: string,
  declaringDir: string,
  at: SourceLocation,
  sources: Map<string, string>,
): { target?: ResolvedTarget; diagnostics: Diagnostic[] } {
  const file = targetFile(value, declaringDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const named = !/[\\/]|\.ya?ml$/.test(value);
    const d = named
      ? diagnostic(M.unknownTarget, { name: value, dir: join(kilnRoot(), 'targets') }, at, [
          ...didYouMean(value, builtinTargets()),
          `targets: ${builtinTargets().join(', ')}`,
        ])
      : (fileProblem('target file', file, at, e) ?? diagnostic(M.missingFile, { what: 'target file', path: file }, at));
    return { diagnostics: [d] };
  }
  sources.set(file, text);
  const parsed = parseYaml(text, file);
  if (!parsed.tree) {
    const empty = diagnostic(M.pipelineValue, { where: 'target', problem: 'the target file is empty' }, at);
    return { diagnostics: parsed.diagnostics.length > 0 ? parsed.diagnostics : [empty] };
  }
  const json = toJson(parsed.tree);
  schema ??= targetJsonSchema();
  const describe = (p: readonly (string | number)[]): string => (p.length === 0 ? 'target' : `target ${dotted(p)}`);
  const errors = validateJson(schema, json);
  if (errors.length > 0) return { diagnostics: ajvDiagnostics(errors, parsed.tree, [], describe) };
  const result = targetSchema.safeParse(json);
  if (!result.success) return { diagnostics: zodDiagnostics(result.error, parsed.tree, [], describe) };
  return { target: { file, description: result.data, hash: sha256Hex(keyJson(result.data)) }, diagnostics: [] };
}
