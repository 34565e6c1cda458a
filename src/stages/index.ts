/** The built-in stages. Later issues register more (legalize, fuse, schedule, codegen, ...) the same way. */
import { importStage } from './import.ts';
import { passesStage } from './passes.ts';
import { getStage, registerStage } from './registry.ts';

for (const s of [importStage, passesStage]) if (!getStage(s.id)) registerStage(s);

export * from './registry.ts';
