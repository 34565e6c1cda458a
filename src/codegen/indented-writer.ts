/** Source text written line by line at a nesting depth: what the JavaScript and WGSL kernel emitters share. */
export abstract class IndentedWriter {
  protected readonly lines: string[] = [];
  /** Lines start inside the function body. */
  protected depth = 1;

  protected line(text: string): void {
    this.lines.push(`${'  '.repeat(this.depth)}${text}`);
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
