/** Where the tests expect entries on disk: the format is part of the contract (remote stores and humans read it). */
import { join } from 'node:path';

export function blobFile(root: string, hash: string): string {
  return join(root, 'cas', hash.slice(0, 2), hash);
}

export function actionFile(root: string, key: string): string {
  return join(root, 'ac', key.slice(0, 2), key);
}
