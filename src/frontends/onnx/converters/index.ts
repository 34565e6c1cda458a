/** Importing this module registers every ONNX operator converter. */
import './elementwise.ts';
import './shape.ts';
import './nn.ts';
import './reduce.ts';
import './quantize.ts';
import './signal.ts';
import './control-flow.ts';
import './loop.ts';

export { defineConverter, getConverter, supportedOnnxOps, type Converter } from './registry.ts';
