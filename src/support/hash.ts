/** Content hashes: SHA-256, hex encoded. One place, so the algorithm can change in one place. */
import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
