/**
 * AlexNet as the ONNX model zoo's bvlc_alexnet lays it out (five convolutions
 * over a 227x227 image, with LRN and max pooling, three fully connected layers: 61 M parameters,
 * 244 MB of float32 weights, 151 MB of them in fc6), with seeded random
 * weights: the large model the compile-time benchmark imports to measure
 * weight throughput and a build's peak memory. `scale` < 1 shrinks the fully
 * connected layers (a quick run); 1 is AlexNet's size.
 */
import { encodeModel, type NodeSpec, type TensorSpec } from '../onnx-writer.ts';

export interface AlexNetOptions {
  readonly batch?: number | string;
  readonly seed?: number;
  /** Width factor of the fully connected layers (default 1). */
  readonly scale?: number;
}

export function alexnetOnnx(options: AlexNetOptions = {}): Uint8Array {
  let s = (options.seed ?? 61) >>> 0;
  const initializers: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  const weight = (name: string, dims: number[], scale: number): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = ((s / 4294967296) * 2 - 1) * scale;
    }
    initializers.push({ name, dims, data });
    return name;
  };
  const node = (op: string, name: string, inputs: string[], attrs?: NodeSpec['attrs']): string => {
    nodes.push({ op, name, inputs, outputs: [name], ...(attrs ? { attrs } : {}) });
    return name;
  };
  const conv = (
    x: string,
    name: string,
    cin: number,
    cout: number,
    k: number,
    stride: number,
    pad: number,
    group = 1,
  ): string => {
    const w = weight(`${name}_w_0`, [cout, cin / group, k, k], Math.sqrt(3 / ((cin / group) * k * k)));
    const b = weight(`${name}_b_0`, [cout], 0.01);
    const y = node('Conv', name, [x, w, b], {
      kernel_shape: [k, k],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
      group,
    });
    return node('Relu', `${name}_relu`, [y]);
  };
  const fc = (x: string, name: string, cin: number, cout: number, relu: boolean): string => {
    const w = weight(`${name}_w_0`, [cout, cin], Math.sqrt(3 / cin));
    const b = weight(`${name}_b_0`, [cout], 0.01);
    const y = node('Gemm', name, [x, w, b], { transB: 1 });
    return relu ? node('Relu', `${name}_relu`, [y]) : y;
  };
  const lrn = (x: string, name: string) =>
    node('LRN', name, [x], { size: 5, alpha: { float: 0.0001 }, beta: { float: 0.75 }, bias: { float: 1 } });
  const pool = (x: string, name: string) => node('MaxPool', name, [x], { kernel_shape: [3, 3], strides: [2, 2] });

  const width = Math.max(16, Math.round(4096 * (options.scale ?? 1)));
  let x = conv('data_0', 'conv1', 3, 96, 11, 4, 0);
  x = pool(lrn(x, 'norm1'), 'pool1');
  x = conv(x, 'conv2', 96, 256, 5, 1, 2, 2);
  x = pool(lrn(x, 'norm2'), 'pool2');
  x = conv(x, 'conv3', 256, 384, 3, 1, 1);
  x = conv(x, 'conv4', 384, 384, 3, 1, 1, 2);
  x = pool(conv(x, 'conv5', 384, 256, 3, 1, 1, 2), 'pool5');
  x = node('Flatten', 'pool5_flat', [x], { axis: 1 });
  x = fc(x, 'fc6', 256 * 6 * 6, width, true);
  x = fc(x, 'fc7', width, width, true);
  x = fc(x, 'fc8', width, 1000, false);
  node('Softmax', 'prob_1', [x], { axis: 1 });

  const batch = options.batch ?? 'N';
  return encodeModel({
    opset: 17,
    producer: 'kiln scripts/models/alexnet.ts',
    graphName: 'alexnet',
    inputs: [{ name: 'data_0', elemType: 1, dims: [batch, 3, 227, 227] }],
    outputs: [{ name: 'prob_1', elemType: 1, dims: [batch, 1000] }],
    initializers,
    nodes,
  });
}
