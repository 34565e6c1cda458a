/**
 * IR benchmark: print, parse and hash a generated module with 10,000
 * bindings (a chain of operators over a symbolic batch, as an importer
 * produces). Goals from the core IR issue: hash < 50 ms, parse < 200 ms.
 */
import { BlockBuilder } from '../src/ir/builder/block-builder.ts';
import { graphVar, opCall } from '../src/ir/graph/expr.ts';
import { tensorSI } from '../src/ir/graph/struct-info.ts';
import type { IRModule } from '../src/ir/module.ts';
import { primVar } from '../src/ir/prim/expr.ts';
import { structuralHash } from '../src/ir/structural.ts';
import { parseModule } from '../src/ir/text/parser.ts';
import { printModule } from '../src/ir/text/printer.ts';
import { opHooks } from '../src/ops/index.ts';
import { type BenchRow, median, time } from './util.ts';

export function generateModule(bindings: number): IRModule {
  const bb = new BlockBuilder(opHooks);
  const n = primVar('n');
  const x = graphVar('x', tensorSI([n, 256], 'float32'));
  const w = graphVar('w', tensorSI([256], 'float32'));
  bb.function('main', [x, w], () =>
    bb.dataflow(() => {
      let cur = bb.emit(opCall('add', [x, w]));
      const ops = ['multiply', 'add', 'relu', 'subtract', 'sigmoid'];
      for (let i = 1; i < bindings - 1; i++) {
        const op = ops[i % ops.length]!;
        cur = bb.emit(op === 'relu' || op === 'sigmoid' ? opCall(op, [cur]) : opCall(op, [cur, w]));
      }
      return bb.emitOutput(opCall('softmax', [cur], { axis: -1 }));
    }),
  );
  return bb.getModule();
}

export function benchIR(): BenchRow[] {
  const m = generateModule(10_000);
  const text = printModule(m);
  const runs = 7;
  const print = median(Array.from({ length: runs }, () => time(() => printModule(m))));
  const parse = median(Array.from({ length: runs }, () => time(() => parseModule(text))));
  // Hashing is memoized per function object: time it on fresh copies.
  const copies = Array.from({ length: runs }, () => parseModule(text));
  const hash = median(copies.map((c) => time(() => structuralHash(c))));
  return [
    { name: 'print 10k bindings', ms: print, goalMs: undefined, note: `${(text.length / 1024).toFixed(0)} KiB of text` },
    { name: 'parse 10k bindings', ms: parse, goalMs: 200 },
    { name: 'hash 10k bindings', ms: hash, goalMs: 50 },
  ];
}
