/**
 * Worker threads for the WebAssembly kernels in Node (worker_threads), set up
 * when `kiln/runtime/node` loads. Workers are unref'd: an idle pool does not
 * keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setWasmWorkerFactory } from './loader.ts';

setWasmWorkerFactory({
  defaultThreads: availableParallelism(),
  spawn(source) {
    const w = new Worker(source, { eval: true });
    w.unref();
    let exited = false;
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (listener) => w.on('message', listener),
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
  },
});
