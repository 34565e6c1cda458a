/** The build cache: the store interface, the local directory store, and size parsing for its limits. */
export type { CacheStats, CacheStore, CountAndBytes, EntryKind, EvictedEntry, GcResult } from './store.ts';
export { openLocalStore, type LocalStoreOptions } from './local-store.ts';
export { parseSize } from './size.ts';
export { canonicalJson } from './canonical-json.ts';
