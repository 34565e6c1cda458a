/**
 * The text format parser: `.kir` source to an IRModule. Errors carry
 * file:line:col and say what was expected.
 */
import { M } from '../../support/messages.ts';
import { type AttrMap, NO_ATTRS } from '../attrs.ts';
import type { PrimExpr, PrimVar } from '../prim/expr.ts';
import { irModule, type IRModule, type ModuleFunction } from '../module.ts';
import type { Buffer } from '../tir/buffer.ts';
import { Cursor } from './cursor.ts';
import { recordLocation } from './locations.ts';
import { type GlobalRef, GraphParser, type GraphParseOptions } from './parse-graph.ts';
import { PrimParser } from './parse-prim.ts';
import { TirParser } from './parse-tir.ts';

export interface ParseOptions extends GraphParseOptions {
  /** The file name errors are reported against. */
  readonly file?: string;
}

export function parseModule(source: string, options: ParseOptions = {}): IRModule {
  const c: Cursor = new Cursor(source, options.file ?? '<input>');
  const functions = new Map<string, ModuleFunction>();
  const refs: GlobalRef[] = [];
  let attrs: AttrMap = NO_ATTRS;
  if (c.atName('module')) {
    c.next();
    c.expectName('attrs');
    c.expect('(');
    attrs = c.attrList();
  }
  while (c.peek().kind !== 'eof') {
    const kw = c.peek();
    if (kw.kind !== 'name' || !['prim_func', 'func', 'extern_func'].includes(kw.text)) {
      c.error("a definition ('prim_func', 'func' or 'extern_func')");
    }
    c.next();
    const nameTok = c.expectName();
    if (functions.has(nameTok.text)) c.fail(M.duplicateDefinition, { what: 'function', name: nameTok.text }, nameTok);
    // The place of the definition for an error that has none closer (statements and bindings give theirs).
    const f: ModuleFunction = c.located(nameTok, () =>
      kw.text === 'prim_func'
        ? new TirParser(c).primFunc()
        : kw.text === 'func'
          ? new GraphParser(c, options, refs).func()
          : new GraphParser(c, options, refs).extern(),
    );
    functions.set(nameTok.text, recordLocation(f, c.location(nameTok)));
  }
  for (const r of refs) {
    const f = functions.get(r.name);
    if (!f) c.fail(M.unknownName, { what: r.want === 'prim_func' ? 'prim_func' : 'function', name: r.name }, r.tok);
    if (r.want === 'prim_func' && f.kind !== 'prim_func') {
      c.fail(
        M.typeMismatch,
        {
          what: `call_tir of '${r.name}'`,
          expected: 'a prim_func',
          found: `a ${f.kind === 'func' ? 'graph function' : 'extern function'}`,
        },
        r.tok,
      );
    }
    if (r.want === 'callable' && f.kind === 'prim_func') {
      c.fail(
        M.typeMismatch,
        {
          what: `call of '${r.name}'`,
          expected: 'a graph or extern function (use call_tir for a prim_func)',
          found: 'a prim_func',
        },
        r.tok,
      );
    }
  }
  return irModule(functions, attrs);
}

/** Parses a single prim expression over the given variables and buffers (tests, tools). */
export function parsePrimExpr(source: string, names: ReadonlyMap<string, PrimVar | Buffer> = new Map()): PrimExpr {
  const c: Cursor = new Cursor(source, '<expr>');
  const e = new PrimParser(c, { lookup: (n) => names.get(n) }).parse();
  if (c.peek().kind !== 'eof') c.error('end of expression');
  return e;
}
