/**
 * Schema problems (ajv's and zod's) as diagnostics placed at the YAML that
 * causes them, in words a user reads once: "unknown option 'trails'; did you
 * mean 'trials'?", "expected an integer, found "abc"".
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { z } from 'zod';
import { type Diagnostic, didYouMean } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';
import { type Located, locate } from './yaml-tree.ts';

export type Path = readonly (string | number)[];

// Every schema here is generated from zod, so checking it against the draft-07 meta-schema
// (validateSchema) only costs start-up time: ~30 ms of a ~250 ms no-op rebuild. Code
// optimisation is skipped for the same reason: these validators run once per build.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: false, code: { optimize: false } });
const compiled = new WeakMap<object, ValidateFunction>();

/** Validates `value` against a JSON Schema (compiled once per schema object). */
export function validateJson(schema: Record<string, unknown>, value: unknown): ErrorObject[] {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v(value) ? [] : (v.errors ?? []);
}

/** How to name a place in messages: `model.path`, `stage 'tune', option 'trials'`. */
export type Describe = (path: Path) => string;

export function dotted(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function pointerPath(pointer: string, tree: Located, base: Path): Path {
  if (pointer === '') return [];
  const steps = pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  // Array indices are numbers, which `locate` needs to step into sequences.
  const out: (string | number)[] = [];
  let node: Located | undefined = locateNode(tree, base);
  for (const s of steps) {
    const isIndex = node?.kind === 'seq' && /^\d+$/.test(s);
    out.push(isIndex ? Number(s) : s);
    node =
      node?.kind === 'seq' && isIndex ? node.items[Number(s)] : node?.kind === 'map' ? node.entries.get(s)?.value : undefined;
  }
  return out;
}

function locateNode(tree: Located, path: Path): Located | undefined {
  let node: Located | undefined = tree;
  for (const step of path) {
    if (node?.kind === 'map') node = node.entries.get(String(step))?.value;
    else if (node?.kind === 'seq' && typeof step === 'number') node = node.items[step];
    else return undefined;
  }
  return node;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'null',
};

/**
 * Diagnostics for ajv errors of the value at `base` in `tree`. Errors of
 * an anyOf's alternatives are folded into one ("expected a string or a map").
 */
export function ajvDiagnostics(errors: readonly ErrorObject[], tree: Located, base: Path, describe: Describe): Diagnostic[] {
  const anyOfAt = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const rel = pointerPath(e.instancePath, tree, base);
    const path = [...base, ...rel];
    if (anyOfAt.has(e.instancePath) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'additionalProperties')
      continue;
    let d: Diagnostic;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const props = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const known = props.length > 0 ? [`known options: ${props.join(', ')}`] : ['it takes no options'];
        const near = didYouMean(key, props);
        d = diagnostic(
          M.unknownKey,
          { where: describe(rel), key },
          locate(tree, [...path, key], true),
          near.length > 0 ? near : known,
        );
        break;
      }
      case 'required': {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        d = diagnostic(M.pipelineValue, { where: describe(rel), problem: `'${missing}' is required` }, locate(tree, path));
        break;
      }
      case 'type': {
        const want = String((e.params as { type: string }).type)
          .split(',')
          .map((t) => TYPE_WORDS[t] ?? t)
          .join(' or ');
        d = diagnostic(
          M.pipelineValue,
          { where: describe(rel), problem: `expected ${want}, found ${show(e.data)}` },
          locate(tree, path),
        );
        break;
      }
      case 'enum': {
        const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(show).join(', ');
        d = diagnostic(
          M.pipelineValue,
          { where: describe(rel), problem: `expected one of ${allowed}, found ${show(e.data)}` },
          locate(tree, path),
        );
        break;
      }
      case 'anyOf':
      case 'oneOf': {
        const alternatives = errors
          .filter((x) => x.instancePath === e.instancePath && x.keyword === 'type')
          .map((x) => TYPE_WORDS[String((x.params as { type: string }).type)] ?? String((x.params as { type: string }).type));
        const want =
          alternatives.length > 0 ? `expected ${[...new Set(alternatives)].join(' or ')}` : 'does not match any allowed form';
        d = diagnostic(M.pipelineValue, { where: describe(rel), problem: `${want}, found ${show(e.data)}` }, locate(tree, path));
        break;
      }
      default:
        d = diagnostic(
          M.pipelineValue,
          { where: describe(rel), problem: `${e.message ?? 'is invalid'}, found ${show(e.data)}` },
          locate(tree, path),
        );
    }
    const key = `${d.location?.line}:${d.location?.column}:${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

/** Diagnostics for a zod error of the value at `base` (user stages, refinements JSON Schema cannot say). */
export function zodDiagnostics(
  error: z.ZodError,
  tree: Located,
  base: Path,
  describe: Describe,
  known: readonly string[] = [],
): Diagnostic[] {
  return error.issues.flatMap((issue) => {
    const rel = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) =>
        diagnostic(
          M.unknownKey,
          { where: describe(rel), key },
          locate(tree, [...base, ...rel, key], true),
          didYouMean(key, known),
        ),
      );
    }
    return [diagnostic(M.pipelineValue, { where: describe(rel), problem: issue.message }, locate(tree, [...base, ...rel]))];
  });
}
