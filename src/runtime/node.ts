/**
 * The Node adapter: loads an artifact from a directory. (The runtime's core
 * has no Node imports, so a browser bundle of it stays small.)
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ArtifactSource, type KilnModule, loadArtifact, type LoadOptions } from './artifact.ts';

export function directorySource(dir: string): ArtifactSource {
  const root = resolve(dir);
  return {
    location: root,
    readText: (file) => readFile(join(root, file), 'utf8'),
    readBytes: async (file) => new Uint8Array(await readFile(join(root, file))),
    importModule: (file) => import(pathToFileURL(join(root, file)).href) as Promise<Record<string, unknown>>,
  };
}

/** Loads the artifact in directory `dir` (what `kiln build` wrote). */
export function load(dir: string, options: LoadOptions = {}): Promise<KilnModule> {
  return loadArtifact(directorySource(dir), options);
}

export * from './index.ts';
