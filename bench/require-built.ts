/**
 * The model benchmarks run Kiln from dist/ (the built package, as a user's `import 'kiln'` and the
 * `kiln` command run it), not from src/ through tsx: tsx's transform wraps every function a call
 * creates in a naming helper, which cost the runtime ~1 µs per kernel launch (the vision model's 16
 * kernels: 0.23 ms per call from src/, 0.20 from dist/). Imported first by bench/models.ts, so a stale
 * build is an error rather than a measurement of old code.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

let built: number;
try {
  built = statSync(join(root, 'dist/index.js')).mtimeMs;
} catch {
  built = 0;
}
if (built < newest(join(root, 'src'))) {
  console.error(
    'the model benchmarks run the built package (dist/), which is older than src/: run `npm run build` first (`npm run bench` does)',
  );
  process.exit(1);
}
