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

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let newline = true;
  const n = source.length;
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
      tokens.push({ kind: 'name', text: source.slice(start, i), offset: start, end: i, newlineBefore: newline });
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
      tokens.push({
        kind: isFloat ? 'float' : 'int',
        text: source.slice(start, i),
        offset: start,
        end: i,
        newlineBefore: newline,
      });
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
      tokens.push({ kind: 'string', text: value, offset: start, end: i, newlineBefore: newline });
    } else {
      const p = PUNCT.find((x) => source.startsWith(x, i));
      if (!p) fail(M.unexpectedChar, { char: JSON.stringify(source[i]) }, here(i));
      i += p.length;
      tokens.push({ kind: 'punct', text: p, offset: start, end: i, newlineBefore: newline });
    }
    newline = false;
  }
  tokens.push({ kind: 'eof', text: '', offset: n, end: n, newlineBefore: true });
  return tokens;
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
