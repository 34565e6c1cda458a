/** The error catalog: one code per entry, never reused, each in a range its header documents. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { M } from '../../src/support/messages.ts';
import { REPO } from '../helpers/workspace.ts';

test('every code is unique and well-formed', () => {
  const codes = Object.values(M).map((m) => m.code);
  for (const c of codes) expect(c).toMatch(/^K[1-9]\d{3}$/);
  const seen = new Map<string, string[]>();
  for (const [name, m] of Object.entries(M)) seen.set(m.code, [...(seen.get(m.code) ?? []), name]);
  const twice = [...seen].filter(([, names]) => names.length > 1);
  expect(twice, 'codes used by two entries').toEqual([]);
});

test("every code's range is documented in the catalog's header and in the README", () => {
  const header = readFileSync(join(REPO, 'src/support/messages.ts'), 'utf8').split('*/')[0]!;
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  for (const m of Object.values(M)) {
    const range = `${m.code.slice(0, 2)}xxx`;
    expect(header, `${m.code}: ${range} in the header of messages.ts`).toContain(range);
    expect(readme, `${m.code}: ${range} in the README`).toContain(range);
  }
});
