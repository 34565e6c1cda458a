/** Content hashes: SHA-256, hex encoded. One place, so the algorithm can change in one place. */
import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An incremental SHA-256: bytes in, as many times as needed, then the hex digest. */
export interface Sha256 {
  update(data: Uint8Array): void;
  digestHex(): string;
}

export function sha256(): Sha256 {
  const h = createHash('sha256');
  return {
    update: (data) => void h.update(data),
    digestHex: () => h.digest('hex'),
  };
}
