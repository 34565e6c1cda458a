/**
 * Why a file a pipeline names cannot be read, said once for every such file
 * (the pipeline itself, its extends chain, the target, the model, a user
 * stage): it does not exist, it is a directory, or the file system refuses.
 */
import { statSync } from 'node:fs';
import type { Diagnostic, SourceLocation } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError } from '../support/fs-errors.ts';
import { diagnostic, M } from '../support/messages.ts';

/** Undefined when `path` is a regular file (so reading it can only fail for a reason of the machine's). */
export function fileProblem(what: string, path: string, at?: SourceLocation, error?: unknown): Diagnostic | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return diagnostic(M.missingFile, { what, path }, at);
  if (st.isDirectory()) return diagnostic(M.notAFile, { what, path }, at);
  if (isErrnoError(error)) return fsDiagnostic(error, { verb: 'read', path, ...(at ? { location: at } : {}) });
  return undefined;
}
