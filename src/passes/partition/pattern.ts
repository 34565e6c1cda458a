/**
 * The partition stage's pattern language: what a rule matches in a graph
 * function, written on one line.
 *
 *   pattern := step ('->' step)*          a chain: each step consumes the one before
 *   step    := alts '?'?                  '?': the step may be absent
 *   alts    := call ('|' call)*  |  '(' call ('|' call)* ')'
 *   call    := NAME args? | '*' args?     an operator by name, or any operator
 *   args    := '(' arg (',' arg)* ')'     the operator's arguments, each '*' or 'const'
 *
 * `conv2d(*, const) -> add(*, const)? -> relu?` is a convolution with a constant
 * weight, then maybe a constant bias, then maybe a relu. An operator written
 * without arguments takes any; in a chain the step before is one of the `*`
 * arguments. Errors give the offset in the text, which the stage turns into
 * the pipeline file's line and column.
 */

export type ArgPattern = 'any' | 'const';

export interface CallPattern {
  /** Undefined: any operator (`*`). */
  readonly op?: string;
  /** Undefined: any arguments. */
  readonly args?: readonly ArgPattern[];
}

export interface StepPattern {
  readonly alternatives: readonly CallPattern[];
  readonly optional: boolean;
}

export interface Pattern {
  readonly text: string;
  readonly steps: readonly StepPattern[];
}

export class PatternError extends Error {
  constructor(
    message: string,
    /** Offset in the pattern text, 0-based. */
    readonly offset: number,
    readonly length = 1,
  ) {
    super(message);
  }
}

type Token = { kind: 'name' | 'punct'; text: string; offset: number } | { kind: 'end'; text: ''; offset: number };

const PUNCT = ['->', '(', ')', ',', '|', '?', '*'];

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (name) {
      out.push({ kind: 'name', text: name[0], offset: i });
      i += name[0].length;
      continue;
    }
    const p = PUNCT.find((q) => text.startsWith(q, i));
    if (!p) throw new PatternError(`unexpected character '${c}'`, i);
    out.push({ kind: 'punct', text: p, offset: i });
    i += p.length;
  }
  out.push({ kind: 'end', text: '', offset: text.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly known: (op: string) => boolean,
  ) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private is(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private expect(text: string, what: string): void {
    if (!this.is(text)) this.unexpected(what);
    this.next();
  }

  private unexpected(what: string): never {
    const t = this.peek();
    throw new PatternError(
      `expected ${what}, found ${t.kind === 'end' ? 'the end of the pattern' : `'${t.text}'`}`,
      t.offset,
      Math.max(1, t.text.length),
    );
  }

  pattern(text: string): Pattern {
    const steps = [this.step()];
    while (this.is('->')) {
      this.next();
      steps.push(this.step());
    }
    if (this.peek().kind !== 'end') this.unexpected("'->' or the end of the pattern");
    if (steps.every((s) => s.optional))
      throw new PatternError('every step is optional, so the pattern would match nothing', 0, text.length);
    return { text, steps };
  }

  private step(): StepPattern {
    const alternatives: CallPattern[] = [];
    if (this.is('(')) {
      this.next();
      alternatives.push(this.call());
      while (this.is('|')) {
        this.next();
        alternatives.push(this.call());
      }
      this.expect(')', "'|' or ')'");
    } else {
      alternatives.push(this.call());
      while (this.is('|')) {
        this.next();
        alternatives.push(this.call());
      }
    }
    const optional = this.is('?');
    if (optional) this.next();
    return { alternatives, optional };
  }

  private call(): CallPattern {
    const t = this.peek();
    let op: string | undefined;
    if (t.kind === 'name') {
      if (!this.known(t.text)) throw new PatternError(`unknown operator '${t.text}'`, t.offset, t.text.length);
      op = t.text;
    } else if (!(t.kind === 'punct' && t.text === '*')) this.unexpected("an operator name or '*'");
    this.next();
    if (!this.is('(')) return op === undefined ? {} : { op };
    this.next();
    const args: ArgPattern[] = [this.arg()];
    while (this.is(',')) {
      this.next();
      args.push(this.arg());
    }
    this.expect(')', "',' or ')'");
    return { ...(op === undefined ? {} : { op }), args };
  }

  private arg(): ArgPattern {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '*') {
      this.next();
      return 'any';
    }
    if (t.kind === 'name' && t.text === 'const') {
      this.next();
      return 'const';
    }
    return this.unexpected("an argument: '*' (anything) or 'const' (a constant)");
  }
}

/** Parses a pattern; `known` says which operator names exist (an unknown one is an error at its place). */
export function parsePattern(text: string, known: (op: string) => boolean = () => true): Pattern {
  return new Parser(tokenize(text), known).pattern(text);
}

/** The operators a pattern can match, for a composite's name (`conv2d_add_relu`). */
export function describeCall(c: CallPattern): string {
  return c.op ?? '*';
}
