/**
 * Text mutations for fuzzing: each is plain data (fast-check generates and shrinks it),
 * applied to a corpus text by `mutate`. Positions are taken modulo the text's length, so
 * any numbers make a valid mutation of any text.
 */
import fc from 'fast-check';

export type Mutation =
  | { readonly op: 'delete'; readonly at: number; readonly length: number }
  | { readonly op: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly op: 'insert'; readonly at: number; readonly token: string }
  | { readonly op: 'swapLines'; readonly a: number; readonly b: number }
  | { readonly op: 'number'; readonly which: number; readonly value: string }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'comment'; readonly line: number; readonly count: number }
  | { readonly op: 'alias'; readonly anchor: number; readonly use: number };

/** Tokens that break things in interesting ways, besides the corpus's own words. */
const SPECIAL = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  ',',
  '=',
  '-',
  '#',
  '"',
  "'",
  '\n',
  '  ',
  '\t',
  '\\',
  '&a ',
  '*a',
  '<<: *a',
  '!!binary ',
  '!!str ',
  '~',
  'null',
  '? ',
  '- ',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '0',
  '-1',
  '0.5',
  '1e30',
  '1e-30',
  'nan',
  'inf',
  '9007199254740993',
  '999999999999999999999',
  'f16',
  'i64',
  'bool',
  'Tensor[',
  'Tensor[ndim=-1, f32]',
  'shape(',
  'call_tir(',
  'output',
  'dataflow {',
  'prim_func',
  'func',
  'extern_func',
  'block',
  'reduce(',
  'spatial(',
  'range(',
  'grid(',
  'alloc ',
  'let ',
  '\u0000',
  '\u00e9',
  '\ud83d\ude00',
  '\r\n',
];
const NUMBERS = ['0', '1', '-1', '2', '0.5', '-0.0', '1e30', '3e-45', '4294967296', '9007199254740993', 'nan', 'inf'];

export function mutationArb(corpus: readonly string[]): fc.Arbitrary<Mutation> {
  const words = [...new Set(corpus.flatMap((t) => t.match(/[A-Za-z_][A-Za-z0-9_.]*|\d+(\.\d+)?/g) ?? []))].sort();
  const token = fc.oneof(fc.constantFrom(...SPECIAL), fc.constantFrom(...words));
  const at = fc.nat();
  const length = fc.integer({ min: 1, max: 40 });
  return fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at, length }),
    fc.record({ op: fc.constant('duplicate' as const), at, length }),
    fc.record({ op: fc.constant('insert' as const), at, token }),
    fc.record({ op: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ op: fc.constant('number' as const), which: fc.nat(), value: fc.constantFrom(...NUMBERS) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('comment' as const), line: fc.nat(), count: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ op: fc.constant('alias' as const), anchor: fc.nat(), use: fc.nat() }),
  );
}

export function mutate(text: string, mutations: readonly Mutation[]): string {
  let t = text;
  for (const m of mutations) {
    const n = Math.max(1, t.length);
    switch (m.op) {
      case 'delete': {
        const at = m.at % n;
        t = t.slice(0, at) + t.slice(at + m.length);
        break;
      }
      case 'duplicate': {
        const at = m.at % n;
        t = t.slice(0, at + m.length) + t.slice(at, at + m.length) + t.slice(at + m.length);
        break;
      }
      case 'insert': {
        const at = m.at % (t.length + 1);
        t = t.slice(0, at) + m.token + t.slice(at);
        break;
      }
      case 'swapLines': {
        const lines = t.split('\n');
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        t = lines.join('\n');
        break;
      }
      case 'number': {
        const found = [...t.matchAll(/\d+(\.\d+)?/g)];
        if (found.length === 0) break;
        const hit = found[m.which % found.length]!;
        t = t.slice(0, hit.index) + m.value + t.slice(hit.index + hit[0].length);
        break;
      }
      case 'truncate':
        t = t.slice(0, m.at % (t.length + 1));
        break;
      case 'comment': {
        const lines = t.split('\n');
        const from = m.line % lines.length;
        for (let k = from; k < Math.min(lines.length, from + m.count); k++) lines[k] = `# ${lines[k]}`;
        t = lines.join('\n');
        break;
      }
      case 'alias': {
        // YAML: anchor the value after one `key:`, and make the value of another an alias of it.
        const keys = [...t.matchAll(/:(?= |\n)/g)];
        if (keys.length === 0) break;
        const a = keys[m.anchor % keys.length]!.index + 1;
        t = `${t.slice(0, a)} &x${t.slice(a)}`;
        const again = [...t.matchAll(/: (?!&x)[^\n]*/g)];
        if (again.length === 0) break;
        const u = again[m.use % again.length]!;
        t = `${t.slice(0, u.index)}: *x${t.slice(u.index + u[0].length)}`;
        break;
      }
    }
  }
  return t;
}
