/** Where the CLI writes, and how it reports errors: diagnostics with excerpts, never a stack trace for a user mistake. */
import { readFileSync } from 'node:fs';
import { formatDiagnostic, isKilnError, KilnError } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError, isPathMistake } from '../support/fs-errors.ts';
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
      if (isErrnoError(e) && e.code === 'ENOENT') throw new KilnError(diagnostic(M.fileNotFound, { path }), { input: true });
      if (isErrnoError(e)) throw new KilnError(fsDiagnostic(e, { verb: 'read', path }), { input: isPathMistake(e) });
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

/**
 * Prints an error and gives the exit code for it: `exitCode` for a KilnError, unless it is
 * the user's input that is wrong (2, whichever command met it). A file-system error is
 * said in words with its path (2 when the path is the mistake, else 1); anything else is a
 * bug in Kiln.
 */
export function reportError(e: unknown, io: CliIO, sources: Sources, exitCode: number = EXIT.invalid): number {
  if (isKilnError(e)) {
    for (const d of e.diagnostics) io.stderr(`${formatDiagnostic(d, d.location ? sources.get(d.location.file) : undefined)}\n`);
    return e.input ? EXIT.invalid : exitCode;
  }
  if (isErrnoError(e)) {
    io.stderr(`${formatDiagnostic(fsDiagnostic(e))}\n`);
    return isPathMistake(e) ? EXIT.invalid : EXIT.failed;
  }
  const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
  io.stderr(`internal error: this is a bug in Kiln, please report it\n${detail}\n`);
  return EXIT.failed;
}
