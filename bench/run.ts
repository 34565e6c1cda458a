/** `npm run bench`: every benchmark, one after the other, in one process. `-- --quick`: fewer runs, smaller models where a benchmark has them. */
import { benchCompile } from './compile.ts';
import { benchIR } from './ir.ts';
import { benchModels } from './models.ts';
import { benchOptimize } from './optimize.ts';
import { benchPartition } from './partition.ts';
import { benchPipeline } from './pipeline.ts';
import { printTable } from './util.ts';

console.log(`kiln benchmarks — node ${process.version}, ${process.platform}/${process.arch}`);
const quick = process.argv.includes('--quick');
printTable('IR (median of 7 runs)', benchIR());
printTable(`Compile time (cold builds, median of ${quick ? 1 : 3})`, benchCompile(quick));
printTable('Pipelines (median of 3 to 7 runs)', await benchPipeline());
await benchModels();
printTable('Library dispatch (partition stage to onnxruntime, Node, median of 3 interleaved runs)', await benchPartition(quick));
// KILN_BENCH_RESNET50=0 prints the launch and memory figures without timing ResNet-50 (minutes on a small machine).
await benchOptimize({ latency: process.env.KILN_BENCH_RESNET50 !== '0' });
