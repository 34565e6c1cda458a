/**
 * Verifies parameters at load against the SHA-256 the manifest records for
 * each tensor (its blob hash): a flipped bit, a NaN written into a shard or a
 * shifted offset is a LoadError naming the tensor, not different numbers.
 * Each shard is verified as soon as it is read, while the others are still
 * being read. `load(dir, { verify: false })` skips it for trusted artifacts.
 *
 * The hash comes from the source where it has a fast one (node:crypto in the
 * Node adapter), else WebCrypto, else plain JavaScript (a page served over
 * plain http has no crypto.subtle).
 */
import { LOAD_CODES, LoadError } from './errors.ts';
import type { ParamEntry } from './manifest.ts';
import { sha256Hex } from './sha256.ts';

/** SHA-256 of the bytes, as 64 lowercase hex digits. */
export type Sha256 = (bytes: Uint8Array) => string | Promise<string>;

interface SubtleDigest {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

/** WebCrypto's SHA-256 where there is one, else the JavaScript one. */
export function defaultSha256(): Sha256 {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleDigest } }).crypto?.subtle;
  if (!subtle) return sha256Hex;
  return async (bytes) => {
    const d = new Uint8Array(await subtle.digest('SHA-256', bytes));
    let out = '';
    for (const b of d) out += b.toString(16).padStart(2, '0');
    return out;
  };
}

/**
 * Checks every tensor of shard `index` (the bytes of `file`) against its hash. Tensors that do
 * not lie inside the shard are left to the loader's range check.
 */
export async function verifyShard(
  bytes: Uint8Array,
  index: number,
  file: string,
  tensors: readonly ParamEntry[],
  sha256: Sha256,
  where: string,
): Promise<void> {
  const checks: Promise<LoadError | undefined>[] = [];
  tensors.forEach((p, i) => {
    if (p.shard !== index || p.offset + p.byteLength > bytes.byteLength) return;
    checks.push(
      Promise.resolve(sha256(bytes.subarray(p.offset, p.offset + p.byteLength))).then((actual) =>
        actual === p.hash
          ? undefined
          : new LoadError(
              `${where}: parameter ${i} (${p.dtype}[${p.shape.join(', ')}], ${p.byteLength} bytes at offset ${p.offset} of ${file}) ` +
                `does not match its hash: the manifest records ${p.hash}, the bytes hash to ${actual}; ` +
                'the shard is damaged or was changed after the build: build or copy the artifact again',
              LOAD_CODES.paramHash,
            ),
      ),
    );
  });
  // The first bad tensor in manifest order, whichever hash finished first.
  const bad = (await Promise.all(checks)).find((e) => e !== undefined);
  if (bad) throw bad;
}
