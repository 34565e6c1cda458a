/** The browser adapter: loads an artifact from a base URL (a served artifact directory). */
import { type ArtifactSource, type KilnModule, loadArtifact, type LoadOptions } from './artifact.ts';

export function urlSource(base: string | URL): ArtifactSource {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const root = new URL(String(base).endsWith('/') ? String(base) : `${String(base)}/`, page);
  const get = async (file: string): Promise<Response> => {
    const r = await fetch(new URL(file, root));
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    return r;
  };
  return {
    location: root.href,
    readText: async (file) => (await get(file)).text(),
    readBytes: async (file) => new Uint8Array(await (await get(file)).arrayBuffer()),
    importModule: (file) => import(/* @vite-ignore */ new URL(file, root).href) as Promise<Record<string, unknown>>,
  };
}

/** Loads the artifact served at `base`. */
export function loadFromUrl(base: string | URL, options: LoadOptions = {}): Promise<KilnModule> {
  return loadArtifact(urlSource(base), options);
}

export * from './index.ts';
