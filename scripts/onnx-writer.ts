/** The ONNX writer, now in src/frontends/onnx/writer.ts (the onnxruntime partition backend writes models too). */
export * from '../src/frontends/onnx/writer.ts';
