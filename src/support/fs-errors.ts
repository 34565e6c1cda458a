/**
 * File-system errors (Node's errno errors) in words a user can act on: which
 * path, and what is wrong with it ("the disk is full", "a part of the path is
 * a file"). Plain data in, a diagnostic out: no Node imports, so the IR side
 * of `support` stays browser-safe.
 */
import type { Diagnostic, SourceLocation } from './diagnostics.ts';
import { diagnostic, M } from './messages.ts';

/** What Node's errno errors carry. */
interface ErrnoLike {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
}

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory, not a file',
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the directory is not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links',
  EIO: 'an input/output error',
};

const VERBS: Readonly<Record<string, string>> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the directory',
  rename: 'move a file into',
  unlink: 'remove',
  rmdir: 'remove the directory',
  rm: 'remove',
  scandir: 'list the directory',
  stat: 'read',
  lstat: 'read',
  copyfile: 'copy to',
  utime: 'touch',
};

export function isErrnoError(e: unknown): e is Error & ErrnoLike {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** Errors that mean a path the user gave is wrong (not the machine's state): input errors. */
export function isPathMistake(e: unknown): boolean {
  return isErrnoError(e) && (e.code === 'ENOTDIR' || e.code === 'EISDIR');
}

/** "the disk is full (ENOSPC)". */
export function fsReason(e: ErrnoLike): string {
  const words = REASONS[e.code];
  return words ? `${words} (${e.code})` : e.code;
}

/** The catalog's file-access diagnostic for an errno error; `verb` and `path` override what the error says. */
export function fsDiagnostic(
  e: Error & ErrnoLike,
  options: { readonly verb?: string; readonly path?: string; readonly location?: SourceLocation } = {},
): Diagnostic {
  const path = options.path ?? (e.syscall === 'rename' && e.dest ? e.dest : e.path) ?? '?';
  const verb = options.verb ?? VERBS[e.syscall ?? ''] ?? 'access';
  return diagnostic(M.fileAccess, { verb, path, reason: fsReason(e) }, options.location);
}
