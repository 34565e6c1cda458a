/** A cursor over the tokens of a `.kir` file, with located errors. */
import { isKilnError, KilnError, type SourceLocation } from '../../support/diagnostics.ts';
import { fail, M, type Message } from '../../support/messages.ts';
import { type AttrMap, type AttrValue } from '../attrs.ts';
import { describeToken, lex, type Token, type TokenTable } from './lexer.ts';

export class Cursor {
  readonly tokens: TokenTable;
  pos = 0;
  /** Token objects made lately, by index modulo their number: a parser peeks at each several times. */
  private readonly made: (Token | undefined)[] = new Array<Token | undefined>(8);
  private readonly madeAt = new Int32Array(8).fill(-1);

  constructor(
    readonly source: string,
    readonly file: string,
  ) {
    this.tokens = lex(source, file);
  }

  peek(ahead = 0): Token {
    const i = this.index(ahead);
    const slot = i & 7;
    if (this.madeAt[slot] === i) return this.made[slot]!;
    const t = this.tokens.token(i);
    this.made[slot] = t;
    this.madeAt[slot] = i;
    return t;
  }

  next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.count - 1) this.pos++;
    return t;
  }

  private index(ahead: number): number {
    return Math.min(this.pos + ahead, this.tokens.count - 1);
  }

  /** The next token is the punctuation `p`. */
  at(p: string, ahead = 0): boolean {
    return this.tokens.isPunct(this.index(ahead), p);
  }

  /** The next token is the name (keyword) `k`. */
  atName(k: string, ahead = 0): boolean {
    return this.tokens.isName(this.index(ahead), k);
  }

  accept(p: string): boolean {
    if (this.at(p)) {
      this.next();
      return true;
    }
    return false;
  }

  acceptName(k: string): boolean {
    if (this.atName(k)) {
      this.next();
      return true;
    }
    return false;
  }

  expect(p: string): Token {
    if (!this.at(p)) this.error(`'${p}'`);
    return this.next();
  }

  expectName(k?: string): Token {
    const t = this.peek();
    if (t.kind !== 'name' || (k !== undefined && t.text !== k)) this.error(k ? `'${k}'` : 'a name');
    return this.next();
  }

  expectString(): Token {
    if (this.peek().kind !== 'string') this.error('a string');
    return this.next();
  }

  location(t: Token = this.peek()): SourceLocation {
    // Offsets of line starts, found once: the parser records the place of every statement and binding.
    this.lineStarts ??= lineStartOffsets(this.source);
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= t.offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, column: t.offset - starts[lo]! + 1, length: Math.max(1, t.end - t.offset) };
  }

  private lineStarts: number[] | undefined;

  /** Fails with "expected X, found <next token>". */
  error(expected: string, t: Token = this.peek()): never {
    return fail(M.expectedToken, { expected, found: describeToken(t) }, this.location(t));
  }

  fail<A>(m: Message<A>, args: A, t: Token = this.peek(), notes?: readonly string[]): never {
    return fail(m, args, this.location(t), notes);
  }

  /**
   * Runs `f`; an error it throws without a place (an IR factory rejecting
   * what was written) gets the place of `t`.
   */
  located<T>(t: Token, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (isKilnError(e) && e.diagnostics.every((d) => d.location === undefined)) {
        throw new KilnError(e.diagnostics.map((d) => ({ ...d, location: this.location(t) })));
      }
      throw e;
    }
  }

  // --- attribute values --------------------------------------------------------------

  /** `(k=v, ...)` after `attrs`. */
  attrList(close = ')'): AttrMap {
    const out: Record<string, AttrValue> = {};
    while (!this.at(close)) {
      const keyTok = this.peek();
      const key = keyTok.kind === 'string' ? this.next().text : this.expectName().text;
      if (Object.hasOwn(out, key)) this.fail(M.duplicateDefinition, { what: 'attribute', name: key }, keyTok);
      this.expect('=');
      out[key] = this.attrValue();
      if (!this.accept(',')) break;
    }
    this.expect(close);
    return out;
  }

  attrValue(): AttrValue {
    const t = this.peek();
    if (t.kind === 'string') return this.next().text;
    if (this.accept('[')) {
      const items: AttrValue[] = [];
      while (!this.at(']')) {
        items.push(this.attrValue());
        if (!this.accept(',')) break;
      }
      this.expect(']');
      return items;
    }
    if (this.accept('{')) {
      const out: Record<string, AttrValue> = {};
      while (!this.at('}')) {
        const k = this.peek().kind === 'string' ? this.next().text : this.expectName().text;
        this.expect(':');
        out[k] = this.attrValue();
        if (!this.accept(',')) break;
      }
      this.expect('}');
      return out;
    }
    if (this.acceptName('true')) return true;
    if (this.acceptName('false')) return false;
    if (this.acceptName('null')) return null;
    const negative = this.accept('-');
    const n = this.peek();
    if (n.kind === 'int' || n.kind === 'float') {
      this.next();
      const v = Number(n.text);
      if (!Number.isFinite(v) && !/^\d/.test(n.text)) this.fail(M.badLiteral, { literal: n.text, reason: 'not a number' }, n);
      if (Number.isNaN(v)) this.fail(M.badLiteral, { literal: n.text, reason: 'a number attribute takes no dtype suffix' }, n);
      return negative ? -v : v;
    }
    if (n.kind === 'name' && (n.text === 'inf' || n.text === 'nan')) {
      this.next();
      const v = n.text === 'inf' ? Infinity : NaN;
      return negative ? -v : v;
    }
    return this.error('an attribute value (number, string, true, false, null, [list] or {map})');
  }
}

function lineStartOffsets(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}
