import { describe, expect, it } from 'vitest';
import { borrowChunk, READ_CHUNK_BYTES, releaseChunk, withChunk } from '../../src/support/io-chunks.ts';

// Identity is compared as booleans: vitest's toBe deep-compares two different objects eagerly
// (for its hint), element by element: seconds for two 4 MiB buffers.
describe('read chunks', () => {
  it('lends a buffer to one reader at a time and reuses it once given back', () => {
    const a = borrowChunk();
    const b = borrowChunk();
    expect(a === b).toBe(false);
    expect(a.byteLength).toBe(READ_CHUNK_BYTES);
    releaseChunk(a);
    releaseChunk(a); // twice by mistake: still lent once
    const c = borrowChunk();
    const d = borrowChunk();
    expect(c === a).toBe(true);
    expect(d === a).toBe(false);
    for (const x of [b, c, d]) releaseChunk(x);
  });

  it('gives the chunk back when the user throws', () => {
    let lent: Buffer | undefined;
    expect(() =>
      withChunk((chunk) => {
        lent = chunk;
        throw new Error('reader failed');
      }),
    ).toThrow('reader failed');
    const again = borrowChunk();
    expect(again === lent).toBe(true);
    releaseChunk(again);
  });
});
