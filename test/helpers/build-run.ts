/**
 * Builds a module into an artifact in memory and loads it with the runtime,
 * as `kiln build` + `load(dir)` would, without touching the disk.
 */
import { buildArtifact } from '../../src/codegen/artifact.ts';
import type { IRModule } from '../../src/ir/module.ts';
import type { TargetDescription } from '../../src/ir/target.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { type KilnModule, loadArtifact, type LoadOptions } from '../../src/runtime/artifact.ts';

export const JS_TARGET: TargetDescription = { name: 'js', kind: 'js', device: 'cpu', features: [], limits: {} };

export function parse(text: string): IRModule {
  return parseModule(text, { ...opHooks });
}

export async function buildAndLoad(m: IRModule | string, options: LoadOptions = {}): Promise<KilnModule> {
  const module = typeof m === 'string' ? parse(m) : m;
  return loadArtifact(memorySource(await buildArtifact(module, { name: 'test', target: JS_TARGET })), options);
}
