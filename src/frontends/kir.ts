/**
 * The text-format importer: a `.kir` model is an IRModule already. The
 * pipeline's `model.dynamic` may give symbolic dimensions upper bounds
 * (recorded as the `tir_var_upper_bound` attribute of the graph functions
 * that use them, as TVM does); renaming is for formats whose names you do
 * not choose.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { AttrMap, AttrValue } from '../ir/attrs.ts';
import { graphFunc } from '../ir/graph/expr.ts';
import { visitStructInfoExprs } from '../ir/graph/struct-info.ts';
import { irModule, type IRModule, type ModuleFunction } from '../ir/module.ts';
import { visitPrim } from '../ir/prim/expr.ts';
import { parseModule } from '../ir/text/parser.ts';
import { fail, M } from '../support/messages.ts';
import type { ModelSpec } from '../stages/registry.ts';
import { registerImporter } from './registry.ts';

export async function importKir(model: ModelSpec): Promise<IRModule> {
  // Loaded on use: a build whose stages are all cached never needs the operator library.
  const { opHooks } = await import('../ops/index.ts');
  const file = relative(process.cwd(), model.path) || model.path;
  const m = parseModule(readFileSync(model.path, 'utf8'), { file, ...opHooks });
  return applyDynamic(m, model);
}

function applyDynamic(m: IRModule, model: ModelSpec): IRModule {
  const names = Object.keys(model.dynamic);
  if (names.length === 0) return m;
  const found = new Set<string>();
  const functions = new Map<string, ModuleFunction>();
  for (const [name, f] of m.functions) {
    if (f.kind !== 'func') {
      functions.set(name, f);
      continue;
    }
    const here = new Set<string>();
    for (const p of f.params) {
      visitStructInfoExprs(p.sinfo, (e) =>
        visitPrim(e, (x) => {
          if (x.kind === 'var') here.add(x.name);
        }),
      );
    }
    const bounds: Record<string, AttrValue> = {};
    for (const dim of names) {
      const spec = model.dynamic[dim]!;
      if (!here.has(dim)) continue;
      found.add(dim);
      if (spec.name !== undefined && spec.name !== dim) {
        fail(M.pipelineValue, {
          where: `model.dynamic.${dim}`,
          problem: 'a .kir model names its own dimensions; rename them in the file instead',
        });
      }
      if (spec.upper !== undefined) bounds[dim] = spec.upper;
    }
    if (Object.keys(bounds).length === 0) {
      functions.set(name, f);
      continue;
    }
    const prev = f.attrs.tir_var_upper_bound;
    const merged: AttrMap = { ...(prev && typeof prev === 'object' && !Array.isArray(prev) ? (prev as AttrMap) : {}), ...bounds };
    functions.set(name, graphFunc(f.params, f.body, f.ret, { ...f.attrs, tir_var_upper_bound: merged }));
  }
  const missing = names.filter((n) => !found.has(n));
  if (missing.length > 0) {
    fail(M.pipelineValue, {
      where: 'model.dynamic',
      problem: `the model has no symbolic dimension ${missing.map((n) => `'${n}'`).join(', ')} in its functions' parameters`,
    });
  }
  return irModule(functions, m.attrs);
}

// Version 2: shape inference simplifies with the analyzer, whose floordiv / floormod rules grew.
registerImporter({ format: 'kir', extensions: ['.kir'], version: 2, import: importKir });
