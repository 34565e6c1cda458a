/**
 * Builds a module into an artifact in memory and loads it with the runtime,
 * as `kiln build` + `load(dir)` would, without touching the disk.
 */
import { buildArtifact, type Artifact } from '../../src/codegen/artifact.ts';
import type { IRModule } from '../../src/ir/module.ts';
import type { TargetDescription } from '../../src/ir/target.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { type ArtifactSource, type KilnModule, loadArtifact, type LoadOptions } from '../../src/runtime/artifact.ts';

export const JS_TARGET: TargetDescription = { name: 'js', kind: 'js', device: 'cpu', features: [], limits: {} };

export function parse(text: string): IRModule {
  return parseModule(text, { ...opHooks });
}

export function memorySource(artifact: Artifact): ArtifactSource {
  const files = new Map(artifact.files.map((f) => [f.path, f.bytes]));
  const get = (file: string): Uint8Array => {
    const b = files.get(file);
    if (!b) throw new Error(`no file ${file}`);
    return b;
  };
  return {
    location: '<memory>',
    readText: (file) => Promise.resolve(new TextDecoder().decode(get(file))),
    readBytes: (file) => Promise.resolve(get(file)),
    importModule: async (file) =>
      (await import(`data:text/javascript;base64,${Buffer.from(get(file)).toString('base64')}`)) as Record<string, unknown>,
  };
}

export async function buildAndLoad(m: IRModule | string, options: LoadOptions = {}): Promise<KilnModule> {
  const module = typeof m === 'string' ? parse(m) : m;
  return loadArtifact(memorySource(buildArtifact(module, { name: 'test', target: JS_TARGET })), options);
}
