/**
 * Diagnostics: every user-facing error carries a stable code from the catalog
 * (`messages.ts`) and, when it comes from a file, the place in it.
 */

export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Characters to underline; 1 when unknown. */
  readonly length?: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly location?: SourceLocation;
  /** Extra lines shown under the message ("did you mean", the other shape, ...). */
  readonly notes?: readonly string[];
}

/**
 * An error the user can act on. The CLI prints its diagnostics without a stack
 * trace; anything that is not a KilnError is a bug in Kiln and is reported as one.
 */
export class KilnError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  /**
   * The mistake is in what the user gave (a model, a path, a value), not a step that failed:
   * the CLI exits 2 for it, whichever command meets it. Set where that is known (the import
   * stage reads the user's model); false means a build step failed.
   */
  readonly input: boolean;

  constructor(diagnostics: Diagnostic | readonly Diagnostic[], options: { readonly input?: boolean } = {}) {
    const list: readonly Diagnostic[] = isDiagnosticList(diagnostics) ? diagnostics : [diagnostics];
    super(list.map((d) => plainDiagnostic(d)).join('\n'));
    this.name = 'KilnError';
    this.diagnostics = list;
    this.input = options.input ?? false;
  }

  /** The code of the first diagnostic: what tests usually match on. */
  get code(): string {
    return this.diagnostics[0]?.code ?? '';
  }
}

function isDiagnosticList(d: Diagnostic | readonly Diagnostic[]): d is readonly Diagnostic[] {
  return Array.isArray(d);
}

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError;
}

function locationPrefix(loc: SourceLocation | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.column} - ` : '';
}

/** One line (plus notes), no source excerpt: what `Error.message` holds. */
export function plainDiagnostic(d: Diagnostic): string {
  const head = `${locationPrefix(d.location)}${d.severity} ${d.code}: ${d.message}`;
  return d.notes && d.notes.length > 0 ? `${head}\n${d.notes.map((n) => `  ${n}`).join('\n')}` : head;
}

/**
 * The diagnostic with an excerpt of the offending line and a caret under the
 * column, when the source text is at hand.
 */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const lines = [`${locationPrefix(d.location)}${d.severity} ${d.code}: ${d.message}`];
  if (d.location && source !== undefined) {
    const text = source.split(/\r?\n/)[d.location.line - 1];
    if (text !== undefined) {
      const num = String(d.location.line);
      const gutter = ' '.repeat(num.length);
      const caret = ' '.repeat(Math.max(0, d.location.column - 1)) + '^'.repeat(Math.max(1, d.location.length ?? 1));
      lines.push(`  ${num} | ${text}`, `  ${gutter} | ${caret}`);
    }
  }
  for (const n of d.notes ?? []) lines.push(`  ${n}`);
  return lines.join('\n');
}

/** Line and column (1-based) of an offset in a text. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** "did you mean" candidates: the closest names by edit distance. */
export function closestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d <= Math.max(2, Math.floor(name.length / 3))) scored.push({ c, d });
  }
  scored.sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  return scored.slice(0, max).map((s) => s.c);
}

export function didYouMean(name: string, candidates: Iterable<string>): string[] {
  const near = closestNames(name, candidates);
  return near.length > 0 ? [`did you mean ${near.map((n) => `'${n}'`).join(' or ')}?`] : [];
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
