/** The `kiln` command. */
import { Command, CommanderError } from 'commander';
import { type CliIO, EXIT, processIO } from './io.ts';
import { registerIrCommands } from './ir-commands.ts';

const EXAMPLES = `
Examples:
  $ kiln ir check examples/mm-relu.kir     parse and verify a module
  $ kiln ir print examples/mm-relu.kir     print it in canonical form
  $ kiln ir hash examples/mm-relu.kir      its structural hash
`;

/** Runs the CLI on `argv` (without the node and script paths) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let exit: number = EXIT.ok;
  const program = new Command('kiln')
    .description('Kiln: a machine-learning compiler driven by YAML pipelines')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run kiln --help for usage)')
    .addHelpText('after', EXAMPLES);
  registerIrCommands(program, io, (code) => (exit = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes with 2.
      return e.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    throw e;
  }
  return exit;
}
