/**
 * What every function of one WebAssembly kernel module shares: the binaryen
 * library and module, the helper functions and imports emitted on use, and
 * how a construct the target cannot express fails the build.
 */
import type binaryen from 'binaryen';
import { fail, M } from '../../support/messages.ts';
import { HELPERS, type HelperName } from './helpers.ts';

export type Binaryen = typeof binaryen;
export type Ref = binaryen.ExpressionRef;

export class ModuleContext {
  private readonly added = new Set<HelperName>();

  constructor(
    readonly B: Binaryen,
    readonly m: binaryen.Module,
    private readonly targetName: string,
  ) {}

  /** The name of helper `name` (a function of the module or an import), added on first use. */
  helper(name: HelperName): string {
    if (!this.added.has(name)) {
      this.added.add(name);
      HELPERS[name](this);
    }
    return name;
  }

  unsupported(kernel: string, what: string): never {
    return fail(M.codegenUnsupported, { target: this.targetName, kernel, what });
  }
}
