/**
 * Stages from the user's own files (`use: ./stages/my-pass.ts`), loaded
 * through src/stages/user-module.ts. The source hash that enters the cache
 * key covers the file and the local files it imports, so editing a helper
 * next to the stage re-runs it too.
 */
import { importUserModule, localSourceFiles, sourceHash } from '../stages/user-module.ts';
import { isStageDefinition, type StageDefinition } from '../stages/registry.ts';

export { localSourceFiles } from '../stages/user-module.ts';

export interface UserStage {
  readonly def: StageDefinition;
  /** The file and the local files it imports, transitively. */
  readonly files: readonly string[];
  /** Hash of all of them. */
  readonly hash: string;
}

/** Stages loaded in this process, by file: an unchanged file is not evaluated again (its defineOp would run twice). */
const loaded = new Map<string, UserStage>();

export async function loadUserStage(path: string): Promise<UserStage> {
  const files = localSourceFiles(path);
  const hash = sourceHash(files);
  const known = loaded.get(path);
  if (known?.hash === hash) return known;
  const mod = await importUserModule(path);
  if (!isStageDefinition(mod)) {
    throw new Error('its default export must be a stage: export default defineStage({ id, version, options, run })');
  }
  const stage = { def: mod, files, hash };
  loaded.set(path, stage);
  return stage;
}
