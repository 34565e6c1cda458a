/**
 * An artifact held in memory as a runtime ArtifactSource: build and load
 * without writing the directory (tests, the conformance runner, benchmarks).
 * The kernels module is imported from a data: URL.
 */
import type { ArtifactSource } from '../runtime/artifact.ts';
import { sha256Hex } from '../support/hash.ts';
import type { Artifact } from './artifact.ts';

export function memorySource(artifact: Artifact): ArtifactSource {
  const files = new Map(artifact.files.map((f) => [f.path, f.bytes]));
  const get = (file: string): Uint8Array => {
    const b = files.get(file);
    if (!b) throw new Error(`no file ${file}`);
    return b;
  };
  return {
    location: `<memory:${artifact.manifest.name}>`,
    readText: (file) => Promise.resolve(new TextDecoder().decode(get(file))),
    readBytes: (file) => Promise.resolve(get(file)),
    importModule: async (file) =>
      (await import(`data:text/javascript;base64,${Buffer.from(get(file)).toString('base64')}`)) as Record<string, unknown>,
    sha256: sha256Hex,
  };
}
