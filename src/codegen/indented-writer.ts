/** Source text written line by line at a nesting depth: what the JavaScript and WGSL kernel emitters share. */
export abstract class IndentedWriter {
  protected readonly lines: string[] = [];
  /** Lines start inside the function body. */
  protected depth = 1;

  protected line(text: string): void {
    this.lines.push(`${'  '.repeat(this.depth)}${text}`);
  }

  /** `if (cond) {` without the parentheses an emitted comparison already has. */
  protected ifOpen(cond: string): string {
    return `if ${isWrapped(cond) ? cond : `(${cond})`} {`;
  }

  /** `open`, then `body` one level deeper, then `close`. */
  protected block(open: string, body: () => void, close = '}'): void {
    this.line(open);
    this.depth++;
    body();
    this.depth--;
    this.line(close);
  }
}

/** Whether `s` is one parenthesized group: `(a < b)`, not `(a) + (b)`. */
function isWrapped(s: string): boolean {
  if (!s.startsWith('(') || !s.endsWith(')')) return false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0 && i < s.length - 1) return false;
  }
  return true;
}
