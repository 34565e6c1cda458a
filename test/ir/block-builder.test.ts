/**
 * The block builder: what it emits, compared with Expected modules written in
 * the text format (structural equality, so variable names do not matter).
 */
import { describe, expect, test } from 'vitest';
import { BlockBuilder } from '../../src/ir/builder/block-builder.ts';
import { compute, createPrimFunc, placeholder } from '../../src/ir/builder/te.ts';
import {
  callTIR,
  externFunc,
  globalCall,
  graphFunc,
  graphVar,
  opCall,
  primValue,
  seqExpr,
  shapeExpr,
  tuple,
  tupleGet,
} from '../../src/ir/graph/expr.ts';
import { funcSI, primSI, shapeSI, tensorSI, tupleSI } from '../../src/ir/graph/struct-info.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { add, floatImm, mul, primVar } from '../../src/ir/prim/expr.ts';
import { findMismatch } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { verifyModule } from '../../src/ir/verify/index.ts';
import { inferOpCall, normalizeAttrs } from '../../src/ops/index.ts';

const withOps = { inferOp: inferOpCall, normalizeAttrs };

/**
 * The built module equals `expected`, parsed without operator support (so
 * annotations and attribute defaults must be spelled out there), and is well-formed.
 */
function expectModule(actual: IRModule, expected: string): void {
  const e = parseModule(expected, { file: 'expected.kir' });
  const mismatch = findMismatch(e, actual);
  expect(
    mismatch,
    mismatch && `at ${mismatch.path}: expected ${mismatch.expected}, found ${mismatch.found}\n${printModule(actual)}`,
  ).toBeUndefined();
  expect(verifyModule(actual, { inferOp: inferOpCall }).map((d) => d.message)).toEqual([]);
}

const n = primVar('n');
const f32 = (shape: Parameters<typeof tensorSI>[0]) => tensorSI(shape, 'float32');

describe('functions and dataflow blocks', () => {
  test('a dataflow block whose output leaves it with emitOutput', () => {
    const bb = new BlockBuilder(withOps);
    const x = graphVar('x', f32([n, 4]));
    bb.function('main', [x], () =>
      bb.dataflow(() => {
        const lv = bb.emit(opCall('relu', [x]));
        return bb.emitOutput(opCall('add', [lv, x]));
      }),
    );
    expectModule(
      bb.getModule(),
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    lv: Tensor[(n, 4), f32] = relu(x)
    gv: Tensor[(n, 4), f32] = add(lv, x)
    output gv
  }
  return gv
}`,
    );
  });

  test('bindings before, between and after dataflow blocks; a computed result is bound', () => {
    const bb = new BlockBuilder(withOps);
    const x = graphVar('x', f32([n, 4]));
    bb.function('main', [x], () => {
      const a = bb.emit(opCall('exp', [x]), 'a');
      const b = bb.dataflow(() => bb.emitOutput(opCall('relu', [bb.emit(opCall('negative', [a]))]), 'b'));
      const c = bb.emit(opCall('add', [a, b]), 'c');
      const d = bb.dataflow(() => bb.emitOutput(opCall('sqrt', [c]), 'd'));
      return opCall('multiply', [d, d]);
    });
    expectModule(
      bb.getModule(),
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a: Tensor[(n, 4), f32] = exp(x)
  dataflow {
    lv: Tensor[(n, 4), f32] = negative(a)
    b: Tensor[(n, 4), f32] = relu(lv)
    output b
  }
  c: Tensor[(n, 4), f32] = add(a, b)
  dataflow {
    d: Tensor[(n, 4), f32] = sqrt(c)
    output d
  }
  gv: Tensor[(n, 4), f32] = multiply(d, d)
  return gv
}`,
    );
  });

  test('names are made unique, parameters included; the return type can be given', () => {
    const bb = new BlockBuilder(withOps);
    const x = graphVar('lv', f32([n, 4]));
    const f = bb.function(
      'main',
      [x],
      () => {
        const a = bb.emit(opCall('relu', [x]));
        return bb.emit(opCall('relu', [a]));
      },
      { ret: f32(2), attrs: { private: true } },
    );
    expect(f.body.blocks[0]!.bindings.map((b) => b.var.name)).toEqual(['lv1', 'lv2']);
    expectModule(
      bb.getModule(),
      `
func main(lv: Tensor[(n, 4), f32]) -> Tensor[ndim=2, f32] attrs(private=true) {
  lv1: Tensor[(n, 4), f32] = relu(lv)
  lv2: Tensor[(n, 4), f32] = relu(lv1)
  return lv2
}`,
    );
  });
});

describe('normalisation', () => {
  test('nested calls are bound first, in evaluation order (A-normal form)', () => {
    const bb = new BlockBuilder(withOps);
    const x = graphVar('x', f32([n, 4]));
    bb.function('main', [x], () =>
      bb.dataflow(() => bb.emitOutput(opCall('add', [opCall('relu', [x]), opCall('exp', [opCall('negative', [x])])]))),
    );
    expectModule(
      bb.getModule(),
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    lv: Tensor[(n, 4), f32] = relu(x)
    lv1: Tensor[(n, 4), f32] = negative(x)
    lv2: Tensor[(n, 4), f32] = exp(lv1)
    gv: Tensor[(n, 4), f32] = add(lv, lv2)
    output gv
  }
  return gv
}`,
    );
  });

  test('calls nested in tuples, tuple indexing, call_tir arguments and the result', () => {
    const bb = new BlockBuilder(withOps);
    const x = graphVar('x', f32([n, 4]));
    const A = placeholder([n, 4], 'float32', 'A');
    const B = compute([n, 4], ([i, j]) => mul(A.at(i!, j!), floatImm(2)), 'B');
    const kernel = bb.addPrimFunc(createPrimFunc([A, B]), 'double');
    bb.function('main', [x], () => {
      const t = bb.emit(tuple([x, opCall('relu', [x])]), 't');
      const y = bb.emit(tupleGet(tuple([opCall('exp', [x]), x]), 0), 'y');
      const z = bb.emit(callTIR(kernel, [opCall('add', [y, tupleGet(t, 1)])], f32([n, 4])), 'z');
      return tuple([z, opCall('relu', [z])]);
    });
    expectModule(
      bb.getModule(),
      `
prim_func double(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block B(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vi, vj] * 2.0
    }
  }
}

func main(x: Tensor[(n, 4), f32]) -> Tuple[Tensor[(n, 4), f32], Tensor[(n, 4), f32]] {
  lv: Tensor[(n, 4), f32] = relu(x)
  t = (x, lv)
  lv1: Tensor[(n, 4), f32] = exp(x)
  y = (lv1, x)[0]
  lv2 = t[1]
  lv3: Tensor[(n, 4), f32] = add(y, lv2)
  z = call_tir(double, (lv3,), out: Tensor[(n, 4), f32])
  gv: Tensor[(n, 4), f32] = relu(z)
  return (z, gv)
}`,
    );
  });

  test('operator attributes get their defaults', () => {
    const bb = new BlockBuilder(withOps);
    const x = graphVar('x', f32([n, 4]));
    bb.function('main', [x], () => bb.emit(opCall('sum', [opCall('relu', [x])], { axis: [1] })));
    expectModule(
      bb.getModule(),
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n,), f32] {
  lv: Tensor[(n, 4), f32] = relu(x)
  lv1: Tensor[(n,), f32] = sum(lv, axis=[1], keepdims=false)
  return lv1
}`,
    );
  });
});

describe('match_cast', () => {
  test('defines new symbolic variables that later bindings use', () => {
    const bb = new BlockBuilder(withOps);
    const x = graphVar('x', f32(2));
    const m = primVar('m');
    const k = primVar('k');
    bb.function('main', [x], () => {
      const y = bb.matchCast(x, f32([m, k]), 'y');
      return bb.dataflow(() => {
        const lv = bb.matchCast(opCall('relu', [y]), f32([m, k]));
        return bb.emitOutput(opCall('reshape', [lv, shapeExpr([mul(m, k)])]));
      });
    });
    expectModule(
      bb.getModule(),
      `
func main(x: Tensor[ndim=2, f32]) -> Tensor[ndim=1, f32] {
  y = match_cast(x, Tensor[(m, k), f32])
  dataflow {
    lv: Tensor[(m, k), f32] = relu(y)
    lv1 = match_cast(lv, Tensor[(m, k), f32])
    gv: Tensor[(k * m,), f32] = reshape(lv1, shape(m * k))
    output gv
  }
  return gv
}`,
    );
  });
});

describe('PrimFuncs', () => {
  const kernel = (name: string, scale: number) => {
    const A = placeholder([n, 4], 'float32', 'A');
    const B = compute([n, 4], ([i, j]) => mul(A.at(i!, j!), floatImm(scale)), name);
    return createPrimFunc([A, B]);
  };

  test('structurally equal PrimFuncs are added once, under the first name', () => {
    const bb = new BlockBuilder(withOps);
    const a = bb.addPrimFunc(kernel('B', 2), 'scale');
    const b = bb.addPrimFunc(kernel('B', 2), 'scale_again');
    const c = bb.addPrimFunc(kernel('B', 3), 'scale');
    expect([a, b, c]).toEqual(['scale', 'scale', 'scale1']);
    expect([...bb.getModule().functions.keys()].sort()).toEqual(['scale', 'scale1']);
  });

  test('a PrimFunc of the module being extended is found again', () => {
    const first = new BlockBuilder();
    first.addPrimFunc(kernel('B', 2), 'k');
    const bb = new BlockBuilder({ ...withOps, module: first.getModule() });
    expect(bb.addPrimFunc(kernel('B', 2), 'other')).toBe('k');
  });

  test('names are sanitised; a replaced PrimFunc is not handed out any more', () => {
    const bb = new BlockBuilder(withOps);
    expect(bb.addPrimFunc(kernel('B', 2), 'fused.add-relu')).toBe('fused_add_relu');
    expect(bb.addPrimFunc(kernel('B', 5), '2d')).toBe('_2d');
    bb.setFunction('fused_add_relu', kernel('B', 7));
    // The replaced kernel is no longer in the module: adding it again adds it.
    expect(bb.addPrimFunc(kernel('B', 2), 'k')).toBe('k');
    expect(bb.addPrimFunc(kernel('B', 7), 'k')).toBe('fused_add_relu');
  });
});

describe('calls of graph and extern functions', () => {
  test("the callee's return type in terms of the arguments", () => {
    const bb = new BlockBuilder(withOps);
    const k = primVar('k');
    const y = graphVar('y', f32([k, 4]));
    bb.setFunction('helper', graphFunc([y], seqExpr([], y), f32([k, 4])));
    const j = primVar('j');
    const p = primVar('p');
    bb.setFunction(
      'ext',
      externFunc(
        'my.ext',
        funcSI(
          [f32([j, 4]), primSI('int64', p)],
          tupleSI([f32([add(j, p), 4]), f32([primVar('q')]), shapeSI([j, primVar('r')]), primSI('int64', mul(p, 2))]),
        ),
      ),
    );
    const x = graphVar('x', f32([n, 4]));
    bb.function('main', [x], () => {
      const a = bb.emit(globalCall('helper', [x]), 'a');
      const b = bb.emit(globalCall('ext', [a, primValue(add(n, 1))]), 'b');
      return tuple([a, b]);
    });
    expectModule(
      bb.getModule(),
      `
extern_func ext: Callable[[Tensor[(j, 4), f32], Prim[i64, value=p]], Tuple[Tensor[(j + p, 4), f32], Tensor[(q,), f32], Shape[(j, r)], Prim[i64, value=p * 2]]] = "my.ext"

func helper(y: Tensor[(k, 4), f32]) -> Tensor[(k, 4), f32] {
  return y
}

func main(x: Tensor[(n, 4), f32]) -> Tuple[Tensor[(n, 4), f32], Tuple[Tensor[(n * 2 + 1, 4), f32], Tensor[ndim=1, f32], Shape[ndim=2], Prim[i64, value=n * 2 + 2]]] {
  a: Tensor[(n, 4), f32] = @helper(x)
  b: Tuple[Tensor[(n * 2 + 1, 4), f32], Tensor[ndim=1, f32], Shape[ndim=2], Prim[i64, value=n * 2 + 2]] = @ext(a, prim(n + 1))
  return (a, b)
}`,
    );
  });
});

describe('errors', () => {
  const x = graphVar('x', f32([n, 4]));

  test('emitting outside a function', () => {
    const bb = new BlockBuilder(withOps);
    expect(() => bb.emit(opCall('relu', [x]))).toThrow(/K4001.*bindings can only be emitted inside function\(\)/);
    expect(() => bb.dataflow(() => 0)).toThrow(/inside function\(\)/);
    expect(() => bb.matchCast(x, f32(2))).toThrow(/inside function\(\)/);
  });

  test('operator calls without operator inference', () => {
    const bb = new BlockBuilder();
    expect(() => bb.function('main', [x], () => bb.emit(opCall('relu', [x])))).toThrow(
      /call of relu: no operator inference was given/,
    );
    // The failed function leaves the builder usable.
    bb.function('main', [x], () => bb.emit(opCall('relu', [x]), 'y', f32([n, 4])));
    expect(bb.getModule().functions.has('main')).toBe(true);
  });

  test('a function built inside another, and a nested scope, leave the outer bindings where they were', () => {
    const bb = new BlockBuilder(withOps);
    bb.function('a', [x], () => {
      const y = bb.emit(opCall('relu', [x]), 'y');
      const inner = graphVar('p', f32([n, 4]));
      bb.function('b', [inner], () => bb.emit(opCall('relu', [inner]), 'z'));
      const branch = bb.scope(() => bb.emit(opCall('relu', [y]), 'w'));
      expect(branch.blocks[0]!.bindings.map((b) => b.var.name)).toEqual(['w']);
      return y;
    });
    const m = bb.getModule();
    const a = m.functions.get('a')!;
    const b = m.functions.get('b')!;
    expect(a.kind === 'func' && a.body.blocks.flatMap((blk) => blk.bindings.map((x) => x.var.name))).toEqual(['y']);
    expect(b.kind === 'func' && b.body.blocks.flatMap((blk) => blk.bindings.map((x) => x.var.name))).toEqual(['z']);
  });

  test('misuse of functions, dataflow blocks and outputs', () => {
    const bb = new BlockBuilder(withOps);
    expect(() => bb.function('a', [x], () => bb.dataflow(() => (bb.scope(() => x), x)))).toThrow(
      /an if cannot be built in a dataflow block/,
    );
    expect(() => bb.function('a', [x], () => bb.dataflow(() => bb.dataflow(() => x)))).toThrow(
      /dataflow blocks cannot be nested/,
    );
    expect(() => bb.function('a', [x], () => bb.emitOutput(opCall('relu', [x])))).toThrow(
      /emitOutput is for values leaving a dataflow block/,
    );
    expect(() => bb.function('a', [x], () => bb.emit(globalCall('nowhere', [x])))).toThrow(
      /call of @nowhere: no graph or extern function/,
    );
    expect(() => bb.function('a', [x], () => bb.emit(opCall('add', [x, graphVar('y', f32([n, 3]))])))).toThrow(/K3005/);
    expect(() =>
      bb.function('a', [x], () => {
        void bb.getModule();
        return x;
      }),
    ).toThrow(/a function is still being built/);
    // None of that left anything behind.
    expect(bb.getModule().functions.size).toBe(0);
  });

  test('a result whose struct info cannot be inferred needs options.ret', () => {
    const bb = new BlockBuilder(withOps);
    expect(() => bb.function('main', [x], () => tupleGet(x, 3))).toThrow(/tuple_get: its struct info cannot be inferred/);
  });
});
