/** onnxruntime-web as a contender of an interleaved row: a child process (bench/ort-web-child.ts) timed on request. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Contender } from './interleave.ts';

export function ortWebContender(file: string, inputs: readonly { name: string; shape: number[] }[], threads: number): Contender {
  let child: ChildProcessWithoutNullStreams | undefined;
  let stderr = '';
  // Lines not yet asked for, and askers not yet answered (a chunk of output may hold several lines).
  const lines: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let exit: Error | undefined;
  const failed = (why: string): Error => new Error(`onnxruntime-web (${threads} threads) failed on ${file}: ${why}\n${stderr}`);
  const next = (): Promise<string> =>
    lines.length > 0
      ? Promise.resolve(lines.shift()!)
      : exit
        ? Promise.reject(exit)
        : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  /** The rest of the next line the child prints that starts with `prefix` (other lines are its libraries' chatter). */
  const expect = async (prefix: string): Promise<string> => {
    for (;;) {
      const line = await next();
      if (line.startsWith(prefix)) return line.slice(prefix.length);
    }
  };
  return {
    async warm() {
      const script = join(import.meta.dirname, 'ort-web-child.ts');
      child = spawn(process.execPath, ['--import', 'tsx', script, file, JSON.stringify(inputs), String(threads)]);
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const w = waiting.shift();
        if (w) w.resolve(line);
        else lines.push(line);
      });
      // 'close', not 'exit': the last lines it printed are read by then.
      child.on('close', (code) => {
        exit = failed(`exited with code ${code}`);
        for (const w of waiting.splice(0)) w.reject(exit);
      });
      await expect('ready');
    },
    async round(runs, fillMs) {
      if (!child) throw failed('not started');
      child.stdin.write(`round ${runs} ${fillMs}\n`);
      return JSON.parse(await expect('times ')) as number[];
    },
    async close() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('close', resolve));
      child.stdin.end('exit\n');
      await exited;
    },
  };
}
