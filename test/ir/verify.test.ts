/**
 * The module verifier: well-formed modules (the examples, hand-written text,
 * TE-built kernels) have no problems; each kind of ill-formedness it checks is
 * reported once, naming the function and the binding, loop or block; and all
 * problems of a module come at once. Ill-formed modules are built with the
 * factories, since the parser already refuses most of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { KilnError } from '../../src/support/diagnostics.ts';
import { compute, createPrimFunc, maxOf, placeholder, reduceAxis, sum } from '../../src/ir/builder/te.ts';
import {
  type Binding,
  bindingBlock,
  callTIR,
  type Expr,
  globalCall,
  graphFunc,
  type GraphVar,
  graphVar,
  ifExpr,
  matchCast,
  opCall,
  primValue,
  seqExpr,
  shapeExpr,
  tuple,
  tupleGet,
  varBinding,
} from '../../src/ir/graph/expr.ts';
import { primSI, type StructInfo, tensorSI, tupleSI } from '../../src/ir/graph/struct-info.ts';
import { irModule, type IRModule, type ModuleFunction } from '../../src/ir/module.ts';
import { add, call, cast, div, floatImm, intImm, load, lt, mul, type PrimExpr, primVar, sub } from '../../src/ir/prim/expr.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { buffer } from '../../src/ir/tir/buffer.ts';
import {
  allocate,
  block,
  blockRealize,
  forLoop,
  ifThenElse,
  iterVar,
  letStmt,
  primFunc,
  range,
  seq,
  store,
} from '../../src/ir/tir/stmt.ts';
import { assertWellFormed, verifyModule } from '../../src/ir/verify/index.ts';
import { inferOpCall, normalizeAttrs } from '../../src/ops/index.ts';
import { skipRoundTrip } from '../helpers/roundtrip.ts';

const withOps = { inferOp: inferOpCall, normalizeAttrs };

/** The problems' messages (without code), with operator inference. */
function problems(m: IRModule, options: { inferOp?: typeof inferOpCall } = { inferOp: inferOpCall }): string[] {
  return verifyModule(m, options).map((d) => {
    expect(d.code).toBe('K2001');
    return d.message;
  });
}

/** A module that is ill-formed on purpose. */
function bad(functions: Record<string, ModuleFunction>): IRModule {
  return skipRoundTrip(irModule(functions));
}

const n = primVar('n');
const f32 = (shape: readonly (number | typeof n)[]): StructInfo => tensorSI(shape, 'float32');

/** `func main(x) -> ret { blocks; return body }`. */
function mainWith(
  x: GraphVar,
  blocks: readonly { dataflow?: boolean; bindings: Binding[] }[],
  body: Expr,
  ret: StructInfo,
): ModuleFunction {
  return graphFunc(
    [x],
    seqExpr(
      blocks.map((b) => bindingBlock(b.bindings, b.dataflow ?? false)),
      body,
    ),
    ret,
  );
}

// --- well-formed --------------------------------------------------------------------------

describe('well-formed modules have no problems', () => {
  test('the examples', () => {
    const dir = new URL('../../examples/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.kir'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const m = parseModule(readFileSync(new URL(f, dir), 'utf8'), { file: f, ...withOps });
      expect(problems(m), f).toEqual([]);
      expect(() => assertWellFormed(m, { inferOp: inferOpCall })).not.toThrow();
    }
  });

  test('if, match_cast, tuples, shapes, prim values and extern calls', () => {
    const m = parseModule(
      `
extern_func kv_append: Callable[[Object, Tensor[(n, 4), f16]], Object] = "vm.kv_cache.append"

func helper(x: Tensor[(n, 4), f16], cache: Object) -> Tuple[Tensor[(n, 4), f16], Object] {
  c: Object = @kv_append(cache, x)
  t = (x, c)
  return t
}

func main(x: Tensor[(n, 4), f16], flag: Prim[bool], cache: Object) -> Tensor[ndim=2, f16] {
  k = shape(n * 2, 2)
  v = prim(n + 1)
  r: Tuple[Tensor[(n, 4), f16], Object] = @helper(x, cache)
  y = r[0]
  z = match_cast(y, Tensor[(m, 4), f16])
  w: Tensor[ndim=2, f16] = if flag {
    q: Tensor[(m, 4), f16] = multiply(z, z)
    q
  } else {
    z
  }
  dataflow {
    a: Tensor[(m, 4), f16] = add(w, w)
    b = relu(a)
    output b
  }
  return b
}
`,
      withOps,
    );
    expect(problems(m)).toEqual([]);
  });

  test('TE-built kernels called from a graph function', () => {
    const A = placeholder([n, 16], 'float32', 'A');
    const k = reduceAxis(16, 'k');
    const mx = compute([n], ([i]) => maxOf(A.at(i!, k.var), [k]), 'mx');
    const e = compute([n, 16], ([i, j]) => call('exp', [sub(A.at(i!, j!), mx.at(i!))]), 'e');
    const s = compute([n], ([i]) => sum(e.at(i!, k.var), [k]), 's');
    const Y = compute([n, 16], ([i, j]) => div(e.at(i!, j!), s.at(i!)), 'Y');
    const softmax = createPrimFunc([A, Y]);
    const x = graphVar('x', f32([n, 16]));
    const y = graphVar('y', f32([n, 16]));
    const main = mainWith(
      x,
      [{ bindings: [varBinding(y, callTIR('softmax', [x], tensorSI([n, 16], 'float32')))] }],
      y,
      f32([n, 16]),
    );
    expect(problems(irModule({ softmax, main }))).toEqual([]);
  });
});

// --- graph functions ----------------------------------------------------------------------------

describe('graph functions', () => {
  const x = graphVar('x', f32([n, 4]));
  const relu = (v: Expr): Expr => opCall('relu', [v]);

  test('a variable used before its definition', () => {
    const a = graphVar('a', f32([n, 4]));
    const b = graphVar('b', f32([n, 4]));
    const m = bad({ main: mainWith(x, [{ bindings: [varBinding(b, relu(a)), varBinding(a, relu(x))] }], b, f32([n, 4])) });
    expect(problems(m)).toEqual(["function 'main', binding 'b': variable 'a' is used before it is defined"]);
  });

  test('a variable bound twice', () => {
    const a = graphVar('a', f32([n, 4]));
    const m = bad({ main: mainWith(x, [{ bindings: [varBinding(a, relu(x)), varBinding(a, relu(x))] }], a, f32([n, 4])) });
    expect(problems(m)).toEqual(["function 'main', binding 'a': variable 'a' is bound twice"]);
  });

  test('a parameter rebound', () => {
    const m = bad({ main: mainWith(x, [{ bindings: [varBinding(x, relu(x))] }], x, f32([n, 4])) });
    expect(problems(m)).toEqual(["function 'main', binding 'x': variable 'x' is bound twice"]);
  });

  test('a dataflow variable used after its block, and returned', () => {
    const lv = graphVar('lv', f32([n, 4]), true);
    const a = graphVar('a', f32([n, 4]));
    const m = bad({
      main: mainWith(
        x,
        [{ dataflow: true, bindings: [varBinding(lv, relu(x))] }, { bindings: [varBinding(a, relu(lv))] }],
        lv,
        f32([n, 4]),
      ),
    });
    expect(problems(m)).toEqual([
      "function 'main', binding 'a': dataflow variable 'lv' is used outside its dataflow block",
      "function 'main': dataflow variable 'lv' is used outside its dataflow block",
    ]);
  });

  test('a dataflow variable bound outside a dataflow block', () => {
    const lv = graphVar('lv', f32([n, 4]), true);
    const m = bad({ main: mainWith(x, [{ bindings: [varBinding(lv, relu(x))] }], x, f32([n, 4])) });
    expect(problems(m)).toEqual(["function 'main', binding 'lv': dataflow variable 'lv' is bound outside a dataflow block"]);
  });

  test('calls that are not in A-normal form', () => {
    const a = graphVar('a', f32([n, 4]));
    const t = graphVar('t', tupleSI([f32([n, 4]), f32([n, 4])]));
    const g = graphVar('g', f32([n, 4]));
    const h = graphVar('h', f32([n, 4]));
    const m = bad({
      main: mainWith(
        x,
        [
          {
            bindings: [
              varBinding(a, relu(relu(x))),
              varBinding(t, tuple([x, relu(x)])),
              varBinding(g, tupleGet(tuple([x, relu(x)]), 0)),
              varBinding(h, tupleGet(globalCall('main', [x]), 0)),
            ],
          },
        ],
        relu(a),
        f32([n, 4]),
      ),
    });
    const leaves = 'variables, constants, shapes, prim values, strings or tuples of those';
    expect(problems(m)).toEqual([
      `function 'main', binding 'a': arguments of relu must be ${leaves}`,
      `function 'main', binding 't': the fields of a tuple must be ${leaves}`,
      `function 'main', binding 'g': the fields of a tuple must be ${leaves}`,
      `function 'main', binding 'h': the tuple of a tuple index must be one of ${leaves}`,
      `function 'main': the result of a sequence must be one of ${leaves}`,
    ]);
  });

  test('symbolic variables that no parameter or match_cast defines', () => {
    const m = primVar('m');
    const a = graphVar('a', f32([m, 4]));
    const s = graphVar('s', { kind: 'shape', values: [m], ndim: 1 });
    const p = graphVar('p', primSI('int64', add(n, m)));
    const y = graphVar('y', f32([m, 4]));
    const z = graphVar('z', f32([m, 4]));
    const ok = bad({
      main: mainWith(
        x,
        [
          {
            bindings: [
              varBinding(a, x),
              varBinding(s, shapeExpr([m])),
              varBinding(p, primValue(add(n, m))),
              // After the match_cast, m is defined.
              matchCast(y, x),
              varBinding(z, relu(y)),
            ],
          },
        ],
        z,
        tensorSI(2, 'float32'),
      ),
    });
    const msg = "symbolic variable 'm' is not defined by a parameter or a match_cast";
    expect(problems(ok)).toEqual([
      `function 'main', binding 'a': ${msg}`,
      `function 'main', binding 's': ${msg}`,
      `function 'main', binding 's': ${msg}`,
      `function 'main', binding 'p': ${msg}`,
      `function 'main', binding 'p': ${msg}`,
    ]);
    // The return type is checked before the body: m is not defined there.
    const ret = bad({ main: mainWith(x, [], x, f32([m, 4])) });
    expect(problems(ret)).toEqual([`function 'main': ${msg}`]);
  });

  test('annotations contradicting what the value is', () => {
    const a = graphVar('a', tensorSI([n, 4], 'float16'));
    const b = graphVar('b', f32([n, 5]));
    const c = graphVar('c', f32([3, 4]));
    const d = graphVar('d', f32([n, 4]));
    const m = bad({
      main: mainWith(
        x,
        [
          {
            bindings: [
              // inferred by the operator: f32 (n, 4)
              varBinding(a, relu(x)),
              varBinding(b, opCall('add', [x, x])),
              // declared by call_tir: (n, 4) is not provably different from (3, 4)...
              varBinding(c, callTIR('k', [x], tensorSI([n, 4], 'float32'))),
              // ...but a rank is.
              varBinding(d, callTIR('k', [x], tensorSI([n], 'float32'))),
            ],
          },
        ],
        d,
        f32([n, 4]),
      ),
      k: primFunc([buffer('A', [n, 4]), buffer('B', [n, 4])], seq([])),
    });
    const all = problems(m);
    expect(all).toContain("function 'main', binding 'a': annotated Tensor[(n, 4), f16] but the value is Tensor[(n, 4), f32]");
    expect(all).toContain("function 'main', binding 'b': annotated Tensor[(n, 5), f32] but the value is Tensor[(n, 4), f32]");
    expect(all).toContain("function 'main', binding 'd': annotated Tensor[(n, 4), f32] but the value is Tensor[(n,), f32]");
    expect(all.some((p) => p.includes("binding 'c'"))).toBe(false);
    // Without operator inference only the calls that declare their outputs are checked.
    expect(problems(m, {}).filter((p) => p.includes('annotated'))).toEqual([
      "function 'main', binding 'd': annotated Tensor[(n, 4), f32] but the value is Tensor[(n,), f32]",
    ]);
  });

  test('operator inference failing is reported at the binding', () => {
    const y = graphVar('y', f32([n, 3]));
    const a = graphVar('a', f32([n, 4]));
    const m = bad({
      main: graphFunc([x, y], seqExpr([bindingBlock([varBinding(a, opCall('add', [x, y]))])], a), f32([n, 4])),
    });
    const all = problems(m);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatch(/^function 'main', binding 'a': add: /);
    expect(all[0]).not.toContain('K3');
  });

  test('call_tir of a missing function, of a graph function, and with the wrong arity', () => {
    const kernel = primFunc([buffer('A', [n, 4]), buffer('B', [n, 4])], seq([]));
    const a = graphVar('a', f32([n, 4]));
    const b = graphVar('b', f32([n, 4]));
    const c = graphVar('c', f32([n, 4]));
    const out = tensorSI([n, 4], 'float32');
    const m = bad({
      kernel,
      main: mainWith(
        x,
        [
          {
            bindings: [
              varBinding(a, callTIR('missing', [x], out)),
              varBinding(b, callTIR('main', [x], out)),
              varBinding(c, callTIR('kernel', [x, x], out)),
            ],
          },
        ],
        c,
        f32([n, 4]),
      ),
    });
    expect(problems(m)).toEqual([
      "function 'main', binding 'a': call_tir of 'missing', which is not a prim_func of the module",
      "function 'main', binding 'b': call_tir of 'main', which is not a prim_func of the module",
      "function 'main', binding 'c': call_tir of 'kernel' passes 2 inputs, 1 outputs and 0 tir_vars, but it has 2 parameters",
    ]);
  });

  test('call_tir arguments that do not fit the buffers of the prim_func', () => {
    const m = primVar('m');
    const t32 = (shape: readonly (number | PrimExpr)[]) => tensorSI(shape, 'float32');
    const kernel = primFunc([buffer('A', [n, 4]), buffer('B', [n, 8]), buffer('C', [n, 4])], seq([]));
    const x8 = graphVar('x8', t32([n, 8]));
    const y = graphVar('y', tensorSI([m, 4], 'int32'));
    const z = graphVar('z', t32([n, 4, 1]));
    const w = graphVar('w', t32([n, 3]));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => graphVar(name, t32([n, 4])));
    const e = graphVar('e', t32([add(n, 1), 4]));
    const mod = bad({
      kernel,
      main: graphFunc(
        [x, x8, y, z, w],
        seqExpr(
          [
            bindingBlock([
              varBinding(a!, callTIR('kernel', [x, x8], t32([n, 4]))), // fits
              varBinding(b!, callTIR('kernel', [y, x8], t32([n, 4]))),
              varBinding(c!, callTIR('kernel', [z, x8], t32([n, 4]))),
              varBinding(d!, callTIR('kernel', [x, w], t32([n, 4]))),
              varBinding(e, callTIR('kernel', [x, x8], t32([add(n, 1), 4]))),
            ]),
          ],
          e,
        ),
        t32([add(n, 1), 4]),
      ),
    });
    expect(problems(mod, {})).toEqual([
      "function 'main', binding 'b': call_tir of 'kernel': argument 1 is Tensor[(m, 4), i32], but buffer 'A' (f32[n, 4]) has dtype f32",
      "function 'main', binding 'c': call_tir of 'kernel': argument 1 is Tensor[(n, 4, 1), f32], but buffer 'A' (f32[n, 4]) has 2 dimensions",
      "function 'main', binding 'd': call_tir of 'kernel': argument 2 is Tensor[(n, 3), f32], but buffer 'B' (f32[n, 8]) needs 8 for dimension 1, not 3",
      "function 'main', binding 'e': call_tir of 'kernel': output 1 is Tensor[(n + 1, 4), f32], but buffer 'C' (f32[n, 4]) needs n for dimension 0, not n + 1",
    ]);
  });

  test('dimensions that are not integers, are negative, or count more than 2^53 elements', () => {
    const half = graphVar('p', tensorSI([floatImm(0.5, 'float32'), 4], 'float32'));
    const negative = graphVar('q', tensorSI([intImm(-3, 'int64'), 4], 'float32'));
    const huge = graphVar('r', tensorSI([1e8, 1e8, 1e8], 'float32'));
    const mod = bad({ main: graphFunc([half, negative, huge], seqExpr([], half), half.sinfo) });
    expect(problems(mod, {})).toEqual([
      "function 'main': Tensor[(0.5, 4), f32]: dimension 0.5 is not an integer (it is float32)",
      "function 'main': Tensor[(-3, 4), f32]: dimension -3 is negative",
      "function 'main': Tensor[(100000000, 100000000, 100000000), f32]: 1.00e+24 elements, more than 2^53",
      "function 'main': Tensor[(0.5, 4), f32]: dimension 0.5 is not an integer (it is float32)",
    ]);
    const kernel = primFunc([buffer('A', [intImm(-1, 'int64')])], seq([]));
    expect(problems(bad({ kernel }), {})).toEqual(["prim_func 'kernel': buffer 'A': dimension -1 is negative"]);
  });

  test('call_global of a missing function, of a prim_func, and with the wrong arity', () => {
    const kernel = primFunc([buffer('A', [n, 4])], seq([]));
    const y = graphVar('y', f32([n, 4]));
    const helper = graphFunc([y], seqExpr([], y), f32([n, 4]));
    const a = graphVar('a', f32([n, 4]));
    const b = graphVar('b', f32([n, 4]));
    const c = graphVar('c', f32([n, 4]));
    const m = bad({
      kernel,
      helper,
      main: mainWith(
        x,
        [
          {
            bindings: [
              varBinding(a, globalCall('nothing', [x])),
              varBinding(b, globalCall('kernel', [x])),
              varBinding(c, globalCall('helper', [x, x])),
            ],
          },
        ],
        c,
        f32([n, 4]),
      ),
    });
    expect(problems(m)).toEqual([
      "function 'main', binding 'a': call of unknown function '@nothing'",
      "function 'main', binding 'b': '@kernel' is a prim_func; call it with call_tir",
      "function 'main', binding 'c': '@helper' takes 1 arguments, 2 given",
    ]);
  });

  test('tuple indices out of range, and of values that are not tuples', () => {
    const t = graphVar('t', tupleSI([f32([n, 4]), f32([n, 4])]));
    const a = graphVar('a', f32([n, 4]));
    const b = graphVar('b', f32([n, 4]));
    const c = graphVar('c', f32([n, 4]));
    const m = bad({
      main: mainWith(
        x,
        [
          {
            bindings: [
              varBinding(t, tuple([x, x])),
              varBinding(a, tupleGet(t, 2)),
              varBinding(b, tupleGet(x, 0)),
              varBinding(c, tupleGet(t, -1)),
            ],
          },
        ],
        x,
        f32([n, 4]),
      ),
    });
    expect(problems(m)).toEqual([
      "function 'main', binding 'a': tuple index 2 is out of range for a tuple of 2",
      "function 'main', binding 'b': tuple index [0] of a value that is not a tuple",
      "function 'main', binding 'c': tuple index -1 is out of range for a tuple of 2",
    ]);
  });

  test('an if whose condition is not a bool scalar; variables of a branch stay in it', () => {
    const c = graphVar('c', primSI('int64'));
    const q = graphVar('q', f32([n, 4]));
    const r = graphVar('r', f32([n, 4]));
    const s = graphVar('s', f32([n, 4]));
    const k = primVar('k');
    const y = graphVar('y', f32([k, 4]));
    const t = graphVar('t', f32([k, 4]));
    const branch = seqExpr([bindingBlock([varBinding(q, relu(x)), matchCast(y, q)])], q);
    const m = bad({
      main: graphFunc(
        [x, c],
        seqExpr([bindingBlock([varBinding(r, ifExpr(c, branch, seqExpr([], x))), varBinding(s, relu(q)), varBinding(t, x)])], s),
        f32([n, 4]),
      ),
    });
    expect(problems(m)).toEqual([
      "function 'main', binding 'r': the condition of if must be a bool scalar, found Prim[i64]",
      "function 'main', binding 's': variable 'q' is used before it is defined",
      "function 'main', binding 't': symbolic variable 'k' is not defined by a parameter or a match_cast",
    ]);
  });

  test('an if inside a dataflow block', () => {
    const c = graphVar('c', primSI('bool'));
    const r = graphVar('r', f32([n, 4]));
    const m = bad({
      main: graphFunc(
        [x, c],
        seqExpr([bindingBlock([varBinding(r, ifExpr(c, seqExpr([], x), seqExpr([], x)))], true)], r),
        f32([n, 4]),
      ),
    });
    expect(problems(m)).toEqual(["function 'main', binding 'r': an if cannot be in a dataflow block"]);
  });

  test('a result that does not match the declared return type', () => {
    const m = bad({ main: mainWith(x, [], x, tensorSI([n, 4], 'float16')) });
    expect(problems(m)).toEqual(["function 'main': returns Tensor[(n, 4), f32] but is declared to return Tensor[(n, 4), f16]"]);
    const unknown = bad({ main: mainWith(x, [], x, f32([primVar('n'), 4])) });
    expect(problems(unknown)).toEqual(["function 'main': symbolic variable 'n' is not defined by a parameter or a match_cast"]);
  });
});

// --- PrimFuncs ----------------------------------------------------------------------------

describe('PrimFuncs', () => {
  const A = buffer('A', [n, 4]);
  const B = buffer('B', [n, 4]);

  test('a loop variable used after its loop or inside a block, and a block iterator outside its block', () => {
    const i = primVar('i');
    const j = primVar('j');
    const vi = primVar('vi');
    const body = seq([
      forLoop(
        i,
        0,
        n,
        forLoop(
          j,
          0,
          4,
          blockRealize(
            [i, j],
            block({
              name: 'b',
              iterVars: [iterVar(vi, range(0, n), 'spatial'), iterVar(primVar('vj'), range(0, 4), 'spatial')],
              body: store(B, [vi, j], floatImm(1)),
            }),
          ),
        ),
      ),
      store(B, [i, 0], floatImm(0)),
      store(B, [vi, 0], floatImm(0)),
    ]);
    expect(problems(bad({ f: primFunc([A, B], body) }))).toEqual([
      "prim_func 'f', block 'b': loop variable 'j' is used inside a block; blocks see the loops around them only through their iterators",
      "prim_func 'f': variable 'i' is used outside the scope that defines it",
      "prim_func 'f': variable 'vi' is used outside the scope that defines it",
    ]);
  });

  test('a variable defined twice, by sibling loops or nested ones', () => {
    const i = primVar('i');
    const body = seq([
      forLoop(i, 0, n, store(B, [i, 0], floatImm(0))),
      forLoop(i, 0, n, forLoop(i, 0, 4, store(B, [i, 0], floatImm(0)))),
    ]);
    expect(problems(bad({ f: primFunc([A, B], body) }))).toEqual([
      "prim_func 'f', loop 'i': variable 'i' is defined twice (every loop, iterator and let needs a variable of its own)",
      "prim_func 'f', loop 'i': variable 'i' is defined twice (every loop, iterator and let needs a variable of its own)",
    ]);
  });

  test('buffers that are neither parameters nor allocated, and allocs used past their scope', () => {
    const C = buffer('C', [4]);
    const T = buffer('T', [4]);
    const body = seq([
      store(C, [0], load(A, [0, 0])),
      store(B, [0, 0], load(C, [1])),
      allocate(T, store(T, [0], floatImm(1))),
      store(B, [0, 1], load(T, [0])),
    ]);
    expect(problems(bad({ f: primFunc([A, B], body) }))).toEqual([
      "prim_func 'f': buffer 'C' is written but not declared (a parameter or an alloc)",
      "prim_func 'f': buffer 'C' is read but not declared (a parameter or an alloc)",
      "prim_func 'f': buffer 'T' is read but not declared (a parameter or an alloc)",
    ]);
  });

  test('index counts, store types, let types, if conditions and block predicates', () => {
    const i = primVar('i');
    const t = primVar('t', 'float32');
    // The factories refuse a load with the wrong index count; build one by hand.
    const shortLoad = { kind: 'load' as const, dtype: 'float32' as const, buffer: A, indices: [intImm(0)] };
    const vi = primVar('vi');
    const body = seq([
      store(B, [0], shortLoad),
      store(B, [0, 0], intImm(1, 'int32')),
      letStmt(t, intImm(1), store(B, [0, 0], t)),
      ifThenElse(intImm(1), store(B, [0, 0], floatImm(0))),
      forLoop(
        i,
        0,
        n,
        blockRealize(
          [i],
          block({ name: 'p', iterVars: [iterVar(vi, range(0, n), 'spatial')], body: store(B, [vi, 0], floatImm(0)) }),
          cast('int32', i),
        ),
      ),
    ]);
    expect(problems(bad({ f: primFunc([A, B], body) }))).toEqual([
      "prim_func 'f': buffer 'B' has 2 dimensions but is written with 1 indices",
      "prim_func 'f': buffer 'A' has 2 dimensions but is read with 1 indices",
      "prim_func 'f': a i32 value is stored into f32 buffer 'B'",
      "prim_func 'f': let 't' has type f32 but its value i64",
      "prim_func 'f': an if condition must be bool, found i64",
      "prim_func 'f', block 'p': the predicate must be bool, found i32",
    ]);
  });

  test("a block's predicate is over the loops outside it, not over its own iterators", () => {
    const i = primVar('i');
    const vi = primVar('vi');
    const realize = (pred: ReturnType<typeof lt>) =>
      forLoop(
        i,
        0,
        n,
        blockRealize(
          [i],
          block({ name: 'b', iterVars: [iterVar(vi, range(0, n), 'spatial')], body: store(B, [vi, 0], floatImm(0)) }),
          pred,
        ),
      );
    expect(problems(irModule({ f: primFunc([A, B], realize(lt(i, 7))) }))).toEqual([]);
    expect(problems(bad({ f: primFunc([A, B], realize(lt(vi, 7))) }))).toEqual([
      "prim_func 'f', block 'b': variable 'vi' is used outside the scope that defines it",
    ]);
  });

  test('duplicate block names, iterator counts and region shapes', () => {
    const i = primVar('i');
    const j = primVar('j');
    const mk = (name: string, loop: typeof i, extra: Partial<Parameters<typeof block>[0]> = {}) => {
      const vi = primVar('vi');
      return forLoop(
        loop,
        0,
        n,
        blockRealize(
          [loop],
          block({ name, iterVars: [iterVar(vi, range(0, n), 'spatial')], body: store(B, [vi, 0], floatImm(0)), ...extra }),
        ),
      );
    };
    const k = primVar('k');
    const noValues = blockRealize(
      [],
      block({ name: 'c', iterVars: [iterVar(primVar('vk'), range(0, 4), 'spatial')], body: seq([]) }),
    );
    const badRegion = forLoop(
      k,
      0,
      4,
      blockRealize(
        [k],
        block({
          name: 'd',
          iterVars: [iterVar(primVar('vk'), range(0, 4), 'spatial')],
          reads: [{ buffer: A, region: [range(0, n)] }],
          body: seq([]),
        }),
      ),
    );
    const m = bad({ f: primFunc([A, B], seq([mk('b', i), mk('b', j), noValues, badRegion])) });
    expect(problems(m)).toEqual([
      "prim_func 'f', block 'b': block name 'b' is used twice (schedules find blocks by name)",
      "prim_func 'f', block 'c': 1 iterators but 0 bound values",
      "prim_func 'f', block 'd': region of 'A' has 1 dimensions, the buffer 2",
    ]);
  });

  test('thread_binding without a tag, a tag on a serial loop, and range types', () => {
    const i = primVar('i');
    const j = primVar('j');
    const k = primVar('k', 'int32');
    const untagged = forLoop(i, 0, n, store(B, [i, 0], floatImm(0)), { forKind: 'thread_binding' });
    const serial = { ...forLoop(j, 0, n, store(B, [j, 0], floatImm(0))), thread: 'threadIdx.x' as const };
    const mistyped = forLoop(k, 0, 4, store(B, [0, 0], floatImm(0)));
    expect(problems(bad({ f: primFunc([A, B], seq([untagged, serial, mistyped])) }))).toEqual([
      "prim_func 'f', loop 'i': a thread tag is given exactly for thread_binding loops",
      "prim_func 'f', loop 'j': a thread tag is given exactly for thread_binding loops",
      "prim_func 'f', loop 'k': the range has type i64 but the variable i32",
    ]);
  });

  test('messages name the innermost block and loop', () => {
    const i = primVar('i');
    const k = primVar('k');
    const vi = primVar('vi');
    const C = buffer('C', [4]);
    const body = forLoop(
      i,
      0,
      n,
      blockRealize(
        [i],
        block({
          name: 'outer',
          iterVars: [iterVar(vi, range(0, n), 'spatial')],
          body: forLoop(k, 0, 4, store(C, [k], floatImm(0))),
        }),
      ),
    );
    expect(problems(bad({ f: primFunc([A, B], body) }))).toEqual([
      "prim_func 'f', block 'outer', loop 'k': buffer 'C' is written but not declared (a parameter or an alloc)",
    ]);
  });
});

// --- all problems at once ----------------------------------------------------------------------

test('every problem of a module is reported at once, and assertWellFormed throws them all', () => {
  const x = graphVar('x', f32([n, 4]));
  const a = graphVar('a', f32([n, 4]));
  const lv = graphVar('lv', f32([n, 4]), true);
  const main = mainWith(
    x,
    [{ bindings: [varBinding(a, opCall('relu', [opCall('relu', [x])])), varBinding(lv, x)] }],
    lv,
    tensorSI([n, 4], 'float16'),
  );
  const i = primVar('i');
  const B = buffer('B', [4]);
  const kernel = primFunc([B], seq([forLoop(i, 0, 4, store(B, [i], floatImm(0))), store(B, [i], mul(floatImm(2), floatImm(3)))]));
  const m = bad({ main, kernel });
  const all = problems(m);
  expect(all).toEqual([
    "prim_func 'kernel': variable 'i' is used outside the scope that defines it",
    "function 'main', binding 'a': arguments of relu must be variables, constants, shapes, prim values, strings or tuples of those",
    "function 'main', binding 'lv': dataflow variable 'lv' is bound outside a dataflow block",
    "function 'main': dataflow variable 'lv' is used outside its dataflow block",
    "function 'main': returns Tensor[(n, 4), f32] but is declared to return Tensor[(n, 4), f16]",
  ]);
  let thrown: unknown;
  try {
    assertWellFormed(m, { inferOp: inferOpCall });
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(KilnError);
  expect((thrown as KilnError).diagnostics.map((d) => d.message)).toEqual(all);
  expect((thrown as KilnError).message).toContain("error K2001: prim_func 'kernel'");
});
