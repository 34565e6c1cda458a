/** The partition pass: Before/Expected modules in the text format, and the pattern language's errors. */
import { describe, expect, test } from 'vitest';
import type { Pass } from '../../src/passes/index.ts';
import { partitionModule, type PartitionOptions, type PartitionStats } from '../../src/passes/partition/partition.ts';
import { parsePattern, PatternError } from '../../src/passes/partition/pattern.ts';
import { hasOp } from '../../src/ops/index.ts';
import { expectPass, expectUnchanged, parse } from './helpers.ts';

function partition(rules: readonly [string, string][], extra: Partial<PartitionOptions> = {}, stats?: PartitionStats): Pass {
  const options: PartitionOptions = {
    rules: rules.map(([p, backend]) => ({ pattern: parsePattern(p, hasOp), backend })),
    ...extra,
  };
  return { name: 'partition', run: (m) => partitionModule(m, options, stats) };
}

const CHAIN = `
func main(x: Tensor[(n, 3, 8, 8), f32]) -> Tensor[(n, 4, 8, 8), f32] {
  dataflow {
    a = conv2d(x, const(f32[4, 3, 1, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))
    b = add(a, const(f32[4, 1, 1], [1, 2, 3, 4]))
    c = relu(b)
    output c
  }
  return c
}`;

describe('patterns with optional steps', () => {
  test('conv2d -> add? -> relu? takes the whole chain; weights become parameters, the call site passes them', () => {
    expectPass(
      partition([['conv2d(*, const) -> add(*, const)? -> relu?', 'lib']]),
      CHAIN,
      `
func main(x: Tensor[(n, 3, 8, 8), f32]) -> Tensor[(n, 4, 8, 8), f32] {
  dataflow {
    c = call_dps_packed("lib.lib_conv2d_add_relu_0", (x, const(f32[4, 3, 1, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), const(f32[4, 1, 1], [1, 2, 3, 4])), out: Tensor[(n, 4, 8, 8), f32])
    output c
  }
  return c
}
func lib_conv2d_add_relu_0(x: Tensor[(n, 3, 8, 8), f32], c0: Tensor[(4, 3, 1, 1), f32], c1: Tensor[(4, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] attrs(backend="lib", composite="conv2d_add_relu", global_symbol="lib.lib_conv2d_add_relu_0", partition_rules=[0], private=true) {
  dataflow {
    a = conv2d(x, c0)
    b = add(a, c1)
    c = relu(b)
    output c
  }
  return c
}`,
    );
  });

  test('an absent optional step is skipped: conv2d -> relu matches conv2d -> add? -> relu', () => {
    expectPass(
      partition([['conv2d -> add? -> relu', 'lib']]),
      `
func main(x: Tensor[(n, 3, 8, 8), f32], w: Tensor[(4, 3, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] {
  dataflow {
    a = conv2d(x, w)
    c = relu(a)
    output c
  }
  return c
}`,
      `
func main(x: Tensor[(n, 3, 8, 8), f32], w: Tensor[(4, 3, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] {
  dataflow {
    c = call_dps_packed("lib.lib_conv2d_relu_0", (x, w), out: Tensor[(n, 4, 8, 8), f32])
    output c
  }
  return c
}
func lib_conv2d_relu_0(x: Tensor[(n, 3, 8, 8), f32], w: Tensor[(4, 3, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] attrs(backend="lib", composite="conv2d_relu", global_symbol="lib.lib_conv2d_relu_0", partition_rules=[0], private=true) {
  dataflow {
    a = conv2d(x, w)
    c = relu(a)
    output c
  }
  return c
}`,
    );
  });

  test('a required step that is missing means no match: the module comes back unchanged', () => {
    expectUnchanged(partition([['conv2d(*, const) -> sigmoid', 'lib']]), CHAIN);
  });

  test("'const' does not match a variable", () => {
    expectUnchanged(
      partition([['matmul(*, const)', 'lib']]),
      `
func main(x: Tensor[(4, 8), f32], w: Tensor[(8, 2), f32]) -> Tensor[(4, 2), f32] {
  y = matmul(x, w)
  return y
}`,
    );
  });
});

describe('alternatives', () => {
  const BOTH = `
func main(x: Tensor[(4, 8), f32], w: Tensor[(8, 8), f32]) -> Tensor[(4, 8), f32] {
  dataflow {
    a = matmul(x, w)
    b = sigmoid(a)
    c = matmul(b, w)
    d = tanh(c)
    output d
  }
  return d
}`;
  test('matmul -> (relu | sigmoid | tanh) takes either activation; merging off keeps two composites', () => {
    expectPass(
      partition([['matmul -> (relu | sigmoid | tanh)', 'lib']], { merge: false }),
      BOTH,
      `
func main(x: Tensor[(4, 8), f32], w: Tensor[(8, 8), f32]) -> Tensor[(4, 8), f32] {
  dataflow {
    b = call_dps_packed("lib.lib_matmul_sigmoid_0", (x, w), out: Tensor[(4, 8), f32])
    d = call_dps_packed("lib.lib_matmul_tanh_0", (b, w), out: Tensor[(4, 8), f32])
    output d
  }
  return d
}
func lib_matmul_sigmoid_0(x: Tensor[(4, 8), f32], w: Tensor[(8, 8), f32]) -> Tensor[(4, 8), f32] attrs(backend="lib", composite="matmul_sigmoid", global_symbol="lib.lib_matmul_sigmoid_0", partition_rules=[0], private=true) {
  dataflow {
    a = matmul(x, w)
    b = sigmoid(a)
    output b
  }
  return b
}
func lib_matmul_tanh_0(b: Tensor[(4, 8), f32], w: Tensor[(8, 8), f32]) -> Tensor[(4, 8), f32] attrs(backend="lib", composite="matmul_tanh", global_symbol="lib.lib_matmul_tanh_0", partition_rules=[0], private=true) {
  dataflow {
    c = matmul(b, w)
    d = tanh(c)
    output d
  }
  return d
}`,
    );
  });

  test('adjacent composites of one backend merge into one', () => {
    expectPass(
      partition([['matmul -> (relu | sigmoid | tanh)', 'lib']]),
      BOTH,
      `
func main(x: Tensor[(4, 8), f32], w: Tensor[(8, 8), f32]) -> Tensor[(4, 8), f32] {
  dataflow {
    d = call_dps_packed("lib.lib_matmul_sigmoid_tanh_0", (x, w), out: Tensor[(4, 8), f32])
    output d
  }
  return d
}
func lib_matmul_sigmoid_tanh_0(x: Tensor[(4, 8), f32], w: Tensor[(8, 8), f32]) -> Tensor[(4, 8), f32] attrs(backend="lib", composite="matmul_sigmoid_tanh", global_symbol="lib.lib_matmul_sigmoid_tanh_0", partition_rules=[0], private=true) {
  dataflow {
    a = matmul(x, w)
    b = sigmoid(a)
    c = matmul(b, w)
    d = tanh(c)
    output d
  }
  return d
}`,
    );
  });

  test('composites of different backends do not merge; earlier rules win', () => {
    const stats: PartitionStats = { matches: [], composites: [] };
    const m = partition(
      [
        ['matmul -> sigmoid', 'a'],
        ['matmul -> (sigmoid | tanh)', 'b'],
      ],
      {},
      stats,
    ).run(parse(BOTH), {});
    expect(stats.matches).toEqual([1, 1]);
    expect([...m.functions.keys()].sort()).toEqual(['a_matmul_sigmoid_0', 'b_matmul_tanh_0', 'main']);
  });
});

describe('values with several consumers', () => {
  test('a match stops before a value that is also used elsewhere; merging then makes two results', () => {
    const before = `
func main(x: Tensor[(n, 3, 8, 8), f32], w: Tensor[(4, 3, 1, 1), f32], v: Tensor[(4, 4, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] {
  dataflow {
    a = conv2d(x, w)
    b = relu(a)
    c = conv2d(b, v)
    d = relu(c)
    e = add(d, b)
    output e
  }
  return e
}`;
    // b feeds c and e: relu may end a match, but a match through b would hide it from e.
    expectPass(
      partition([['conv2d -> relu -> add?', 'lib']], { merge: false }),
      before,
      `
func main(x: Tensor[(n, 3, 8, 8), f32], w: Tensor[(4, 3, 1, 1), f32], v: Tensor[(4, 4, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] {
  dataflow {
    b = call_dps_packed("lib.lib_conv2d_relu_0", (x, w), out: Tensor[(n, 4, 8, 8), f32])
    e = call_dps_packed("lib.lib_conv2d_relu_add_0", (b, v), out: Tensor[(n, 4, 8, 8), f32])
    output e
  }
  return e
}
func lib_conv2d_relu_0(x: Tensor[(n, 3, 8, 8), f32], w: Tensor[(4, 3, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] attrs(backend="lib", composite="conv2d_relu", global_symbol="lib.lib_conv2d_relu_0", partition_rules=[0], private=true) {
  dataflow {
    a = conv2d(x, w)
    b = relu(a)
    output b
  }
  return b
}
func lib_conv2d_relu_add_0(b: Tensor[(n, 4, 8, 8), f32], v: Tensor[(4, 4, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] attrs(backend="lib", composite="conv2d_relu_add", global_symbol="lib.lib_conv2d_relu_add_0", partition_rules=[0], private=true) {
  dataflow {
    c = conv2d(b, v)
    d = relu(c)
    e = add(d, b)
    output e
  }
  return e
}`,
    );
  });

  test('a required step past a shared value is no match at all', () => {
    expectUnchanged(
      partition([['conv2d -> relu', 'lib']]),
      `
func main(x: Tensor[(n, 3, 8, 8), f32], w: Tensor[(4, 3, 1, 1), f32]) -> Tensor[(n, 4, 8, 8), f32] {
  dataflow {
    a = conv2d(x, w)
    b = relu(a)
    c = add(a, b)
    output c
  }
  return c
}`,
    );
  });

  test('a merge that would make a cycle through a binding outside is refused', () => {
    // g1 -> sigmoid (not matched) -> g2, and g1 -> g2 directly: merging g1 and g2 would need
    // the sigmoid both after and before the merged call.
    expectPass(
      partition([['matmul', 'lib']]),
      `
func main(x: Tensor[(4, 4), f32], w: Tensor[(4, 4), f32]) -> Tensor[(4, 4), f32] {
  dataflow {
    a = matmul(x, w)
    s = sigmoid(a)
    b = matmul(a, s)
    output b
  }
  return b
}`,
      `
func main(x: Tensor[(4, 4), f32], w: Tensor[(4, 4), f32]) -> Tensor[(4, 4), f32] {
  dataflow {
    a = call_dps_packed("lib.lib_matmul_0", (x, w), out: Tensor[(4, 4), f32])
    s = sigmoid(a)
    b = call_dps_packed("lib.lib_matmul_1", (a, s), out: Tensor[(4, 4), f32])
    output b
  }
  return b
}
func lib_matmul_0(x: Tensor[(4, 4), f32], w: Tensor[(4, 4), f32]) -> Tensor[(4, 4), f32] attrs(backend="lib", composite="matmul", global_symbol="lib.lib_matmul_0", partition_rules=[0], private=true) {
  dataflow {
    a = matmul(x, w)
    output a
  }
  return a
}
func lib_matmul_1(a: Tensor[(4, 4), f32], s: Tensor[(4, 4), f32]) -> Tensor[(4, 4), f32] attrs(backend="lib", composite="matmul", global_symbol="lib.lib_matmul_1", partition_rules=[0], private=true) {
  dataflow {
    b = matmul(a, s)
    output b
  }
  return b
}`,
    );
  });
});

describe('symbolic shapes', () => {
  test('a composite over symbolic dims takes them from its parameters; reshape keeps its shape(...) argument', () => {
    expectPass(
      partition([['matmul -> add? -> reshape', 'lib']]),
      `
func main(x: Tensor[(b, s, 16), f32], w: Tensor[(16, 8), f32], c: Tensor[(8,), f32]) -> Tensor[(b, s * 8), f32] {
  dataflow {
    y = matmul(x, w)
    z = add(y, c)
    r = reshape(z, shape(b, s * 8))
    output r
  }
  return r
}`,
      `
func main(x: Tensor[(b, s, 16), f32], w: Tensor[(16, 8), f32], c: Tensor[(8,), f32]) -> Tensor[(b, s * 8), f32] {
  dataflow {
    r = call_dps_packed("lib.lib_matmul_add_reshape_0", (x, w, c), out: Tensor[(b, s * 8), f32])
    output r
  }
  return r
}
func lib_matmul_add_reshape_0(x: Tensor[(b, s, 16), f32], w: Tensor[(16, 8), f32], c: Tensor[(8,), f32]) -> Tensor[(b, s * 8), f32] attrs(backend="lib", composite="matmul_add_reshape", global_symbol="lib.lib_matmul_add_reshape_0", partition_rules=[0], private=true) {
  dataflow {
    y = matmul(x, w)
    z = add(y, c)
    r = reshape(z, shape(b, s * 8))
    output r
  }
  return r
}`,
    );
  });

  test('a backend that refuses a group leaves it to Kiln', () => {
    expectUnchanged(partition([['conv2d -> add? -> relu?', 'lib']], { supports: () => false }), CHAIN);
  });
});

describe('the pattern language', () => {
  test.each([
    ['conv2d(*, const) -> add(*, const)? -> relu?', 3],
    ['(relu | gelu)?  -> matmul', 2],
    ['*(*, const)', 1],
    ['add | multiply | subtract', 1],
  ])('%s parses into %d steps', (text, steps) => {
    expect(parsePattern(text, hasOp).steps).toHaveLength(steps);
  });

  test.each([
    ['conv2d(*, cnst)', 10, "expected an argument: '*' (anything) or 'const' (a constant), found 'cnst'"],
    ['conv2d -> ', 10, "expected an operator name or '*', found the end of the pattern"],
    ['matmull -> relu', 0, "unknown operator 'matmull'"],
    ['relu? -> add?', 0, 'every step is optional, so the pattern would match nothing'],
    ['relu $', 5, "unexpected character '$'"],
    ['(relu | gelu', 12, "expected '|' or ')', found the end of the pattern"],
  ])('%s: error at offset %d', (text, offset, message) => {
    let error: unknown;
    try {
      parsePattern(text, hasOp);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PatternError);
    expect((error as PatternError).message).toBe(message);
    expect((error as PatternError).offset).toBe(offset);
  });
});
