/** Where an artifact's files come from, and the error for a bad artifact or load. */

/** Where an artifact's files come from. */
export interface ArtifactSource {
  /** The directory or URL, for messages. */
  readonly location: string;
  readText(file: string): Promise<string>;
  readBytes(file: string): Promise<Uint8Array>;
  /** Imports an ES module of the artifact (the JavaScript kernels). */
  importModule(file: string): Promise<Record<string, unknown>>;
}

/** An error in the artifact or in how it is loaded. */
export class LoadError extends Error {
  override readonly name = 'LoadError';
}

/** A file of the artifact as text; a read failure is a LoadError naming it. */
export async function readArtifactText(source: ArtifactSource, file: string): Promise<string> {
  try {
    return await source.readText(file);
  } catch (e) {
    throw new LoadError(`${source.location}: cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Parses JSON; a syntax error is a LoadError naming `what`. */
export function parseArtifactJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new LoadError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}
