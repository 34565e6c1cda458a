/** `kiln ir check|print|hash <file>`: the text format from the command line. */
import type { Command } from 'commander';
import type { IRModule } from '../ir/module.ts';
import { structuralHash } from '../ir/structural.ts';
import { parseModule } from '../ir/text/parser.ts';
import { printModule } from '../ir/text/printer.ts';
import { assertWellFormed } from '../ir/verify/index.ts';
import type { OpHooks } from '../ir/graph/op-hooks.ts';
import { type CliIO, EXIT, reportError, Sources } from './io.ts';

/** Parses a .kir file with operator inference, so hand-written bindings need no annotations. */
function load(path: string, sources: Sources, opHooks: OpHooks): IRModule {
  return parseModule(sources.read(path), { file: path, ...opHooks });
}

export function registerIrCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const ir = program.command('ir').description('work with IR modules in the text format (.kir)');

  const run = (f: (path: string, sources: Sources, opHooks: OpHooks) => void) => async (path: string) => {
    const sources = new Sources();
    try {
      // The operator library is loaded by the commands that need it, not at every start of kiln.
      const { opHooks } = await import('../ops/index.ts');
      f(path, sources, opHooks);
      setExit(EXIT.ok);
    } catch (e) {
      setExit(reportError(e, io, sources));
    }
  };

  ir.command('check')
    .argument('<file>', 'a .kir file')
    .description('parse and verify a module; report every problem with file:line:col')
    .action(
      run((path, sources, opHooks) => {
        const m = load(path, sources, opHooks);
        assertWellFormed(m, opHooks);
        io.stdout(`${path}: ok (${m.functions.size} function${m.functions.size === 1 ? '' : 's'})\n`);
      }),
    );

  ir.command('print')
    .argument('<file>', 'a .kir file')
    .description('print a module in canonical form')
    .action(run((path, sources, opHooks) => io.stdout(printModule(load(path, sources, opHooks)))));

  ir.command('hash')
    .argument('<file>', 'a .kir file')
    .description('print the structural hash of a module (equal for modules that differ only in variable names)')
    .action(run((path, sources, opHooks) => io.stdout(`${structuralHash(load(path, sources, opHooks))}\n`)));
}
