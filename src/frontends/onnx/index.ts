/**
 * The ONNX importer, registered for `.onnx` models. The importer itself (and
 * the operator library and protobufjs with it) loads on use, so a build whose
 * import is cached never pays for it.
 */
import { registerImporter } from '../registry.ts';
import { externalDataFiles } from './external-files.ts';
import { onnxExternalDigest, onnxFileDigest } from './scan.ts';

registerImporter({
  format: 'onnx',
  extensions: ['.onnx'],
  // 2: shapes simplify with the analyzer, whose floordiv / floormod rules grew.
  // 3: main records the model's input and output names (input_names, output_names).
  version: 3,
  import: async (model) => (await import('./importer.ts')).importOnnxFile(model),
  inputs: (model) => externalDataFiles(model.path),
  // The key takes the model and its external data by the hashes its import makes anyway: each
  // weight is read and hashed once.
  digest: {
    kind: 'onnx-scan/1',
    digest: (path, model) => (path === model.path ? onnxFileDigest(path) : onnxExternalDigest(model.path, path)),
  },
});
