/**
 * Importers: one per model format (the text format today, ONNX next), found
 * by the `model.format` of a pipeline or the model file's extension. The
 * import stage dispatches here and never changes for a new format.
 */
import type { IRModule } from '../ir/module.ts';
import type { ModelSpec } from '../stages/registry.ts';

export interface Importer {
  readonly format: string;
  /** File extensions, with the dot: ['.kir']. */
  readonly extensions: readonly string[];
  /** Bump when the importer's output changes, so cached imports are not reused. */
  readonly version: number;
  import(model: ModelSpec): IRModule | Promise<IRModule>;
  /** Files besides the model that the import reads (external weights): part of the cache key, watched. */
  inputs?(model: ModelSpec): readonly string[];
  /**
   * A digest of the content of the model file or one of its `inputs` that the import makes
   * anyway as it reads it, used for the cache key instead of hashing the file's bytes once
   * more; `kind` names how it is made.
   */
  readonly digest?: { readonly kind: string; digest(path: string, model: ModelSpec): string };
}

const importers = new Map<string, Importer>();

export function registerImporter(i: Importer): void {
  if (importers.has(i.format)) throw new Error(`importer for '${i.format}' is registered twice`);
  importers.set(i.format, i);
}

export function getImporter(format: string): Importer | undefined {
  return importers.get(format);
}

export function importerForPath(path: string): Importer | undefined {
  const lower = path.toLowerCase();
  return [...importers.values()].find((i) => i.extensions.some((e) => lower.endsWith(e)));
}

export function allFormats(): string[] {
  return [...importers.keys()].sort();
}
