export { Schedule, replayTrace, type BlockRV, type LoopRV } from './schedule.ts';
export { instructionText, traceText, type Trace, type TraceInstruction, type TraceAttr } from './trace.ts';
