// Worker threads do not inherit the main thread's tsx loader: register it here, then run the TypeScript worker.
// binaryen (the wasm target's code generator, 12 MB) is loaded first, natively: through tsx's loader it takes
// half a minute, longer than a case may. Later imports of it hit Node's module cache.
import { register } from 'tsx/esm/api';

await import('binaryen');
register();
await import('./worker.ts');
