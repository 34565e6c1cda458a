/** Where an artifact's files come from, and reading them with errors that name the file. */
import { LOAD_CODES, LoadError } from './errors.ts';
import type { Sha256 } from './param-verify.ts';

/** Where an artifact's files come from. */
export interface ArtifactSource {
  /** The directory or URL, for messages. */
  readonly location: string;
  readText(file: string): Promise<string>;
  readBytes(file: string): Promise<Uint8Array>;
  /** Imports an ES module of the artifact (the JavaScript kernels). */
  importModule(file: string): Promise<Record<string, unknown>>;
  /** A SHA-256 faster than WebCrypto's where the platform has one (Node: node:crypto), for verifying parameters. */
  readonly sha256?: Sha256;
}

/** A file of the artifact as text; a read failure is a LoadError naming it. */
export async function readArtifactText(source: ArtifactSource, file: string): Promise<string> {
  try {
    return await source.readText(file);
  } catch (e) {
    throw cannotRead(source, file, e);
  }
}

export function cannotRead(source: ArtifactSource, file: string, e: unknown): LoadError {
  if (e instanceof LoadError) return e; // the source's own verdict (a path outside the artifact)
  return new LoadError(`${source.location}: cannot read ${file}: ${(e as Error).message}`, LOAD_CODES.missingFile);
}

/** Parses JSON; a syntax error is a LoadError naming `what`. */
export function parseJson<T = unknown>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new LoadError(`${what} is not valid JSON: ${(e as Error).message}`, LOAD_CODES.malformed);
  }
}
