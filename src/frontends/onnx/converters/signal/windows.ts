/**
 * The window functions (HannWindow, HammingWindow, BlackmanWindow) and
 * MelWeightMatrix. Their inputs are sizes and frequencies that fix the
 * output's shape, so they are known at import time and the whole result is
 * a constant, computed in float64 and rounded once to output_datatype.
 */
import type { DataType } from '../../../../ir/dtype.ts';
import type { NodeContext } from '../../context.ts';
import { dtypeOfElemType, elemTypeName } from '../../tensor.ts';
import { defineConverter } from '../registry.ts';
import { knownCount, knownScalar } from './common.ts';

function outputDtype(ctx: NodeContext): DataType {
  const e = ctx.attr.int('output_datatype', 1);
  return dtypeOfElemType(e) ?? ctx.fail(`output_datatype ${elemTypeName(e)} is not supported`);
}

/**
 * A cosine-sum window a0 - a1 cos(2πn/N) + a2 cos(4πn/N), N the size
 * (periodic) or the size minus one (symmetric).
 */
function cosineWindow(a: readonly [number, number, number]) {
  return (ctx: NodeContext) => {
    const size = knownCount(ctx, 0, 'size', 0);
    const periodic = ctx.attr.int('periodic', 1) === 1;
    const denominator = periodic ? size : size - 1;
    const values = Array.from({ length: size }, (_, n) => {
      // A symmetric window of one element has no period: it is its peak.
      if (denominator === 0) return 1;
      const t = (2 * Math.PI * n) / denominator;
      return a[0] - a[1] * Math.cos(t) + a[2] * Math.cos(2 * t);
    });
    return ctx.constant(outputDtype(ctx), [size], values);
  };
}

defineConverter('HannWindow', cosineWindow([0.5, 0.5, 0]));
defineConverter('HammingWindow', cosineWindow([25 / 46, 21 / 46, 0]));
defineConverter('BlackmanWindow', cosineWindow([0.42, 0.5, 0.08]));

const hertzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHertz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/**
 * MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] triangular filters.
 * num_mel_bins + 2 points from the lower edge in steps of a (num_mel_bins
 * + 2)-th of the edges' distance in mel (as ONNX's reference computes, which
 * leaves the last point short of the upper edge), mapped to spectrogram bins
 * as floor((dft_length + 1) * hz / sample_rate); filter i rises linearly
 * from point i to point i + 1 (a single 1 where they coincide) and falls to
 * point i + 2.
 */
defineConverter('MelWeightMatrix', (ctx) => {
  const melBins = knownCount(ctx, 0, 'num_mel_bins', 1);
  const dftLength = knownCount(ctx, 1, 'dft_length', 1);
  const sampleRate = knownScalar(ctx, 2, 'sample_rate');
  const lower = knownScalar(ctx, 3, 'lower_edge_hertz');
  const upper = knownScalar(ctx, 4, 'upper_edge_hertz');
  if (!(sampleRate > 0)) return ctx.fail(`sample_rate is ${sampleRate}; it must be positive`);
  if (!(lower >= 0 && upper > lower && upper <= sampleRate / 2)) {
    return ctx.fail(`the edges ${lower} and ${upper} Hz must satisfy 0 <= lower < upper <= sample_rate / 2`);
  }
  const spectrumBins = Math.floor(dftLength / 2) + 1;
  const lowMel = hertzToMel(lower);
  const step = (hertzToMel(upper) - lowMel) / (melBins + 2);
  const points = Array.from({ length: melBins + 2 }, (_, i) =>
    Math.floor(((dftLength + 1) * melToHertz(lowMel + i * step)) / sampleRate),
  );
  const w = new Float64Array(spectrumBins * melBins);
  const set = (bin: number, mel: number, v: number): void => {
    if (bin >= 0 && bin < spectrumBins) w[bin * melBins + mel] = v;
  };
  for (let m = 0; m < melBins; m++) {
    const [left, center, right] = [points[m]!, points[m + 1]!, points[m + 2]!];
    if (center === left) set(center, m, 1);
    for (let j = left; j <= center && center > left; j++) set(j, m, (j - left) / (center - left));
    for (let j = center; j < right; j++) set(j, m, (right - j) / (right - center));
  }
  return ctx.constant(outputDtype(ctx), [spectrumBins, melBins], Array.from(w));
});
