/**
 * The thread pool of the WebAssembly kernels: workers that instantiate the
 * module over the same shared memory and take parts of a parallel launch's
 * range. A launch is handed out through a small shared control block (a
 * generation counter the workers wait on, the function, its arguments, the
 * range cut into chunks); every thread, this one included, claims chunks one
 * at a time until none is left, and this thread waits until every chunk is
 * done — spinning briefly, then without blocking, so a worker that dies fails
 * the call with an error and the pool starts anew for the next. Claiming
 * rather than a fixed part per thread: a sleeping worker takes ~0.1 ms to
 * wake, as long as a whole small kernel runs, and meanwhile this thread gets
 * on with the chunks (a worker that wakes after the last one was claimed has
 * nothing to do and is not waited for). Each thread claims from its own part
 * of the range first (thread i of T: the i-th T-th), then from the others':
 * launch after launch a thread then mostly works on the part of the tensors
 * it wrote itself, still in its core's cache (a depthwise convolution and the
 * copy that pads its input, 2 threads: 4-7% faster than claiming in one
 * order, where the chunks of one kernel and the next fell to either thread).
 *
 * Workers are started by the adapter's factory (worker_threads in Node, Web
 * Workers in browsers) from a script made of `workerMain` below, which must
 * stay self-contained: it runs as source text on the worker.
 */
import type { WasmCompiledModule, WasmInstance, WasmMemory } from './api.ts';
import type { Heap } from './heap.ts';
import { erf } from './imports.ts';
import type { LaunchRunner } from './kernel.ts';
import { MATH_IMPORTS } from './kernel-spec.ts';

export interface WorkerLike {
  postMessage(message: unknown): void;
  /** Called with each message the worker posts. */
  onMessage(listener: (message: unknown) => void): void;
  /** Called once if the worker stops (an error, or it was ended). */
  onExit(listener: (why: string) => void): void;
  terminate(): void;
}

export interface WorkerFactory {
  /** Starts a worker running `source` (a classic script). */
  spawn(source: string): WorkerLike;
  /** Threads to use when the caller does not say (the machine's cores). */
  readonly defaultThreads: number;
}

/** Parallel launches with fewer scalar iterations than this run on one thread: handing out costs more. */
const MIN_PARALLEL_WORK = 1 << 15;
/** Spins on the done counter before waiting without blocking. */
const SPINS = 20000;
/** Chunks per thread a parallel range is cut into: a late worker costs at most about one chunk at the end. */
const CHUNKS_PER_THREAD = 8;
/**
 * How long an idle worker spins on the generation counter before it sleeps, in ms. A model's calls come
 * back to back with the caller's work between them (copying inputs in and outputs out: ~0.4 ms for a
 * 2 MB tensor); a worker that slept meanwhile takes ~0.1 ms to wake for the next call's first launch,
 * which this thread then runs mostly alone (a 144-channel depthwise convolution ran slower on 2 threads
 * than on 1). onnxruntime's pools spin likewise between runs.
 */
const WORKER_SPIN_MS = 1;

// The control block, in 32-bit words.
const GEN = 0;
const DONE = 1;
const FN = 2;
const NARGS = 3;
const ERROR = 4;
const ERROR_LENGTH = 5;
const EXTENT = 7;
const CHUNKS = 8;
/** The threads taking part (the number of parts the chunks are divided into). */
const PARTS = 9;
/** From this word on, one per part: its next chunk to claim, tagged with the launch's generation (claimTag). */
const CLAIM = 16;
/** At most this many threads: their claim words (from CLAIM) end before the arguments (ARGS_BYTE). */
const MAX_THREADS = 60;
const ARGS_BYTE = 512;
const MAX_ARGS = 128;
const ERROR_BYTE = ARGS_BYTE + MAX_ARGS * 8;
const MAX_ERROR = 1024;
const CONTROL_BYTES = ERROR_BYTE + MAX_ERROR * 2;

export interface PoolOptions {
  readonly factory: WorkerFactory;
  readonly threads: number;
  readonly module: WasmCompiledModule;
  readonly memory: WasmMemory;
  readonly heap: Heap;
  readonly stackBytes: number;
  /** The instance on this thread. */
  readonly main: WasmInstance;
  /** Scalar iterations per iteration of each launch's parallel loop, by export name. */
  readonly work: ReadonlyMap<string, number>;
}

export async function createPool(options: PoolOptions): Promise<LaunchRunner> {
  const pool = new Pool(options);
  await pool.start();
  return pool;
}

class Pool implements LaunchRunner {
  private readonly control = new SharedArrayBuffer(CONTROL_BYTES);
  private readonly ctl = new Int32Array(this.control);
  private readonly args = new Float64Array(this.control, ARGS_BYTE, MAX_ARGS);
  private readonly names: string[];
  private readonly threads: number;
  private workers: WorkerLike[] = [];
  private stacks: number[] = [];
  private starting: Promise<void> | undefined;
  /** Why the current call's workers died, once one has. */
  private died: string | undefined;
  private readonly waiters = new Set<(why: string) => void>();

  constructor(private readonly o: PoolOptions) {
    this.threads = Math.min(o.threads, MAX_THREADS);
    this.names = Object.keys(o.main.exports).filter((n) => typeof o.main.exports[n] === 'function');
  }

  start(): Promise<void> {
    this.starting ??= this.spawnAll().catch((e: unknown) => {
      this.starting = undefined;
      throw e;
    });
    return this.starting;
  }

  private async spawnAll(): Promise<void> {
    this.died = undefined;
    const source = workerSource();
    const ready: Promise<void>[] = [];
    for (let i = 1; i < this.threads; i++) {
      const w = this.o.factory.spawn(source);
      const stack = this.o.heap.alloc(this.o.stackBytes);
      this.stacks.push(stack);
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.onMessage((m) => {
            if (m === 'ready') resolve();
          });
          w.onExit((why) => {
            reject(new Error(`a worker thread of the WebAssembly kernels could not start: ${why}`));
            this.lose(why);
          });
        }),
      );
      w.postMessage({
        module: this.o.module,
        memory: this.o.memory,
        control: this.control,
        index: i,
        stack: [stack, stack + this.o.stackBytes],
        names: this.names,
        imports: Object.keys(MATH_IMPORTS),
      });
      this.workers.push(w);
    }
    await Promise.all(ready);
  }

  /** A worker died: the call waiting on it fails, and the next call starts a new pool. */
  private lose(why: string): void {
    if (this.died !== undefined) return;
    this.died = why;
    for (const w of this.workers) w.terminate();
    for (const s of this.stacks) this.o.heap.release(s);
    this.workers = [];
    this.stacks = [];
    this.starting = undefined;
    for (const reject of this.waiters) reject(why);
    this.waiters.clear();
  }

  run(name: string, argv: readonly number[], extent: number | undefined): void | Promise<void> {
    const fn = this.o.main.exports[name] as (...a: number[]) => void;
    if (extent === undefined) return fn(...argv);
    const work = extent * (this.o.work.get(name) ?? 1);
    if (work < MIN_PARALLEL_WORK || extent < 2) return fn(...argv, 0, extent);
    if (this.starting === undefined || this.died !== undefined)
      return this.start().then(() => this.dispatch(fn, name, argv, extent));
    return this.dispatch(fn, name, argv, extent);
  }

  private dispatch(fn: (...a: number[]) => void, name: string, argv: readonly number[], extent: number): void | Promise<void> {
    if (argv.length > MAX_ARGS) return fn(...argv, 0, extent);
    const ctl = this.ctl;
    const chunks = Math.min(extent, CHUNKS_PER_THREAD * this.threads);
    const gen = (ctl[GEN]! + 1) | 0;
    ctl[FN] = this.names.indexOf(name);
    ctl[NARGS] = argv.length;
    ctl[EXTENT] = extent;
    ctl[CHUNKS] = chunks;
    ctl[PARTS] = this.threads;
    this.args.set(argv);
    Atomics.store(ctl, ERROR, 0);
    Atomics.store(ctl, DONE, 0);
    for (let p = 0; p < this.threads; p++) Atomics.store(ctl, CLAIM + p, claimTag(gen) | partStart(chunks, this.threads, p));
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    runChunks(ctl, gen, 0, (lo, hi) => fn(...argv, lo, hi));
    for (let i = 0; i < SPINS; i++) if (Atomics.load(ctl, DONE) === chunks) return this.check(name);
    return this.waitDone(chunks).then(() => this.check(name));
  }

  private async waitDone(chunks: number): Promise<void> {
    const ctl = this.ctl;
    const waitAsync = (Atomics as unknown as { waitAsync?: AtomicsWaitAsync }).waitAsync;
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done === chunks) return;
      if (this.died !== undefined) throw new Error(`a worker thread of the WebAssembly kernels died: ${this.died}`);
      const died = new Promise<never>((_, reject) => {
        this.waiters.add((why) => reject(new Error(`a worker thread of the WebAssembly kernels died: ${why}`)));
      });
      // The timer also keeps the event loop alive: idle workers are unref'd and a pending waitAsync is not
      // a reason for Node to stay (it would exit mid-call with "unfinished top-level await").
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<unknown>((resolve) => (timer = setTimeout(resolve, waitAsync ? 100 : 0)));
      const progress = waitAsync ? waitAsync(ctl, DONE, done, 100).value : tick;
      try {
        await Promise.race([progress, tick, died]);
      } finally {
        clearTimeout(timer);
        this.waiters.clear();
      }
    }
  }

  private check(name: string): void {
    const who = Atomics.load(this.ctl, ERROR);
    if (who === 0) return;
    const length = Math.min(this.ctl[ERROR_LENGTH]!, MAX_ERROR);
    const text = String.fromCharCode(...new Uint16Array(this.control, ERROR_BYTE, length));
    throw new Error(`${name} on worker thread ${who - 1}: ${text}`);
  }
}

type AtomicsWaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
  timeout: number,
) => { async: boolean; value: Promise<unknown> | string };

/** The claim word of generation `gen` before any chunk is taken: the generation above the chunk's 10 bits. */
function claimTag(gen: number): number {
  // The generation's low bits suffice: no worker still claiming is that many launches behind.
  return (gen & 0x1fffff) << 10;
}

/** The first chunk of part `p` of `chunks` cut into `parts`. */
function partStart(chunks: number, parts: number, p: number): number {
  return Math.floor((chunks * p) / parts);
}

/**
 * Claims chunks of launch `gen` until none is left, its own part (`part`) first, then the others' in turn,
 * running each and counting it done (also when it throws, which then propagates). A generation that has
 * moved on claims nothing. Self-contained (word indices written out): it also runs, as source text, on the workers.
 */
function runChunks(ctl: Int32Array, gen: number, part: number, run: (lo: number, hi: number) => void): void {
  const [DONE, EXTENT, CHUNKS, PARTS, CLAIM] = [1, 7, 8, 9, 16];
  const tag = claimTag(gen);
  const parts = ctl[PARTS]!;
  for (let k = 0; k < parts; k++) {
    const p = (part + k) % parts;
    for (;;) {
      const v = Atomics.load(ctl, CLAIM + p);
      if ((v & ~0x3ff) !== tag) return;
      const chunk = v & 0x3ff;
      const chunks = ctl[CHUNKS]!;
      if (chunk >= partStart(chunks, parts, p + 1)) break;
      if (Atomics.compareExchange(ctl, CLAIM + p, v, v + 1) !== v) continue;
      const extent = ctl[EXTENT]!;
      try {
        run(Math.floor((extent * chunk) / chunks), Math.floor((extent * (chunk + 1)) / chunks));
      } finally {
        Atomics.add(ctl, DONE, 1);
        Atomics.notify(ctl, DONE);
      }
    }
  }
}

/** The worker's script: `workerMain` and what it needs, as source text. */
function workerSource(): string {
  // `__name`: what esbuild's keepNames (tsx, some bundlers) wraps functions in; the worker has no such helper.
  return `var __name = (f) => f;\n${erf.toString()}\n${claimTag.toString()}\n${partStart.toString()}\n${runChunks.toString()}\n(${workerMain.toString()})(${JSON.stringify(
    {
      GEN,
      DONE,
      FN,
      NARGS,
      ERROR,
      ERROR_LENGTH,
      ARGS_BYTE,
      MAX_ARGS,
      ERROR_BYTE,
      MAX_ERROR,
      WORKER_SPIN_MS,
    },
  )}, ${erf.name}, ${runChunks.name});`;
}

interface WorkerInit {
  readonly module: object;
  readonly memory: object;
  readonly control: SharedArrayBuffer;
  readonly index: number;
  readonly stack: readonly [number, number];
  readonly names: readonly string[];
  readonly imports: readonly string[];
}

/**
 * Runs on a worker: instantiates the module, then forever waits for the next
 * generation, runs its part of the launch, and counts itself done. Refers to
 * nothing outside itself but its arguments and the platform.
 */
function workerMain(
  c: Record<string, number>,
  erfImpl: (x: number) => number,
  runChunks: (ctl: Int32Array, gen: number, part: number, run: (lo: number, hi: number) => void) => void,
): void {
  type Port = { postMessage(m: unknown): void; on?(e: string, f: (m: unknown) => void): void; onmessage?: unknown };
  // Node's factory puts the parent port in `kilnWorkerPort`; a Web Worker talks through `self`.
  const g = globalThis as unknown as { kilnWorkerPort?: Port; self?: Port };
  const port: Port = g.kilnWorkerPort ?? g.self!;
  const start = (init: WorkerInit): void => {
    const special: Record<string, (...x: number[]) => number> = {
      erf: erfImpl,
      exp2: (x) => 2 ** x,
      fmod: (a, b) => a % b,
    };
    const math: Record<string, unknown> = {};
    for (const n of init.imports) math[n] = special[n] ?? (Math as unknown as Record<string, unknown>)[n];
    const W = (
      globalThis as unknown as {
        WebAssembly: { Instance: new (m: object, i: object) => { exports: Record<string, (...a: number[]) => void> } };
      }
    ).WebAssembly;
    const instance = new W.Instance(init.module, { env: { memory: init.memory }, math });
    instance.exports.kiln_set_stack!(init.stack[0], init.stack[1]);
    const fns = init.names.map((n) => instance.exports[n]!);
    const ctl = new Int32Array(init.control);
    const args = new Float64Array(init.control, c.ARGS_BYTE, c.MAX_ARGS);
    const errorText = new Uint16Array(init.control, c.ERROR_BYTE, c.MAX_ERROR);
    // The generation is read before saying ready: a launch handed out right after would otherwise be missed.
    let seen = Atomics.load(ctl, c.GEN!);
    port.postMessage('ready');
    for (;;) {
      // Launches come in bursts (a model's kernels, one after another, and calls back to back): spin for
      // WORKER_SPIN_MS before sleeping, since waking from Atomics.wait takes longer than many launches run.
      // The clock is read every 1024 spins, not at each.
      const until = performance.now() + c.WORKER_SPIN_MS!;
      for (let i = 0; Atomics.load(ctl, c.GEN!) === seen && ((i & 1023) !== 0 || performance.now() < until); i++);
      Atomics.wait(ctl, c.GEN!, seen);
      seen = Atomics.load(ctl, c.GEN!);
      // Read before claiming: a claim succeeds only while this generation has chunks left, so these are its.
      const f = fns[ctl[c.FN!]!];
      const a = Array.from(args.subarray(0, ctl[c.NARGS!]));
      try {
        runChunks(ctl, seen, init.index, (lo, hi) => f!(...a, lo, hi));
      } catch (e) {
        const text = String(e instanceof Error ? e.message : e).slice(0, c.MAX_ERROR);
        for (let i = 0; i < text.length; i++) errorText[i] = text.charCodeAt(i);
        ctl[c.ERROR_LENGTH!] = text.length;
        Atomics.store(ctl, c.ERROR!, init.index + 1);
      }
    }
  };
  const onMessage = (m: unknown): void => start(((m as { data?: unknown }).data ?? m) as WorkerInit);
  if (port.on) port.on('message', onMessage);
  else port.onmessage = onMessage;
}
