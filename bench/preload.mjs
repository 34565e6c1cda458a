// Loaded by `node --import` before tsx: binaryen (a 12 MB module) loads natively in about a second,
// where tsx's loader would transform it for half a minute. Later imports of it hit Node's module cache.
await import('binaryen');
