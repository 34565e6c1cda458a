/**
 * A file's content as pieces produced one after the other: what a stage
 * emits when the whole would be large (an artifact's parameter shards), so
 * it is written, hashed and stored without ever being held in one piece.
 */
export interface StreamedBytes {
  readonly byteLength: number;
  /** The pieces in order; each may be dropped once written. Can be iterated more than once. */
  chunks(): Iterable<Uint8Array>;
  /**
   * When the content is blobs (by their SHA-256) at these offsets and zeros between them: a
   * cache can keep the recipe instead of a second copy of the bytes (an artifact's parameter
   * shards are its weights, which the cache holds already).
   */
  readonly parts?: readonly FilePart[];
}

export interface FilePart {
  readonly offset: number;
  readonly byteLength: number;
  /** SHA-256 of the part's bytes: a blob. */
  readonly hash: string;
}

export function isStreamed(x: Uint8Array | StreamedBytes): x is StreamedBytes {
  return !(x instanceof Uint8Array);
}

/** The whole content in one array (for callers that need it so, such as an in-memory artifact). */
export function collectStreamed(s: StreamedBytes): Uint8Array {
  const out = new Uint8Array(s.byteLength);
  let at = 0;
  for (const c of s.chunks()) {
    out.set(c, at);
    at += c.byteLength;
  }
  if (at !== s.byteLength) throw new Error(`streamed content has ${at} bytes, promised ${s.byteLength}`);
  return out;
}
