/** The lexer's token table: kinds, texts, places and line breaks, as the parser reads them. */
import { describe, expect, test } from 'vitest';
import { lex } from '../../../src/ir/text/lexer.ts';

const tokens = (source: string) => {
  const t = lex(source, 'x.kir');
  return Array.from({ length: t.count }, (_, i) => t.token(i));
};

describe('lex', () => {
  test('longest punctuation first, names, numbers with suffixes, strings with escapes, line breaks', () => {
    const src = 'f(a: i32) -> x //y\n  s += "q\\"\\n\\u0041" 1.5e3f16 3i32 # note\n<=<';
    expect(tokens(src).map((t) => [t.kind, t.text, t.newlineBefore])).toEqual([
      ['name', 'f', true],
      ['punct', '(', false],
      ['name', 'a', false],
      ['punct', ':', false],
      ['name', 'i32', false],
      ['punct', ')', false],
      ['punct', '->', false],
      ['name', 'x', false],
      ['punct', '//', false],
      ['name', 'y', false],
      ['name', 's', true],
      ['punct', '+', false],
      ['punct', '=', false],
      ['string', 'q"\nA', false],
      ['float', '1.5e3f16', false],
      ['int', '3i32', false],
      ['punct', '<=', true],
      ['punct', '<', false],
      ['eof', '', true],
    ]);
    const arrow = tokens(src)[6]!;
    expect([arrow.offset, arrow.end]).toEqual([src.indexOf('->'), src.indexOf('->') + 2]);
  });

  test('a source with more tokens than the first guess of its columns', () => {
    const src = '(,'.repeat(5000);
    const t = lex(src, 'x.kir');
    expect(t.count).toBe(10_001);
    expect(t.isPunct(9998, '(') && t.isPunct(9999, ',') && t.kind(10_000) === 'eof').toBe(true);
  });

  test('an unexpected character is located', () => {
    expect(() => lex('a\n  $', 'x.kir')).toThrow(/x\.kir:2:3/);
  });
});
