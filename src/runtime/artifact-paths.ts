/**
 * Every path an artifact names resolves inside it. A manifest is data from
 * wherever the artifact came from: "../../../etc/passwd", an absolute path, a
 * drive letter or a URL must not make the loader read outside the artifact.
 * The manifest check rejects such paths by their spelling, and each source
 * checks again where the path resolves (a directory's symbolic links, a URL's
 * percent-encoded dots).
 */
import { LOAD_CODES, LoadError } from './errors.ts';

/**
 * Why `file` is not a plain relative path inside the artifact, or undefined
 * when it is one: '/'-separated segments, none empty, '.' or '..', without
 * backslashes, ':' (drives, URL schemes), '%' (encoded dots), '?' or '#' (URL
 * syntax), or control characters.
 */
export function artifactPathProblem(file: string): string | undefined {
  if (file === '') return 'it is empty';
  if (file.startsWith('/')) return 'it is absolute';
  // eslint-disable-next-line no-control-regex
  const bad = /[\\:%?#\u0000-\u001f]/.exec(file);
  if (bad) return `it contains ${JSON.stringify(bad[0])}`;
  const segments = file.split('/');
  if (segments.some((s) => s === '..')) return "it has a '..' segment";
  if (segments.some((s) => s === '' || s === '.')) return "it has an empty or '.' segment";
  return undefined;
}

/** Fails with K8104 unless `file` (the manifest's `field`) is a plain path inside the artifact. */
export function checkArtifactPath(file: string, field: string, where: string): void {
  const problem = artifactPathProblem(file);
  if (problem !== undefined) throw escapes(where, `${field} '${file}'`, problem);
}

/** The error for a path that leaves the artifact. */
export function escapes(where: string, what: string, problem: string): LoadError {
  return new LoadError(`${where}: ${what} is not a path inside the artifact: ${problem}`, LOAD_CODES.pathEscape);
}

/** `file` resolved against the artifact's base URL; fails unless it stays under it. */
export function urlInside(root: URL, file: string): URL {
  const problem = artifactPathProblem(file);
  if (problem !== undefined) throw escapes(root.href, `'${file}'`, problem);
  const url = new URL(file, root);
  if (url.origin !== root.origin || !url.pathname.startsWith(root.pathname) || url.search !== '' || url.hash !== '') {
    throw escapes(root.href, `'${file}'`, `it resolves to ${url.href}`);
  }
  return url;
}
