/** The built-in partition backends, registered by name. */
import { getBackend, registerBackend } from './registry.ts';

for (const b of [] as const) if (!getBackend(b)) registerBackend(b);

export * from './registry.ts';
