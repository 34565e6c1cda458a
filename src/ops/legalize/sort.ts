/**
 * Legalizations of sort, argsort and topk: a hand-written, stable, bottom-up
 * merge sort of each row's positions along the axis (O(n log n)), then a
 * gather of the values and/or positions in sorted order (topk keeps the
 * first k). NaN counts as larger than every number, as in numpy and PyTorch:
 * last in ascending order, first in descending order and in topk's largest.
 */
import type { Tensor } from '../../ir/builder/te.ts';
import { isFloat } from '../../ir/dtype.ts';
import {
  add,
  and,
  call,
  castIfNeeded,
  eq,
  floordiv,
  floormod,
  ge,
  gt,
  intImm,
  load,
  lt,
  min,
  mul,
  not,
  or,
  type PrimExpr,
  type PrimVar,
  primVar,
  sub,
} from '../../ir/prim/expr.ts';
import { type Buffer, buffer } from '../../ir/tir/buffer.ts';
import { allocate, forLoop, ifThenElse, letStmt, seq, type Stmt, store } from '../../ir/tir/stmt.ts';
import { normAxis } from './common.ts';
import { defineLegalization, type HandWritten, type LegalizeCall } from './registry.ts';

/** Enough merge passes for rows of up to 2^53 elements, every length an index holds exactly. */
const MAX_PASSES = 53;

const I64 = 'int64';
const int = (v: number): PrimExpr => intImm(v, I64);

/** Whether key `a` goes strictly before key `b`: ties keep their order, so the sort is stable. */
function before(a: PrimExpr, b: PrimExpr, descending: boolean): PrimExpr {
  const strict = descending ? gt(a, b) : lt(a, b);
  if (!isFloat(a.dtype)) return strict;
  const nanA = call('isnan', [a]);
  const nanB = call('isnan', [b]);
  return or(strict, descending ? and(nanA, not(nanB)) : and(not(nanA), nanB));
}

/**
 * Loops over the rows of `shape` along `axis` (every index but the axis');
 * `body` gets the full index of a row's element `k`.
 */
function forEachRow(shape: readonly PrimExpr[], axis: number, body: (at: (k: PrimExpr) => PrimExpr[]) => Stmt): Stmt {
  const vars = shape.map((d, i) => primVar(`i${i}`, d.dtype));
  let s = body((k) => vars.map((v, i) => (i === axis ? k : v)));
  for (let i = shape.length - 1; i >= 0; i--) {
    if (i !== axis) s = forLoop(vars[i]!, intImm(0, shape[i]!.dtype), shape[i]!, s);
  }
  return s;
}

function forRange(name: string, lo: PrimExpr, extent: PrimExpr, body: (k: PrimVar) => Stmt): Stmt {
  const k = primVar(name, extent.dtype);
  return forLoop(k, lo, extent, body(k));
}

/** `let v = value in body(v)`, with a fresh variable. */
function bind(name: string, value: PrimExpr, body: (v: PrimVar) => Stmt): Stmt {
  const v = primVar(name, value.dtype);
  return letStmt(v, value, body(v));
}

interface Row {
  /** The full index of the row's element k. */
  readonly at: (k: PrimExpr) => PrimExpr[];
  readonly n: PrimExpr;
}

/**
 * One pass of the merge sort of a row: merges each pair of adjacent sorted
 * runs of `width` positions of `src` into `dst`. `state` holds the two read
 * cursors of the merge (the left and the right run).
 */
function mergePass(
  row: Row,
  key: (position: PrimExpr) => PrimExpr,
  descending: boolean,
  src: Buffer,
  dst: Buffer,
  state: Buffer,
  width: PrimExpr,
): Stmt {
  const { at, n } = row;
  const runs = floordiv(add(n, sub(mul(width, 2), 1)), mul(width, 2));
  return forRange('r', int(0), runs, (r) =>
    bind('lo', mul(r, mul(width, 2)), (lo) =>
      bind('mid', min(add(lo, width), n), (mid) =>
        bind('hi', min(add(lo, mul(width, 2)), n), (hi) =>
          seq([
            store(state, [0], lo),
            store(state, [1], mid),
            forRange('k', lo, sub(hi, lo), (k) =>
              bind('a', load(state, [0]), (a) =>
                bind('b', load(state, [1]), (b) => {
                  const take = (cursor: 0 | 1, from: PrimExpr): Stmt =>
                    seq([store(dst, at(k), load(src, at(from))), store(state, [cursor], add(from, 1))]);
                  // The right run's element goes first only when strictly before the left one's.
                  const rightFirst = before(key(load(src, at(b))), key(load(src, at(a))), descending);
                  return ifThenElse(
                    ge(b, hi),
                    take(0, a),
                    ifThenElse(ge(a, mid), take(1, b), ifThenElse(rightFirst, take(1, b), take(0, a))),
                  );
                }),
              ),
            ),
          ]),
        ),
      ),
    ),
  );
}

/**
 * Writes into `order` (int64, the shape of `data`) each row's positions along
 * `axis` in stably sorted order of their values; `scratch` is a second buffer
 * of that shape. The merge passes alternate between the two buffers; when
 * the last one wrote `scratch`, its result is copied back.
 */
function sortRows(data: Tensor, axis: number, descending: boolean, order: Buffer, scratch: Buffer, state: Buffer): Stmt {
  const n = data.shape[axis]!;
  return forEachRow(data.shape, axis, (at) => {
    const row: Row = { at, n };
    const key = (position: PrimExpr): PrimExpr => data.at(...at(position));
    const iota = forRange('k', int(0), n, (k) => store(order, at(k), k));
    const copyBack = forRange('k', int(0), n, (k) => store(order, at(k), load(scratch, at(k))));
    // state[2] is the run width, doubled by every pass until a single run covers the row.
    const passes = forRange('p', int(0), int(MAX_PASSES), (p) =>
      bind('width', load(state, [2]), (width) => {
        const even = eq(floormod(p, 2), 0);
        const merge = ifThenElse(
          even,
          mergePass(row, key, descending, order, scratch, state, width),
          mergePass(row, key, descending, scratch, order, state, width),
        );
        const last = ge(mul(width, 2), n);
        return ifThenElse(lt(width, n), seq([merge, ifThenElse(and(last, even), copyBack), store(state, [2], mul(width, 2))]));
      }),
    );
    return seq([iota, store(state, [2], int(1)), passes]);
  });
}

/**
 * Sorts the rows of `data` along `axis`, then runs `emit` over the first
 * `count` sorted positions of each row (`position(k)` is the k-th one).
 */
function sorted(
  data: Tensor,
  axis: number,
  descending: boolean,
  count: PrimExpr,
  emit: (at: (k: PrimExpr) => PrimExpr[], k: PrimVar, position: PrimExpr) => Stmt,
): Stmt {
  const order = buffer('sort_order', data.shape, I64);
  const scratch = buffer('sort_scratch', data.shape, I64);
  // Cursors and run width of the merge; one set per thread once the rows are run in parallel.
  const state = buffer('sort_state', [3], I64, { scope: 'local' });
  const gather = forEachRow(data.shape, axis, (at) => forRange('k', int(0), count, (k) => emit(at, k, load(order, at(k)))));
  const body = seq([sortRows(data, axis, descending, order, scratch, state), gather]);
  return allocate(order, allocate(scratch, allocate(state, body)));
}

function handWritten(outputs: readonly Buffer[], body: Stmt): HandWritten {
  return { kind: 'tir', outputs, body };
}

defineLegalization('sort', (c) => {
  const x = c.tensor('data');
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  const out = buffer('T_sort', c.outShape(), c.outDtype());
  const body = sorted(x, axis, c.attr<boolean>('descending'), x.shape[axis]!, (at, k, position) =>
    store(out, at(k), x.at(...at(position))),
  );
  return handWritten([out], body);
});

defineLegalization('argsort', (c) => {
  const x = c.tensor('data');
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  const out = buffer('T_argsort', c.outShape(), c.outDtype());
  const body = sorted(x, axis, c.attr<boolean>('descending'), x.shape[axis]!, (at, k, position) =>
    store(out, at(k), castIfNeeded(out.dtype, position)),
  );
  return handWritten([out], body);
});

defineLegalization('topk', (c: LegalizeCall) => {
  const x = c.tensor('data');
  const axis = normAxis(c.attr<number>('axis'), x.shape.length);
  const retType = c.attr<string>('ret_type');
  const k = c.outShape(0)[axis]!;
  // Results in the order of the call's fields: (values, indices), or the one asked for.
  const values = retType === 'indices' ? undefined : buffer('T_topk_values', c.outShape(0), c.outDtype(0));
  const indicesAt = retType === 'both' ? 1 : 0;
  const indices = retType === 'values' ? undefined : buffer('T_topk_indices', c.outShape(indicesAt), c.outDtype(indicesAt));
  const body = sorted(x, axis, c.attr<boolean>('largest'), k, (at, j, position) =>
    seq([
      ...(values ? [store(values, at(j), x.at(...at(position)))] : []),
      ...(indices ? [store(indices, at(j), castIfNeeded(indices.dtype, position))] : []),
    ]),
  );
  return handWritten(
    [values, indices].filter((b): b is Buffer => b !== undefined),
    body,
  );
});
