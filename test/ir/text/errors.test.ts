/** Malformed text gives one located error: file:line:col, a stable code, what was expected. */
import { describe, expect, test } from 'vitest';
import { isKilnError } from '../../../src/support/diagnostics.ts';
import { parseModule } from '../../../src/ir/text/parser.ts';
import { inferOpCall, normalizeAttrs } from '../../../src/ops/index.ts';

interface Case {
  name: string;
  source: string;
  code: string;
  line: number;
  column: number;
  message: RegExp;
}

const MM = `prim_func mm(X: f32[n, 4], Y: f32[n, 4]) {
  for i in range(n) {
    Y[i, 0] = X[i, 0]
  }
}
`;

const CASES: Case[] = [
  { name: 'garbage at top level', source: 'hello', code: 'K1003', line: 1, column: 1, message: /expected a definition/ },
  { name: 'unexpected character', source: 'func $x', code: 'K1001', line: 1, column: 6, message: /unexpected character "\$"/ },
  { name: 'unterminated string', source: 'module attrs(a="x\n)', code: 'K1002', line: 1, column: 16, message: /unterminated/ },
  {
    name: 'missing brace',
    source: MM.replace('{\n    Y', '\n    Y'),
    code: 'K1003',
    line: 3,
    column: 5,
    message: /expected '\{', found 'Y'/,
  },
  {
    name: 'unknown variable in a loop',
    source: MM.replace('range(n)', 'range(m)'),
    code: 'K1004',
    line: 2,
    column: 18,
    message: /unknown variable 'm'/,
  },
  {
    name: 'unknown buffer in a store',
    source: MM.replace('Y[i, 0] =', 'Z[i, 0] ='),
    code: 'K1004',
    line: 3,
    column: 5,
    message: /unknown buffer 'Z'/,
  },
  {
    name: 'wrong index count',
    source: MM.replace('Y[i, 0] =', 'Y[i] ='),
    code: 'K1006',
    line: 3,
    column: 5,
    message: /expected 2 indices, found 1/,
  },
  {
    name: 'stored value of another type',
    source: MM.replace('= X[i, 0]', '= 1i32'),
    code: 'K1006',
    line: 3,
    column: 13,
    message: /store to Y: expected float32, found int32/,
  },
  {
    name: 'operand types differ',
    source: MM.replace('= X[i, 0]', '= X[i, 0] + 1i32'),
    code: 'K4001',
    line: 3,
    column: 23,
    message: /different types f32 and i32/,
  },
  {
    name: 'unknown dtype suffix',
    source: MM.replace('= X[i, 0]', '= 1.5f8'),
    code: 'K1007',
    line: 3,
    column: 15,
    message: /unknown dtype suffix/,
  },
  {
    name: 'chained comparison',
    source: MM.replace('range(n)', 'range(1 < 2 < 3)'),
    code: 'K1003',
    line: 2,
    column: 24,
    message: /comparisons do not chain/,
  },
  {
    name: 'unknown thread tag',
    source: MM.replace('range(n)', 'thread_binding(n, "threadIdx.w")'),
    code: 'K1004',
    line: 2,
    column: 30,
    message: /unknown thread tag 'threadIdx.w'/,
  },
  {
    name: 'unknown intrinsic',
    source: MM.replace('= X[i, 0]', '= frob(X[i, 0])'),
    code: 'K1004',
    line: 3,
    column: 15,
    message: /unknown function 'frob'/,
  },
  {
    name: 'block iterator without a domain',
    source: 'prim_func f(A: f32[4]) {\n  block b(vi = spatial(3)) { A[vi] = 0.0 }\n}',
    code: 'K1011',
    line: 2,
    column: 24,
    message: /cannot infer the domain of block iterator 'vi'/,
  },
  {
    name: 'nested call as an argument',
    source: 'func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  y = relu(relu(x))\n  return y\n}',
    code: 'K1009',
    line: 2,
    column: 12,
    message: /argument of relu must be a variable/,
  },
  {
    name: 'an output line without names',
    source: 'func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  dataflow {\n    y = relu(x)\n    output\n  }\n  return y\n}',
    code: 'K1003',
    line: 5,
    column: 3,
    message: /expected a name, found '}'/,
  },
  {
    name: 'dataflow variable escaping without output',
    source:
      'func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  dataflow {\n    y = relu(x)\n    z = relu(y)\n    output z\n  }\n  return y\n}',
    code: 'K1010',
    line: 7,
    column: 10,
    message: /dataflow variable 'y' is used outside its dataflow block/,
  },
  {
    name: 'operator inference fails with the op, argument and shapes',
    source: 'func f(x: Tensor[(n, 3), f32], y: Tensor[(4,), f32]) -> Tensor[(n, 3), f32] {\n  z = add(x, y)\n  return z\n}',
    code: 'K3005',
    line: 2,
    column: 7,
    message: /add: cannot broadcast argument 'x1' of shape \(n, 3\) with argument 'x2' of shape \(4,\)/,
  },
  {
    name: 'call_tir of something that is not a prim_func',
    source:
      'func g(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  return x\n}\nfunc f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  y = call_tir(g, (x), out: Tensor[(4,), f32])\n  return y\n}',
    code: 'K1006',
    line: 5,
    column: 16,
    message: /expected a prim_func, found a graph function/,
  },
  {
    name: 'call of an unknown function',
    source: 'func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  y: Tensor[(4,), f32] = @nope(x)\n  return y\n}',
    code: 'K1004',
    line: 2,
    column: 27,
    message: /unknown function 'nope'/,
  },
  {
    name: 'constant with the wrong number of values',
    source: 'func f() -> Tensor[(3,), f32] {\n  c = const(f32[3], [1.0, 2.0])\n  return c\n}',
    code: 'K1013',
    line: 2,
    column: 21,
    message: /has 3 elements, 2 were given/,
  },
  {
    name: 'constant referenced by something that is not a hash',
    source: 'func f() -> Tensor[(3,), f32] {\n  c = const(f32[3], "abc")\n  return c\n}',
    code: 'K1013',
    line: 2,
    column: 21,
    message: /not a SHA-256 hash/,
  },
  {
    name: 'missing struct info without operator inference',
    source: 'func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  y = frobnicate(x)\n  return y\n}',
    code: 'K3001',
    line: 2,
    column: 7,
    message: /unknown operator 'frobnicate'/,
  },
  {
    name: 'duplicate function',
    source: `${MM}${MM}`,
    code: 'K1005',
    line: 6,
    column: 11,
    message: /function 'mm' is defined twice/,
  },
  {
    name: 'a float bound of a loop range',
    source: MM.replace('range(n)', 'range(0.0, 8)'),
    code: 'K1006',
    line: 2,
    column: 18,
    message: /range: expected an integer expression, found float32/,
  },
  {
    name: 'a float extent of a grid',
    source: MM.replace('range(n)', 'grid(2.5)'),
    code: 'K1006',
    line: 2,
    column: 17,
    message: /range: expected an integer expression, found float32/,
  },
];

describe('parse errors', () => {
  for (const c of CASES) {
    test(c.name, () => {
      let error: unknown;
      try {
        parseModule(c.source, { file: 'bad.kir', inferOp: inferOpCall, normalizeAttrs });
      } catch (e) {
        error = e;
      }
      expect(isKilnError(error), `expected a KilnError, got ${String(error)}`).toBe(true);
      if (!isKilnError(error)) return;
      const d = error.diagnostics[0]!;
      expect(d.message).toMatch(c.message);
      expect(d.code).toBe(c.code);
      expect(d.location).toMatchObject({ file: 'bad.kir', line: c.line, column: c.column });
    });
  }

  test('without operator inference, an unannotated operator call asks for an annotation', () => {
    expect(() =>
      parseModule('func f(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {\n  y = relu(x)\n  return y\n}', { file: 'a.kir' }),
    ).toThrow(/a.kir:2:3 - error K1008: cannot infer the struct info of 'y'/);
  });
});
