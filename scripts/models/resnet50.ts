/**
 * ResNet-50 as the ONNX model zoo ships it (the `light_resnet50` architecture of
 * the ONNX backend tests: ResNet-50 v1 from Caffe2, stride in each bottleneck's
 * first 1x1 convolution, BatchNormalization after every convolution, names such
 * as `gpu_0/data_0`), with seeded random weights instead of the trained ones:
 * what benchmarks and tests build when they need a real-sized CNN (25.6 M
 * parameters, 4.1 GFLOPs per image). The batch is symbolic (`N`) unless fixed.
 */
import { encodeModel, type NodeSpec, type TensorSpec } from '../onnx-writer.ts';

export interface ResNet50Options {
  /** A number fixes the batch; a string names the symbolic batch dimension (default `N`). */
  readonly batch?: number | string;
  readonly seed?: number;
}

export const RESNET50_INPUT = 'gpu_0/data_0';
export const RESNET50_OUTPUT = 'gpu_0/softmax_1';

/** Stages of bottleneck blocks: [blocks, width]; outputs are 4 × width channels. */
const STAGES: readonly (readonly [number, number])[] = [
  [3, 64],
  [4, 128],
  [6, 256],
  [3, 512],
];

export function resnet50Onnx(options: ResNet50Options = {}): Uint8Array {
  let s = (options.seed ?? 50) >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  };
  const initializers: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  const weight = (name: string, dims: number[], scale: number, offset = 0): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = offset + uniform() * scale;
    initializers.push({ name, dims, data });
    return name;
  };
  const node = (op: string, name: string, inputs: string[], attrs?: NodeSpec['attrs']): string => {
    const out = `gpu_0/${name}`;
    nodes.push({ op, name: out, inputs, outputs: [out], ...(attrs ? { attrs } : {}) });
    return out;
  };

  /** Convolution (no bias) + BatchNormalization (+ Relu). */
  const convBn = (x: string, name: string, cin: number, cout: number, k: number, stride: number, relu: boolean): string => {
    // He-style scale keeps activations in a sensible range through 50 layers.
    const w = weight(`gpu_0/${name}_w`, [cout, cin, k, k], Math.sqrt(3 / (cin * k * k)));
    const pad = (k - 1) / 2;
    const y = node('Conv', name, [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
    const bn = node(
      'BatchNormalization',
      `${name}_bn`,
      [
        y,
        weight(`gpu_0/${name}_bn_s`, [cout], 0.1, 1),
        weight(`gpu_0/${name}_bn_b`, [cout], 0.1),
        weight(`gpu_0/${name}_bn_rm`, [cout], 0.1),
        weight(`gpu_0/${name}_bn_riv`, [cout], 0.2, 1),
      ],
      { epsilon: 1e-5 },
    );
    return relu ? node('Relu', `${name}_bn_relu`, [bn]) : bn;
  };

  let x = convBn(RESNET50_INPUT, 'conv1', 3, 64, 7, 2, true);
  x = node('MaxPool', 'pool1', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let cin = 64;
  STAGES.forEach(([blocks, width], stage) => {
    for (let b = 0; b < blocks; b++) {
      const name = `res${stage + 2}_${b}`;
      const stride = b === 0 && stage > 0 ? 2 : 1;
      let y = convBn(x, `${name}_branch2a`, cin, width, 1, stride, true);
      y = convBn(y, `${name}_branch2b`, width, width, 3, 1, true);
      y = convBn(y, `${name}_branch2c`, width, width * 4, 1, 1, false);
      const skip = b === 0 ? convBn(x, `${name}_branch1`, cin, width * 4, 1, stride, false) : x;
      x = node('Relu', `${name}_branch2c_sum_relu`, [node('Add', `${name}_branch2c_sum`, [y, skip])]);
      cin = width * 4;
    }
  });
  x = node('GlobalAveragePool', 'pool5', [x]);
  x = node('Flatten', 'pool5_flat', [x], { axis: 1 });
  const fcW = weight('gpu_0/pred_w', [1000, 2048], Math.sqrt(3 / 2048));
  const fcB = weight('gpu_0/pred_b', [1000], 0.01);
  x = node('Gemm', 'pred', [x, fcW, fcB], { transB: 1 });
  node('Softmax', 'softmax_1', [x], { axis: 1 });

  const batch = options.batch ?? 'N';
  return encodeModel({
    opset: 17,
    producer: 'kiln scripts/models/resnet50.ts',
    graphName: 'resnet50',
    inputs: [{ name: RESNET50_INPUT, elemType: 1, dims: [batch, 3, 224, 224] }],
    outputs: [{ name: RESNET50_OUTPUT, elemType: 1, dims: [batch, 1000] }],
    initializers,
    nodes,
  });
}
