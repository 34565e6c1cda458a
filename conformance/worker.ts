/** A worker of the conformance runner: runs the cases it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { type Device, runCase } from './run-case.ts';

parentPort!.on('message', (msg: { dir: string; category: string; name: string; device: Device }) => {
  runCase(msg.dir, msg.category, msg.name, msg.device).then(
    (r) => parentPort!.postMessage(r),
    (e: unknown) =>
      parentPort!.postMessage({
        category: msg.category,
        name: msg.name,
        status: 'error',
        detail: `crash: ${(e as Error).message.split('\n')[0]}`,
        ms: 0,
      }),
  );
});
