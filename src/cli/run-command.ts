/**
 * `kiln run <artifact-dir>`: runs an entry function of a built artifact on
 * inputs from .npy files or seeded random data, prints each output's shape,
 * dtype and a short summary and the time of the runs after warm-up, and writes the
 * outputs as .npy.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { bytesPerElement, type DType, isBigIntDType, isDType, storageOf } from '../runtime/dtype.ts';
import type { KilnModule } from '../runtime/artifact.ts';
import type { EntryInfo, Manifest } from '../runtime/manifest.ts';
import { NDArray, sizeOf, tensor } from '../runtime/ndarray.ts';
import { readNpy, writeNpy } from '../runtime/npy.ts';
import { evalShapeExpr } from '../runtime/shape-expr.ts';
import { Shape, type Value } from '../runtime/values.ts';
import { describe } from '../runtime/vm.ts';
import { KilnError } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';
import { type CliIO, EXIT, reportError, Sources } from './io.ts';
import { formatBytes } from './progress.ts';
import { formatProfile, formatTiming, timeRuns, WARMUP_MS } from './timing.ts';

interface RunOptions {
  readonly entry?: string;
  readonly input: string[];
  readonly shape: string[];
  readonly seed: string;
  readonly device: string;
  readonly repeat: string;
  readonly warmup: string;
  readonly output?: string;
  readonly verify: boolean;
  readonly threads?: string;
  readonly profile?: boolean;
}

const collect = (v: string, all: string[]): string[] => [...all, v];

export function registerRunCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('run')
    .argument('<artifact-dir>', 'a directory written by the codegen stage')
    .description('run an entry function of a built artifact')
    .option('--entry <name>', 'the entry function (default: main, or the only one)')
    .option(
      '--input <name=file.npy|random|value>',
      'an input: a .npy file, random, or a number / comma list for prims and shapes (repeatable)',
      collect,
      [],
    )
    .option('--shape <name=d0,d1,...>', 'the shape of a random input (repeatable)', collect, [])
    .option('--seed <n>', 'seed of the random inputs', '0')
    .option('--device <name>', 'where to run: cpu or webgpu (the artifact must be built for that target)', 'cpu')
    .option('--threads <n>', "worker threads for WebAssembly kernels (default: the machine's cores)")
    .option('--repeat <n>', 'timed runs: report their median, min and max time', '1')
    .option(
      '--warmup <n|auto>',
      `untimed runs first (auto: at least one, more for up to ${WARMUP_MS} ms), so times leave out JIT compilation`,
      'auto',
    )
    .option('--output <dir>', 'write the outputs there as output_<i>.npy')
    .option('--profile', 'after the timed runs, as many with each kernel timed: a table of kernels, slowest first')
    .option('--no-verify', "skip checking the parameters against the manifest's hashes (a trusted artifact)")
    .action(async (dir: string, opts: RunOptions) => {
      try {
        await run(dir, opts, io);
        setExit(EXIT.ok);
      } catch (e) {
        setExit(reportRunError(e, io));
      }
    });
}

/**
 * Mistakes in the command or the inputs are the user's (exit 2), and so are the runtime's
 * refusals of an artifact or a call (it imports nothing from the compiler, so no catalog
 * code); anything else is a failure.
 */
function reportRunError(e: unknown, io: CliIO): number {
  if (e instanceof Error && (e.name === 'CallError' || e.name === 'LoadError')) {
    // The runtime's errors carry their catalog code (src/runtime/errors.ts).
    const code = (e as { code?: unknown }).code;
    io.stderr(`error${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}\n`);
    return EXIT.invalid;
  }
  return reportError(e, io, new Sources(), EXIT.invalid);
}

/** A mistake in `kiln run`'s arguments or inputs. */
function inputError(problem: string): KilnError {
  return new KilnError(diagnostic(M.runInput, { problem }), { input: true });
}

async function run(dir: string, opts: RunOptions, io: CliIO): Promise<void> {
  if (opts.device !== 'cpu' && opts.device !== 'webgpu') {
    throw inputError(`--device ${opts.device}: expected cpu or webgpu`);
  }
  const repeat = positiveInt(opts.repeat, '--repeat');
  const warmup = opts.warmup === 'auto' ? 'auto' : positiveInt(opts.warmup, '--warmup', true);
  const seed = positiveInt(opts.seed, '--seed', true);
  const { load } = await import('../runtime/node.ts');
  const threads = opts.threads === undefined ? undefined : positiveInt(opts.threads, '--threads');
  const mod = await load(resolve(dir), {
    device: opts.device,
    verify: opts.verify,
    ...(threads !== undefined ? { threads } : {}),
  });
  const entry = pickEntry(mod.manifest, opts.entry);
  const info = mod.manifest.entries[entry]!;
  const args = makeInputs(info, parsePairs(opts.input, '--input'), parsePairs(opts.shape, '--shape'), seed, io);

  // Reading the outputs back waits for the device, so a GPU run's time includes its work.
  const timing = await timeRuns(async () => toCpuValue(await mod.call(entry, ...args)), repeat, warmup);
  const outputs = flatten(timing.result);
  for (const [i, o] of outputs.entries()) io.stdout(`${describeOutput(i, o)}\n`);
  io.stdout(`${formatTiming(entry, timing)}\n`);
  if (opts.profile) io.stdout(formatProfile(await profileCalls(mod, entry, args, repeat), repeat));
  if (opts.output) {
    const out = resolve(opts.output);
    mkdirSync(out, { recursive: true });
    for (const [i, o] of outputs.entries()) {
      if (o instanceof NDArray) writeFileSync(join(out, `output_${i}.npy`), writeNpy(await o.toCpu()));
    }
    io.stdout(`wrote ${outputs.filter((o) => o instanceof NDArray).length} output(s) to ${out}\n`);
  }
}

/** Each kernel's launches and time summed over `calls` profiled calls, slowest first. */
async function profileCalls(
  mod: KilnModule,
  entry: string,
  args: readonly Value[],
  calls: number,
): Promise<{ kernel: string; launches: number; ms: number }[]> {
  const sum = new Map<string, { kernel: string; launches: number; ms: number }>();
  for (let i = 0; i < calls; i++) {
    for (const k of (await mod.profile(entry, ...args)).kernels) {
      const s = sum.get(k.kernel) ?? { kernel: k.kernel, launches: 0, ms: 0 };
      sum.set(k.kernel, { kernel: k.kernel, launches: s.launches + k.launches, ms: s.ms + k.ms });
    }
  }
  return [...sum.values()].sort((a, b) => b.ms - a.ms);
}

function positiveInt(text: string, flag: string, zeroOk = false): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < (zeroOk ? 0 : 1))
    throw inputError(`${flag} ${text}: expected a ${zeroOk ? 'non-negative' : 'positive'} integer`);
  return n;
}

export function pickEntry(m: Manifest, wanted: string | undefined): string {
  const entries = Object.keys(m.entries);
  if (wanted !== undefined) {
    if (!entries.includes(wanted))
      throw inputError(`--entry ${wanted}: the artifact's entry functions are ${entries.join(', ')}`);
    return wanted;
  }
  if (entries.includes('main')) return 'main';
  if (entries.length === 1) return entries[0]!;
  throw inputError(`the artifact has several entry functions (${entries.join(', ')}); choose one with --entry`);
}

export function parsePairs(items: readonly string[], flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw inputError(`${flag} ${item}: expected NAME=VALUE`);
    out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

export function makeInputs(
  info: EntryInfo,
  inputs: Map<string, string>,
  shapes: Map<string, string>,
  seed: number,
  io: CliIO,
): Value[] {
  const names = info.params.map((p) => p.name);
  for (const n of [...inputs.keys(), ...shapes.keys()]) {
    if (!names.includes(n)) throw inputError(`there is no input '${n}'; the inputs are ${names.join(', ')}`);
  }
  const vars: (number | undefined)[] = new Array<number | undefined>(info.vars.length);
  const values: (Value | undefined)[] = info.params.map((p) => {
    const given = inputs.get(p.name);
    if (given === undefined || given === 'random' || !p.tensor) return undefined;
    let t: NDArray;
    const file = statSync(given, { throwIfNoEntry: false });
    if (!file?.isFile()) {
      throw inputError(
        `--input ${p.name}=${given}: ${file ? 'is a directory' : 'no such file'}; input '${p.name}' is a tensor (${p.type}): give a .npy file or 'random'`,
      );
    }
    try {
      t = readNpy(new Uint8Array(readFileSync(given)), given);
    } catch (e) {
      throw inputError(`--input ${p.name}=${given}: ${(e as Error).message}`);
    }
    bindDims(p.tensor.dims, t.shape, vars);
    return t;
  });
  // Random inputs with --shape bind their variables before the defaults apply.
  info.params.forEach((p, i) => {
    const s = shapes.get(p.name);
    if (s === undefined || values[i] !== undefined || !p.tensor) return;
    bindDims(p.tensor.dims, parseDims(s, p.name), vars);
  });
  info.vars.forEach((name, slot) => {
    if (vars[slot] === undefined) {
      vars[slot] = 1;
      io.stderr(`notice: symbolic dimension ${name} is not set by an input or --shape; using ${name} = 1\n`);
    }
  });
  return info.params.map((p, i) => {
    if (values[i] !== undefined) return values[i];
    const given = inputs.get(p.name);
    if (!p.tensor) {
      if (given === undefined || given === 'random') {
        throw inputError(`input '${p.name}' (${p.type}) is not a tensor: give its value with --input ${p.name}=...`);
      }
      return literal(given, p.name, p.type);
    }
    const dims = shapes.has(p.name)
      ? parseDims(shapes.get(p.name)!, p.name)
      : p.tensor.dims?.map((d) => evalShapeExpr(d, vars, info.vars));
    if (!dims) throw inputError(`input '${p.name}' (${p.type}) has no known shape: give one with --shape ${p.name}=d0,d1,...`);
    if (!isDType(p.tensor.dtype))
      throw inputError(`input '${p.name}' has dtype ${p.tensor.dtype}, which the runtime does not know`);
    checkRandomSize(p.name, dims, p.tensor.dtype, shapes.has(p.name));
    return randomTensor(dims, p.tensor.dtype, seed * 1000 + i);
  });
}

/** The most data one generated input may take: far beyond a test input, well short of exhausting memory. */
export const MAX_RANDOM_INPUT_BYTES = 256 * 1024 * 1024;

/** A typo'd shape (an extra zero) would otherwise allocate gigabytes and run until killed. */
function checkRandomSize(name: string, dims: readonly number[], dtype: DType, fromShape: boolean): void {
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = count * bytesPerElement(dtype);
  if (bytes <= MAX_RANDOM_INPUT_BYTES) return;
  const why = fromShape ? `--shape ${name}=${dims.join(',')}` : `input '${name}' of shape [${dims.join(', ')}]`;
  throw inputError(
    `${why}: a random input of ${formatBytes(bytes)} (${count.toLocaleString('en')} ${dtype} values) is more than kiln run generates (${formatBytes(MAX_RANDOM_INPUT_BYTES)}); give a smaller shape, or the data with --input ${name}=FILE.npy`,
  );
}

function bindDims(pattern: readonly unknown[] | undefined, shape: readonly number[], vars: (number | undefined)[]): void {
  pattern?.forEach((d, k) => {
    if (Array.isArray(d) && d[0] === 'v' && vars[d[1] as number] === undefined && shape[k] !== undefined)
      vars[d[1] as number] = shape[k];
  });
}

function parseDims(text: string, name: string): number[] {
  const dims = text === '' ? [] : text.split(',').map((s) => Number(s.trim()));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw inputError(`--shape ${name}=${text}: expected non-negative integers separated by commas`);
  return dims;
}

function literal(text: string, name: string, type: string): Value {
  const nums = text.split(',').map((s) => Number(s.trim()));
  if (nums.some((n) => Number.isNaN(n))) throw inputError(`--input ${name}=${text}: expected a number or a comma-separated list`);
  return type.startsWith('Shape') ? new Shape(nums) : nums[0]!;
}

/** Uniform in [-1, 1) for floats, integers in [0, 10) and random bools: seeded, so runs repeat. */
function randomTensor(shape: readonly number[], dtype: DType, seed: number): NDArray {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = sizeOf(shape);
  // Straight into the tensor's storage where a number fits it as is; else through float64s the tensor converts.
  const direct = !isBigIntDType(dtype) && dtype !== 'float16' && dtype !== 'bfloat16';
  const values = direct ? new (storageOf(dtype))(n) : new Float64Array(n);
  const float = dtype.startsWith('float') || dtype === 'bfloat16';
  for (let i = 0; i < n; i++)
    values[i] = dtype === 'bool' ? (next() < 0.5 ? 0 : 1) : float ? next() * 2 - 1 : Math.floor(next() * 10);
  return tensor(values, shape, dtype);
}

async function toCpuValue(v: Value): Promise<Value> {
  if (v instanceof NDArray) return v.toCpu();
  if (Array.isArray(v)) return Promise.all((v as readonly Value[]).map((x) => toCpuValue(x)));
  return v;
}

function flatten(v: Value): Value[] {
  return Array.isArray(v) ? (v as readonly Value[]).flatMap((x) => flatten(x)) : [v];
}

function describeOutput(i: number, v: Value): string {
  if (!(v instanceof NDArray)) return `output ${i}: ${v instanceof Shape ? v.toString() : describe(v)}`;
  const xs = v.device.kind === 'cpu' ? v.toNumbers() : [];
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of xs) {
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
  }
  const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(6));
  const head = xs.slice(0, 6).map(fmt).join(', ') + (xs.length > 6 ? ', ...' : '');
  const stats = xs.length > 0 ? `  min ${fmt(min)}  max ${fmt(max)}  mean ${fmt(sum / xs.length)}` : '';
  return `output ${i}: ${v.dtype}[${v.shape.join(', ')}]${stats}  [${head}]`;
}
