/**
 * Checks that manifest.json and program.json have the shape the loader and
 * the VM read, before anything reads them: a damaged or hand-edited file is a
 * LoadError naming the file and the field, never a TypeError deep in the load.
 */
import { checkArtifactPath } from './artifact-paths.ts';
import { LOAD_CODES, LoadError } from './errors.ts';
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, type Manifest } from './manifest.ts';
import { PROGRAM_VERSION, type VMProgram } from './program.ts';

type Kind = 'string' | 'object' | 'array' | 'count' | 'strings' | 'counts' | 'bounds';

const EXPECTED: Record<Kind, string> = {
  string: 'a string',
  object: 'an object',
  array: 'an array',
  count: 'a non-negative integer',
  strings: 'an array of strings',
  counts: 'an array of non-negative integers',
  bounds: 'an array of non-negative integers or nulls',
};

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function matches(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'count':
      return isCount(v);
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'counts':
      return Array.isArray(v) && v.every(isCount);
    case 'bounds':
      return Array.isArray(v) && v.every((x) => x === null || isCount(x));
  }
}

/** Reads fields of one JSON file, failing with the file and the field's path. */
class Fields {
  constructor(private readonly file: string) {}

  get(obj: Record<string, unknown>, path: string, key: string, kind: Kind): unknown {
    const v = obj[key];
    const at = path ? `${path}.${key}` : key;
    if (v === undefined) this.fail(`field '${at}' is missing; expected ${EXPECTED[kind]}`);
    if (!matches(v, kind)) this.fail(`field '${at}' must be ${EXPECTED[kind]}, found ${shown(v)}`);
    return v;
  }

  object(obj: Record<string, unknown>, path: string, key: string): Record<string, unknown> {
    return this.get(obj, path, key, 'object') as Record<string, unknown>;
  }

  objects(obj: Record<string, unknown>, path: string, key: string): Record<string, unknown>[] {
    const list = this.get(obj, path, key, 'array') as unknown[];
    return list.map((x, i) => {
      if (!isObject(x)) this.fail(`field '${path ? `${path}.` : ''}${key}[${i}]' must be an object, found ${shown(x)}`);
      return x;
    });
  }

  fail(problem: string): never {
    throw new LoadError(`${this.file}: ${problem}`, LOAD_CODES.malformed);
  }
}

function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** `value` (parsed manifest.json) as a Manifest, or a LoadError naming the first field that is wrong. */
export function checkManifest(value: unknown, file: string): Manifest {
  const f = new Fields(file);
  if (!isObject(value)) return f.fail(`expected a JSON object, found ${shown(value)}`);
  if (value.format !== ARTIFACT_FORMAT) throw new LoadError(`${file} is not a Kiln artifact manifest`);
  if (value.version !== ARTIFACT_VERSION) {
    throw new LoadError(
      `${file}: artifact format version ${shown(value.version)}, this runtime reads version ${ARTIFACT_VERSION}; rebuild it`,
    );
  }
  f.get(value, '', 'name', 'string');
  const target = f.object(value, '', 'target');
  for (const k of ['name', 'kind', 'device']) f.get(target, 'target', k, 'string');
  const entries = f.object(value, '', 'entries');
  for (const name of Object.keys(entries)) {
    const path = `entries.${name}`;
    const e = f.object(entries, 'entries', name);
    f.objects(e, path, 'params').forEach((p, i) => {
      f.get(p, `${path}.params[${i}]`, 'name', 'string');
      f.get(p, `${path}.params[${i}]`, 'type', 'string');
      if (p.tensor !== undefined)
        f.get(f.object(p, `${path}.params[${i}]`, 'tensor'), `${path}.params[${i}].tensor`, 'dtype', 'string');
    });
    f.get(e, path, 'ret', 'string');
    if (e.outputs !== undefined) f.get(e, path, 'outputs', 'strings');
    f.get(e, path, 'vars', 'strings');
    if (e.upper !== undefined) f.get(e, path, 'upper', 'bounds');
  }
  checkArtifactPath(f.get(value, '', 'program', 'string') as string, 'program', file);
  const kernels = f.object(value, '', 'kernels');
  f.get(kernels, 'kernels', 'format', 'string');
  checkArtifactPath(f.get(kernels, 'kernels', 'file', 'string') as string, 'kernels.file', file);
  f.get(kernels, 'kernels', 'names', 'strings');
  const params = f.object(value, '', 'params');
  const shards = f.objects(params, 'params', 'shards');
  shards.forEach((s, i) => {
    checkArtifactPath(f.get(s, `params.shards[${i}]`, 'file', 'string') as string, `params.shards[${i}].file`, file);
    f.get(s, `params.shards[${i}]`, 'byteLength', 'count');
  });
  f.objects(params, 'params', 'tensors').forEach((t, i) => {
    const path = `params.tensors[${i}]`;
    f.get(t, path, 'dtype', 'string');
    f.get(t, path, 'shape', 'counts');
    f.get(t, path, 'offset', 'count');
    f.get(t, path, 'byteLength', 'count');
    f.get(t, path, 'hash', 'string');
    const shard = f.get(t, path, 'shard', 'count') as number;
    if (shard >= shards.length) f.fail(`field '${path}.shard' is ${shard}, but there are ${shards.length} shards`);
  });
  f.get(value, '', 'externs', 'strings');
  if (value.backends !== undefined) {
    const backends = f.object(value, '', 'backends');
    for (const name of Object.keys(backends)) {
      const functions = f.object(f.object(backends, 'backends', name), `backends.${name}`, 'functions');
      for (const symbol of Object.keys(functions)) {
        const path = `backends.${name}.functions.${symbol}`;
        const files = f.object(f.object(functions, `backends.${name}.functions`, symbol), path, 'files');
        for (const k of Object.keys(files))
          checkArtifactPath(f.get(files, `${path}.files`, k, 'string') as string, `${path}.files.${k}`, file);
      }
    }
  }
  return value as unknown as Manifest;
}

/** `value` (parsed program.json) as a VMProgram that has every entry function of the manifest. */
export function checkProgram(value: unknown, manifest: Manifest, file: string): VMProgram {
  const f = new Fields(file);
  if (!isObject(value)) return f.fail(`expected a JSON object, found ${shown(value)}`);
  if (value.version !== PROGRAM_VERSION)
    throw new LoadError(`${file}: VM program version ${shown(value.version)} is not supported`);
  const functions = f.object(value, '', 'functions');
  for (const name of Object.keys(functions)) {
    const path = `functions.${name}`;
    const fn = f.object(functions, 'functions', name);
    f.get(fn, path, 'params', 'array');
    f.get(fn, path, 'registers', 'count');
    f.get(fn, path, 'vars', 'strings');
    if (fn.upper !== undefined) f.get(fn, path, 'upper', 'bounds');
    f.get(fn, path, 'code', 'array');
  }
  const missing = Object.keys(manifest.entries).filter((e) => !Object.hasOwn(functions, e));
  if (missing.length > 0) f.fail(`the manifest's entry function '${missing[0]}' is not in the program`);
  return value as unknown as VMProgram;
}
