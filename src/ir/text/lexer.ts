/** Tokens of the `.kir` text format. */
import { fail, M } from '../../support/messages.ts';
import { lineColumn, type SourceLocation } from '../../support/diagnostics.ts';

export type TokenKind = 'name' | 'int' | 'float' | 'string' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for strings: the decoded value). */
  readonly text: string;
  readonly offset: number;
  readonly end: number;
  /** A line break separates this token from the previous one. */
  readonly newlineBefore: boolean;
}

const PUNCT = [
  '->',
  '+:',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '<<',
  '>>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '!',
  '&',
  '|',
  '^',
  '@',
  '.',
  ';',
];

const PUNCT_INDEX = new Map(PUNCT.map((p, i) => [p, i]));

/** The punctuation by its first character, longest first: a token's is found without a search. */
const PUNCT_BY_FIRST: readonly (readonly string[] | undefined)[] = (() => {
  const table: string[][] = [];
  for (const p of PUNCT) (table[p.charCodeAt(0)] ??= []).push(p);
  for (const list of table) list?.sort((a, b) => b.length - a.length);
  return table;
})();

function punctAt(source: string, i: number): string | undefined {
  const candidates = PUNCT_BY_FIRST[source.charCodeAt(i)];
  if (!candidates) return undefined;
  for (const p of candidates) if (p.length === 1 || source.startsWith(p, i)) return p;
  return undefined;
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Token kinds as numbers, for the table. */
const KIND_CODES: readonly TokenKind[] = ['name', 'int', 'float', 'string', 'punct', 'eof'];
export const NAME = 0;
export const INT = 1;
export const FLOAT = 2;
export const STRING = 3;
export const PUNCT_KIND = 4;
export const EOF = 5;

/**
 * The tokens of a source as columns (kind, start, end, line break before, punctuation):
 * no object per token, so lexing a large module allocates a few arrays, not one object per
 * token for the garbage collector to move. `token(i)` makes the object when a parser wants it.
 */
export class TokenTable {
  readonly count: number;

  constructor(
    readonly source: string,
    readonly kinds: Uint8Array,
    readonly starts: Int32Array,
    readonly ends: Int32Array,
    readonly newlines: Uint8Array,
    /** Index into PUNCT, for punctuation tokens. */
    readonly puncts: Uint8Array,
    /** Decoded values of string tokens, by token index. */
    readonly strings: ReadonlyMap<number, string>,
  ) {
    this.count = kinds.length;
  }

  kind(i: number): TokenKind {
    return KIND_CODES[this.kinds[i]!]!;
  }

  text(i: number): string {
    switch (this.kinds[i]) {
      case PUNCT_KIND:
        return PUNCT[this.puncts[i]!]!;
      case STRING:
        return this.strings.get(i)!;
      case EOF:
        return '';
      default:
        return this.source.slice(this.starts[i], this.ends[i]);
    }
  }

  /** Token i is the punctuation p. */
  isPunct(i: number, p: string): boolean {
    return this.kinds[i] === PUNCT_KIND && PUNCT[this.puncts[i]!] === p;
  }

  /** Token i is the name k. */
  isName(i: number, k: string): boolean {
    const start = this.starts[i]!;
    return this.kinds[i] === NAME && this.ends[i]! - start === k.length && this.source.startsWith(k, start);
  }

  token(i: number): Token {
    return {
      kind: this.kind(i),
      text: this.text(i),
      offset: this.starts[i]!,
      end: this.ends[i]!,
      newlineBefore: this.newlines[i] === 1,
    };
  }
}

export function lex(source: string, file: string): TokenTable {
  const n = source.length;
  // Printed modules have a token every ~3 characters; the columns grow when a source has more.
  let capacity = Math.max(16, Math.ceil(n / 3));
  let kinds = new Uint8Array(capacity);
  let starts = new Int32Array(capacity);
  let ends = new Int32Array(capacity);
  let newlines = new Uint8Array(capacity);
  let puncts = new Uint8Array(capacity);
  const strings = new Map<number, string>();
  let count = 0;
  const grow = <T extends Uint8Array | Int32Array>(a: T): T => {
    const b = new (a.constructor as new (n: number) => T)(capacity);
    b.set(a);
    return b;
  };
  const push = (kind: number, start: number, end: number, newline: boolean): void => {
    if (count === capacity) {
      capacity *= 2;
      [kinds, newlines, puncts] = [grow(kinds), grow(newlines), grow(puncts)];
      [starts, ends] = [grow(starts), grow(ends)];
    }
    kinds[count] = kind;
    starts[count] = start;
    ends[count] = end;
    newlines[count] = newline ? 1 : 0;
    count++;
  };
  let i = 0;
  let newline = true;
  const here = (offset: number): SourceLocation => ({ file, ...lineColumn(source, offset) });
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 10) {
      newline = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 35) {
      // '#' comment to the end of the line
      while (i < n && source.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      push(NAME, start, i, newline);
    } else if (isDigit(c)) {
      let isFloat = false;
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      if (source[i] === '.' && isDigit(source.charCodeAt(i + 1))) {
        isFloat = true;
        i++;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
      }
      if ((source[i] === 'e' || source[i] === 'E') && /^[eE][+-]?\d/.test(source.slice(i, i + 3))) {
        isFloat = true;
        i++;
        if (source[i] === '+' || source[i] === '-') i++;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
      }
      // A dtype suffix (3i32, 1.5f16) is part of the literal.
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      push(isFloat ? FLOAT : INT, start, i, newline);
    } else if (c === 34) {
      i++;
      let value = '';
      for (;;) {
        if (i >= n || source.charCodeAt(i) === 10) fail(M.unterminatedString, {}, here(start));
        const ch = source[i]!;
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\') {
          const next = source[i + 1];
          if (next === 'u') {
            value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : (next ?? '');
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      strings.set(count, value);
      push(STRING, start, i, newline);
    } else {
      const p = punctAt(source, i);
      if (p === undefined) fail(M.unexpectedChar, { char: JSON.stringify(source[i]) }, here(i));
      i += p.length;
      push(PUNCT_KIND, start, i, newline);
      puncts[count - 1] = PUNCT_INDEX.get(p)!;
    }
    newline = false;
  }
  push(EOF, n, n, true);
  return new TokenTable(
    source,
    kinds.slice(0, count),
    starts.slice(0, count),
    ends.slice(0, count),
    newlines.slice(0, count),
    puncts.slice(0, count),
    strings,
  );
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'string':
      return `string ${JSON.stringify(t.text)}`;
    default:
      return `'${t.text}'`;
  }
}
