/** The built-in stages. Later issues register more (fuse, schedule, tune, ...) the same way. */
import { codegenStage } from './codegen.ts';
import { foldConstantsStage } from './fold-constants.ts';
import { fuseStage } from './fuse.ts';
import { importStage } from './import.ts';
import { legalizeStage } from './legalize.ts';
import { partitionStage } from './partition.ts';
import { passesStage } from './passes.ts';
import { planMemoryStage } from './plan-memory.ts';
import { scheduleStage } from './schedule.ts';
import { getStage, registerStage } from './registry.ts';

for (const s of [
  importStage,
  passesStage,
  foldConstantsStage,
  partitionStage,
  legalizeStage,
  fuseStage,
  scheduleStage,
  planMemoryStage,
  codegenStage,
])
  if (!getStage(s.id)) registerStage(s);

export * from './registry.ts';
