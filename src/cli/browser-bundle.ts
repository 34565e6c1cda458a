/**
 * Bundles kiln/runtime/browser into one ES module with esbuild: for `npm run build`
 * (scripts/bundle.mjs) and for `kiln serve` from a source checkout.
 */
import { build } from 'esbuild';

export interface BrowserBundle {
  readonly code: string;
  /** The source files in it, relative to the repository: runtime files only. */
  readonly inputs: readonly string[];
}

export async function bundleBrowserRuntime(entry: string, outfile?: string): Promise<BrowserBundle> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    ...(outfile ? { outfile, write: true } : { write: false }),
  });
  const code = outfile ? '' : new TextDecoder().decode(r.outputFiles![0]!.contents);
  return { code, inputs: Object.keys(r.metafile.inputs) };
}
