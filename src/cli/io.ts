/** Where the CLI writes, and how it reports errors: diagnostics with excerpts, never a stack trace for a user mistake. */
import { readFileSync } from 'node:fs';
import { formatDiagnostic, isKilnError, KilnError } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Exit codes: 0 success, 1 a build step failed (or Kiln itself did), 2 invalid input or usage. */
export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

/** Source texts read so far, so diagnostics can quote the offending line. */
export class Sources {
  private readonly texts = new Map<string, string>();

  read(path: string): string {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') throw new KilnError(diagnostic(M.fileNotFound, { path }));
      throw e;
    }
    this.texts.set(path, text);
    return text;
  }

  /** The text of a file, read on demand when not read yet: a message may point into any file. */
  get(path: string): string | undefined {
    if (!this.texts.has(path)) {
      try {
        this.texts.set(path, readFileSync(path, 'utf8'));
      } catch {
        return undefined;
      }
    }
    return this.texts.get(path);
  }
}

/** Prints an error and gives the exit code for it. */
export function reportError(e: unknown, io: CliIO, sources: Sources, exitCode: number = EXIT.invalid): number {
  if (isKilnError(e)) {
    for (const d of e.diagnostics) io.stderr(`${formatDiagnostic(d, d.location ? sources.get(d.location.file) : undefined)}\n`);
    return exitCode;
  }
  const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
  io.stderr(`internal error: this is a bug in Kiln, please report it\n${detail}\n`);
  return EXIT.failed;
}
