/**
 * Worker threads for the WebAssembly kernels in Node (worker_threads), set up
 * when `kiln/runtime/node` loads. Workers are unref'd: an idle pool does not
 * keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setWasmWorkerFactory } from './loader.ts';
import type { WorkerLike } from './pool.ts';

/** Starts a worker thread running the pool's script; `worker` is the thread itself (tests end one). */
export function spawnNodeWorker(source: string): { worker: Worker; like: WorkerLike } {
  // An eval'd worker has `require` in its scope but no global port: hand the script one.
  const w = new Worker(`globalThis.kilnWorkerPort = require('node:worker_threads').parentPort;\n${source}`, { eval: true });
  let exited = false;
  const like: WorkerLike = {
    postMessage: (m) => w.postMessage(m),
    // Held until the worker is ready (the load awaits it); an idle pool then lets the process exit.
    onMessage: (listener) =>
      w.on('message', (m) => {
        if (m === 'ready') w.unref();
        listener(m);
      }),
    onExit: (listener) => {
      const once = (why: string): void => {
        if (exited) return;
        exited = true;
        listener(why);
      };
      w.on('error', (e) => once(e.message));
      w.on('exit', (code) => once(`it exited with code ${code}`));
    },
    terminate: () => void w.terminate(),
  };
  return { worker: w, like };
}

setWasmWorkerFactory({
  defaultThreads: availableParallelism(),
  spawn: (source) => spawnNodeWorker(source).like,
});
