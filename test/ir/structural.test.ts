/** Structural equality and hash: alpha-equivalence in, every other difference out, stable everywhere. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { blobFromBytes } from '../../src/ir/blob.ts';
import { constant, graphFunc, graphVar, seqExpr } from '../../src/ir/graph/expr.ts';
import { tensorSI } from '../../src/ir/graph/struct-info.ts';
import { irModule } from '../../src/ir/module.ts';
import {
  canonicalText,
  findMismatch,
  primExprEqual,
  primStructuralEqual,
  structuralEqual,
  structuralHash,
} from '../../src/ir/structural.ts';
import { binary, primVar } from '../../src/ir/prim/expr.ts';
import { sha256Hex } from '../../src/support/hash.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { inferOpCall, normalizeAttrs } from '../../src/ops/index.ts';

const parse = (s: string) => parseModule(s, { inferOp: inferOpCall, normalizeAttrs });
const example = readFileSync(new URL('../../examples/mm-relu.kir', import.meta.url), 'utf8');

const BASE = `
prim_func add_one(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block compute(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vi, vj] + 1.0
    }
  }
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] attrs(num_input=1) {
  dataflow {
    y = call_tir(add_one, (x), out: Tensor[(n, 4), f32])
    z = softmax(y, axis=1)
    output z
  }
  return z
}
`;

describe('structural equality and hash', () => {
  test('alpha-equivalent modules are equal and hash alike', () => {
    const renamed = BASE.replace(/\bn\b/g, 'batch')
      .replace(/\bvi\b/g, 'p')
      .replace(/\bA\b/g, 'Input')
      .replace(/\by\b/g, 'tmp')
      .replace(/\bx\b/g, 'data');
    const a = parse(BASE);
    const b = parse(renamed);
    expect(findMismatch(a, b)).toBeUndefined();
    expect(structuralHash(a)).toBe(structuralHash(b));
  });

  const differences: [string, string, string][] = [
    ['a dtype', 'main(x: Tensor[(n, 4), f32])', 'main(x: Tensor[(n, 4), f16])'],
    ['a literal', 'A[vi, vj] + 1.0', 'A[vi, vj] + 2.0'],
    ['an operator attribute', 'softmax(y, axis=1)', 'softmax(y, axis=0)'],
    ['a function attribute', 'attrs(num_input=1)', 'attrs(num_input=2)'],
    ['a shape expression', 'out: Tensor[(n, 4), f32]', 'out: Tensor[(n * 1 + 0, 4), f32]'],
    ['a block name', 'block compute(', 'block compute2('],
    ['a function name', 'add_one', 'add_two'],
    ['an iterator kind', 'vj = spatial(j)', 'vj = reduce(j)'],
    ['a loop kind', 'for i, j in grid(n, 4) {', 'for i in parallel(n) { for j in range(4) {'],
    ['the operator', 'softmax(y, axis=1)', 'log_softmax(y, axis=1)'],
    ['a dataflow output', 'output z', 'output y, z'],
  ];
  for (const [what, from, to] of differences) {
    test(`changing ${what} changes the hash`, () => {
      let changed = BASE.replaceAll(from, to);
      if (what === 'a loop kind')
        changed = changed.replace('B[vi, vj] = A[vi, vj] + 1.0\n    }\n  }', 'B[vi, vj] = A[vi, vj] + 1.0\n    }\n  }\n  }');
      expect(changed).not.toBe(BASE);
      const a = parse(BASE);
      const b = parse(changed);
      expect(structuralEqual(a, b)).toBe(false);
      expect(structuralHash(a)).not.toBe(structuralHash(b));
      expect(findMismatch(a, b)?.path).toBeTruthy();
    });
  }

  test('the binding of variables matters, not only their kinds: x + y differs from x + x', () => {
    const a = parse('prim_func f(x: i64, y: i64, A: i64[1]) {\n  A[0] = x + y\n}');
    const b = parse('prim_func f(x: i64, y: i64, A: i64[1]) {\n  A[0] = x + x\n}');
    const c = parse('prim_func f(p: i64, q: i64, A: i64[1]) {\n  A[0] = p + q\n}');
    const d = parse('prim_func f(p: i64, q: i64, A: i64[1]) {\n  A[0] = q + p\n}');
    expect(structuralEqual(a, b)).toBe(false);
    expect(structuralEqual(a, c)).toBe(true);
    expect(structuralEqual(a, d)).toBe(false);
  });

  test('constants compare by content: same shape, other bytes, other hash', () => {
    const mk = (values: number[]) => {
      const c = constant(blobFromBytes(new Uint8Array(new Float32Array(values).buffer)), 'float32', [2]);
      return irModule({ main: graphFunc([], seqExpr([], c), tensorSI([2], 'float32')) });
    };
    expect(structuralHash(mk([1, 2]))).toBe(structuralHash(mk([1, 2])));
    expect(structuralHash(mk([1, 2]))).not.toBe(structuralHash(mk([1, 3])));
  });

  test('attribute order does not matter', () => {
    const a = parse('func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] attrs(a=1, b=[1, 2]) {\n  return x\n}');
    const b = parse('func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] attrs(b=[1, 2], a=1) {\n  return x\n}');
    expect(structuralHash(a)).toBe(structuralHash(b));
  });

  test('the function order of a module does not matter', () => {
    const f = parse(BASE);
    const reversed = irModule([...f.functions.entries()].reverse());
    expect(structuralHash(reversed)).toBe(structuralHash(f));
  });

  test('a mismatch names where the modules differ', () => {
    const m = findMismatch(parse(BASE), parse(BASE.replace('+ 1.0', '+ 3.0')));
    expect(m).toEqual({
      path: 'function add_one > body > loop i > loop j > block compute > body',
      expected: 'f float32 1',
      found: 'f float32 3',
    });
  });

  test('graph variables with other struct info differ', () => {
    const v1 = graphVar('x', tensorSI([4], 'float32'));
    const v2 = graphVar('x', tensorSI([4], 'float16'));
    const f1 = graphFunc([v1], seqExpr([], v1), v1.sinfo);
    const f2 = graphFunc([v2], seqExpr([], v2), v1.sinfo);
    expect(structuralEqual(f1, f2)).toBe(false);
  });

  test('the hash is stable across processes and machines (golden value)', () => {
    const golden = '2304d899f22d7c612eddbdca413c09bc53cb574366da2491f250364052904b96';
    expect(structuralHash(parse(example))).toBe(golden);
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'ir', 'hash', 'examples/mm-relu.kir'], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(golden);
  });
});

describe('the hash is made as the stream is written', () => {
  test('it is the SHA-256 of the canonical tokens joined by NUL, for non-ASCII text and tokens longer than its buffer', () => {
    const long = 'w'.repeat(70_000);
    const m = parse(`
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] attrs(note="größe ∑ 🙂", ${long}="${'é'.repeat(30_000)}") {
  dataflow {
    y = softmax(x, axis=1)
    output y
  }
  return y
}
`);
    const main = m.functions.get('main')!;
    const text = canonicalText(main);
    expect(text.length).toBeGreaterThan(100_000);
    expect(structuralHash(main)).toBe(sha256Hex(text));
    // And a plain ASCII module over several buffers' worth of tokens.
    const big = parse(example.repeat(1));
    for (const f of big.functions.values()) expect(structuralHash(f)).toBe(sha256Hex(canonicalText(f)));
  });
});

describe('primExprEqual', () => {
  test('needs the very same variables, where structural equality matches them by position', () => {
    const [r, c, n] = [primVar('r'), primVar('c'), primVar('n')];
    const rowCheck = binary('le', 1, r);
    const colCheck = binary('le', 1, c);
    expect(primStructuralEqual(rowCheck, colCheck)).toBe(true);
    expect(primExprEqual(rowCheck, colCheck)).toBe(false);
    expect(primExprEqual(rowCheck, binary('le', 1, r))).toBe(true);
    expect(primExprEqual(binary('mul', n, 4), binary('mul', n, 4))).toBe(true);
    expect(primExprEqual(binary('add', r, c), binary('add', c, r))).toBe(false);
  });
});
