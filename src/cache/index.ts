/** The build cache: the store interface, the local directory store, the remote-backed one, and size parsing for its limits. */
export type { ActionOrigin, CacheStats, CacheStore, CountAndBytes, EntryKind, EvictedEntry, GcResult } from './store.ts';
export { openLocalStore, type LocalStoreOptions } from './local-store.ts';
export { parseSize } from './size.ts';
export { canonicalJson } from './canonical-json.ts';
export {
  withRemoteCache,
  RemoteBackedStore,
  DEFAULT_REMOTE_TIMEOUT_MS,
  type RemoteActivity,
  type RemoteCacheOptions,
} from './remote-store.ts';
export { parseRemoteUrl } from './remote-http.ts';
