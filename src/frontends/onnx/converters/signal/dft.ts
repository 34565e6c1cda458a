/**
 * DFT and STFT as products with a constant matrix. A transform of length L
 * over n input samples (real, or complex as a trailing dim of 2) is one
 * matmul of the samples, flattened with their real and imaginary parts, by
 * a [n * c, 2 * K] matrix of cosines and sines computed in float64 at
 * import (K the bins kept: L, or L / 2 + 1 when onesided). The lengths fix
 * the output's shape, so they are known at import time. A direct product
 * costs n * K multiply-adds per transform, which suits the short frames of
 * speech features and STFT windows, and runs on every target as a matmul.
 */
import { add, floordiv, mul, type PrimExpr, sub } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import type { Value } from '../../values.ts';
import { castTo, dtypeOf, idx, reshape, staticDims } from '../nn/common.ts';
import { defineConverter } from '../registry.ts';
import { knownCount, knownScalar } from './common.ts';

interface Transform {
  /** Input samples read (the rest of a longer input is cut, a shorter one is zero-padded). */
  readonly samples: number;
  /** 1 for real input, 2 for complex. */
  readonly parts: number;
  readonly length: number;
  readonly bins: number;
  readonly inverse: boolean;
}

/**
 * The [samples * parts, bins * 2] matrix: bin k of sample n turns by
 * e^(∓2πi nk / L) (minus forward, plus inverse, which also divides by L).
 * The angle is reduced mod L in integers first so that large n * k loses
 * nothing.
 */
function dftMatrix(t: Transform): number[] {
  const sign = t.inverse ? 1 : -1;
  const scale = t.inverse ? 1 / t.length : 1;
  const cols = 2 * t.bins;
  const m = new Array<number>(t.samples * t.parts * cols).fill(0);
  for (let n = 0; n < t.samples; n++) {
    for (let k = 0; k < t.bins; k++) {
      const theta = (2 * Math.PI * ((n * k) % t.length)) / t.length;
      const c = Math.cos(theta) * scale;
      const s = sign * Math.sin(theta) * scale;
      // (a + ib)(cos + i s) = (a cos - b s) + i (a s + b cos)
      const re = n * t.parts * cols + 2 * k;
      m[re] = c;
      m[re + 1] = s;
      if (t.parts === 2) {
        m[re + cols] = -s;
        m[re + cols + 1] = c;
      }
    }
  }
  return m;
}

/** Transforms `x`, whose last two dims are [n, parts] (n >= samples): the result ends in [bins, 2]. */
function transformLast(ctx: NodeContext, x: Value, dims: readonly PrimExpr[], t: Transform): Value {
  const lead = dims.slice(0, -2);
  let v = x;
  if (!ctx.analyzer.proveEqual(dims[dims.length - 2]!, idx(t.samples))) {
    v = ctx.op('strided_slice', [v, ctx.shapeArg([0]), ctx.shapeArg([t.samples])], { axes: [dims.length - 2] });
  }
  const dtype = dtypeOf(x);
  const flat = reshape(ctx, v, [...lead, idx(t.samples * t.parts)]);
  const w = ctx.constant(dtype, [t.samples * t.parts, 2 * t.bins], dftMatrix(t));
  return reshape(ctx, ctx.op('matmul', [flat, w]), [...lead, idx(t.bins), idx(2)]);
}

/** The trailing dim of a signal: 1 (real) or 2 (complex). */
function partsOf(ctx: NodeContext, dims: readonly PrimExpr[]): number {
  const c = staticDims(ctx, dims.slice(-1))?.[0];
  if (c !== 1 && c !== 2) return ctx.fail('the last dim of the input must be 1 (real) or 2 (complex)');
  return c;
}

function requireFloat(ctx: NodeContext): void {
  const d = ctx.dtype(0);
  if (!['float16', 'bfloat16', 'float32', 'float64'].includes(d)) ctx.fail(`input of ${d} is not supported; DFT takes floats`);
}

defineConverter('DFT', (ctx) => {
  requireFloat(ctx);
  const dims = ctx.shape(0);
  const rank = dims.length;
  const parts = partsOf(ctx, dims);
  // Opset 20 moved axis from an attribute (default 1) to an input (default -2).
  const rawAxis = ctx.opset >= 20 ? (ctx.has(2) ? knownScalar(ctx, 2, 'axis') : -2) : ctx.attr.int('axis', 1);
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (!Number.isInteger(axis) || axis < 0 || axis > rank - 2) {
    return ctx.fail(`axis ${rawAxis} is not a signal axis of an input of rank ${rank} (the last dim holds the parts)`);
  }
  const n = staticDims(ctx, [dims[axis]!])?.[0];
  if (n === undefined) return ctx.fail(`the length of axis ${axis} must be static to build the transform`);
  const length = ctx.has(1) ? knownCount(ctx, 1, 'dft_length', 1) : n;
  const onesided = ctx.attr.int('onesided', 0) === 1;
  const inverse = ctx.attr.int('inverse', 0) === 1;
  const t: Transform = {
    samples: Math.min(n, length),
    parts,
    length,
    bins: onesided ? Math.floor(length / 2) + 1 : length,
    inverse,
  };
  // The transformed axis goes next to the parts, and back after.
  const last = rank - 2;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm.splice(axis, 1);
  perm.splice(last, 0, axis);
  const moved = axis === last ? ctx.input(0) : ctx.op('permute_dims', [ctx.input(0)], { axes: perm });
  const y = transformLast(
    ctx,
    moved,
    perm.map((p) => dims[p]!),
    t,
  );
  if (axis === last) return y;
  const back = Array.from({ length: rank }, (_, i) => perm.indexOf(i));
  return ctx.op('permute_dims', [y], { axes: back });
});

/**
 * STFT: frames of frame_length samples every frame_step samples of a
 * [batch, length, parts] signal, each multiplied by the window when given,
 * transformed: [batch, frames, bins, 2]. The frames are gathered by index
 * (frame t, sample l reads t * step + l), so a symbolic signal length works.
 */
defineConverter('STFT', (ctx) => {
  requireFloat(ctx);
  const dims = ctx.shape(0);
  if (dims.length !== 3) return ctx.fail(`the signal has rank ${dims.length}; STFT takes [batch, length, 1 or 2]`);
  const parts = partsOf(ctx, dims);
  const step = knownCount(ctx, 1, 'frame_step', 1);
  const windowLength = ctx.has(2) ? staticDims(ctx, ctx.shape(2)) : undefined;
  if (ctx.has(2) && (!windowLength || windowLength.length !== 1)) return ctx.fail('the window must be 1-D of a static length');
  const frameLength = ctx.has(3) ? knownCount(ctx, 3, 'frame_length', 1) : windowLength?.[0];
  if (frameLength === undefined) return ctx.fail('frame_length or a window is required');
  if (windowLength && windowLength[0] !== frameLength) {
    return ctx.fail(`the window has ${windowLength[0]} samples but frame_length is ${frameLength}`);
  }
  const signalLength = dims[1]!;
  if (ctx.analyzer.proveLess(signalLength, idx(frameLength)))
    return ctx.fail(`the signal is shorter than a frame of ${frameLength}`);
  const frames = ctx.simplify(add(floordiv(sub(signalLength, frameLength), step), 1));
  const starts = ctx.op('arange', [ctx.primArg(idx(0)), ctx.primArg(mul(frames, step)), ctx.primArg(idx(step))], {
    dtype: 'int64',
  });
  const offsets = ctx.constant(
    'int64',
    [1, frameLength],
    Array.from({ length: frameLength }, (_, i) => i),
  );
  // The frame count as arange gives it (its length, clamped at 0, is what the arrays have).
  const count = starts.sinfo.shape[0]!;
  const at = ctx.op('add', [reshape(ctx, starts, [count, 1]), offsets]);
  let framed: Value = ctx.op('take', [ctx.input(0), at], { axis: 1 });
  if (ctx.has(2)) {
    const window = reshape(ctx, castTo(ctx, ctx.input(2), dtypeOf(ctx.input(0))), [frameLength, 1]);
    framed = ctx.op('multiply', [framed, window]);
  }
  const onesided = ctx.attr.int('onesided', 1) === 1;
  const t: Transform = {
    samples: frameLength,
    parts,
    length: frameLength,
    bins: onesided ? Math.floor(frameLength / 2) + 1 : frameLength,
    inverse: false,
  };
  return transformLast(ctx, framed, [dims[0]!, count, idx(frameLength), idx(parts)], t);
});
