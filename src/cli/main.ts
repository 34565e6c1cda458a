/** The `kiln` command. */
import { Command, CommanderError } from 'commander';
import { registerBuildCommands } from './build-commands.ts';
import { registerCacheCommands } from './cache-commands.ts';
import { type CliIO, EXIT, processIO, reportError, Sources } from './io.ts';
import { registerIrCommands } from './ir-commands.ts';
import { registerRunCommand } from './run-command.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerWatchCommand } from './watch-command.ts';

const EXAMPLES = `
Examples:
  $ kiln build pipelines/mm-relu.yaml                  build through the cache (.kiln/cache)
  $ kiln run artifacts/mm-relu --shape x=7,128         run the artifact on random inputs
  $ kiln run artifacts/mm-relu --input x=x.npy --output out/   inputs and outputs as .npy
  $ kiln build pipelines/mm-relu.yaml --set stages.cleanup.passes=[dce] --report build.json
  $ kiln watch pipelines/mm-relu.yaml                  rebuild on every change
  $ kiln serve pipelines/vision.yaml --port 5173       run it in the browser, reloaded on every rebuild
  $ kiln inspect pipelines/mm-relu.yaml --after import the module after a stage
  $ kiln validate pipelines/*.yaml                     check pipelines without building
  $ kiln cache stats                                   what the cache holds
  $ kiln ir check examples/mm-relu.kir                 parse and verify a module

Exit codes: 0 success, 1 a stage failed, 2 invalid input or usage.
`;

/** Runs the CLI on `argv` (without the node and script paths) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let exit: number = EXIT.ok;
  const setExit = (code: number): void => {
    exit = code;
  };
  const program = new Command('kiln')
    .description('Kiln: a machine-learning compiler driven by YAML pipelines')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run kiln --help for usage)')
    .addHelpText('after', EXAMPLES);
  registerBuildCommands(program, io, setExit);
  registerWatchCommand(program, io, setExit);
  registerServeCommand(program, io, setExit);
  registerRunCommand(program, io, setExit);
  registerCacheCommands(program, io, setExit);
  registerIrCommands(program, io, setExit);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes with 2.
      return e.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    // A command let an error escape: reported as Kiln's bug (or, for a KilnError, as the user's), never left to Node.
    return reportError(e, io, new Sources());
  }
  return exit;
}
