/** Canonical JSON is what action entries hash: key order must not matter, and lossy values must not get in. */
import { describe, expect, test } from 'vitest';
import { canonicalJson } from '../../src/cache/index.ts';

describe('canonicalJson', () => {
  test('sorts keys at every depth and adds no whitespace', () => {
    expect(canonicalJson({ b: [{ z: 1, y: 2 }], a: 'x' })).toBe('{"a":"x","b":[{"y":2,"z":1}]}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  test('agrees with JSON.parse of itself', () => {
    const value = { n: -0, big: 1e300, tiny: 5e-324, s: 'é\u2028"\\', nested: { list: [null, true, 1.5] }, gone: undefined };
    const text = canonicalJson(value);
    expect(canonicalJson(JSON.parse(text))).toBe(text);
    expect(text).not.toContain('gone');
  });

  test('uses toJSON as JSON.stringify does', () => {
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  test.each([
    [{ x: NaN }, /\$\.x is NaN/],
    [[1, Infinity], /\$\[1\] is Infinity/],
    [[undefined], /\$\[0\] is undefined/],
    [{ f: () => 1 }, /\$\.f is function/],
    [{ n: 1n }, /bigint/],
    [new Set([1]), /a Set \(not a plain object\)/],
    [new Uint8Array(2), /Uint8Array/],
  ])('refuses %o', (value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });

  test('refuses cycles but accepts shared subtrees', () => {
    const shared = { v: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"v":1},{"v":1}]');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
  });
});
