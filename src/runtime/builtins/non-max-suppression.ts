/**
 * kiln.non_max_suppression: ONNX NonMaxSuppression. Per batch and class, the
 * boxes scoring above the threshold are taken best first (ties: the lower
 * index first) and kept unless they overlap a box already kept by more than
 * the IoU threshold; at most max_output_boxes_per_class per class. The result
 * lists (batch, class, box) in that order, as onnxruntime does.
 */
import type { Value } from '../values.ts';
import { builtinAttrs, hostNumbers, int64Result, tensorArg } from './host.ts';

interface Box {
  readonly y1: number;
  readonly x1: number;
  readonly y2: number;
  readonly x2: number;
  readonly area: number;
}

/** Corners with y1 <= y2 and x1 <= x2, whichever way the model gave them. */
function box(c: readonly number[], i: number, centerPoint: boolean): Box {
  const [a, b, cc, d] = [c[i * 4]!, c[i * 4 + 1]!, c[i * 4 + 2]!, c[i * 4 + 3]!];
  // center_point_box: [x_center, y_center, width, height]; else [y1, x1, y2, x2].
  const [y1, x1, y2, x2] = centerPoint
    ? [b - d / 2, a - cc / 2, b + d / 2, a + cc / 2]
    : [Math.min(a, cc), Math.min(b, d), Math.max(a, cc), Math.max(b, d)];
  return { y1, x1, y2, x2, area: (y2 - y1) * (x2 - x1) };
}

/** Whether `a` and `b` overlap by more than `threshold` (a box of no area suppresses nothing). */
function overlaps(a: Box, b: Box, threshold: number): boolean {
  if (a.area <= 0 || b.area <= 0) return false;
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  if (h <= 0 || w <= 0) return false;
  const inter = h * w;
  return inter / (a.area + b.area - inter) > threshold;
}

export async function nonMaxSuppression(...args: Value[]): Promise<Value> {
  const name = 'kiln.non_max_suppression';
  const boxesT = tensorArg(args, 0, name);
  const scoresT = tensorArg(args, 1, name);
  const [boxes, scores, maxOut, iou, minScore] = (await Promise.all(
    [0, 1, 2, 3, 4].map((i) => hostNumbers(tensorArg(args, i, name))),
  )) as [number[], number[], number[], number[], number[]];
  const centerPoint = builtinAttrs(args[5], name).center_point_box === true;
  const [batches, n] = [boxesT.shape[0]!, boxesT.shape[1]!];
  const classes = scoresT.shape[1]!;
  if (boxesT.shape[2] !== 4 || scoresT.shape[0] !== batches || scoresT.shape[2] !== n) {
    throw new RangeError(
      `${name}: boxes [${boxesT.shape.join(', ')}] and scores [${scoresT.shape.join(', ')}] must be [b, n, 4] and [b, classes, n]`,
    );
  }
  const limit = maxOut.length > 0 ? Math.max(0, maxOut[0]!) : 0;
  const iouThreshold = iou.length > 0 ? iou[0]! : 0;
  const scoreThreshold = minScore.length > 0 ? minScore[0]! : -Infinity;

  const rows: number[] = [];
  for (let b = 0; b < batches && limit > 0; b++) {
    const all = Array.from({ length: n }, (_, i) => box(boxes, b * n + i, centerPoint));
    for (let c = 0; c < classes; c++) {
      const base = (b * classes + c) * n;
      const candidates: number[] = [];
      for (let i = 0; i < n; i++) if (scores[base + i]! > scoreThreshold) candidates.push(i);
      candidates.sort((i, j) => scores[base + j]! - scores[base + i]! || i - j);
      const kept: number[] = [];
      for (const i of candidates) {
        if (kept.length >= limit) break;
        if (!kept.some((k) => overlaps(all[k]!, all[i]!, iouThreshold))) kept.push(i);
      }
      for (const i of kept) rows.push(b, c, i);
    }
  }
  // Rows of (batch, class, box), stored row-major: column-interleaved as pushed.
  return int64Result(boxesT.device, [rows.length / 3, 3], rows);
}
