/** Small file-system helpers whose error handling every store operation shares. */
import { unlinkSync, utimesSync } from 'node:fs';
import { unlink, utimes } from 'node:fs/promises';

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Marks an entry as just used, for LRU eviction. Failure only makes eviction
 * slightly less accurate (or the entry was collected meanwhile), so it is ignored.
 */
export async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
}

export function touchSync(path: string): void {
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    // as in touch()
  }
}

/** Deletes a file; returns an error message when that failed for a reason other than it being gone already. */
export async function removeFile(path: string): Promise<string | undefined> {
  try {
    await unlink(path);
    return undefined;
  } catch (error) {
    return errnoCode(error) === 'ENOENT' ? undefined : describeError(error);
  }
}

export function removeFileSync(path: string): string | undefined {
  try {
    unlinkSync(path);
    return undefined;
  } catch (error) {
    return errnoCode(error) === 'ENOENT' ? undefined : describeError(error);
  }
}
