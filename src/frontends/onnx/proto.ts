/**
 * The ONNX protobuf messages Kiln reads and writes, decoded with protobufjs
 * (a well-kept protobuf library, so the wire format is not hand-parsed).
 * The schema below lists the fields of ONNX's onnx.proto that matter to an
 * importer, with their field numbers; fields not listed are skipped by the
 * decoder.
 */
import { createRequire } from 'node:module';
import type Protobuf from 'protobufjs';
import type { FileRange } from './file-blob.ts';

// Required when this module first runs (the ONNX importer loads on use), not when the bundled CLI
// starts: a bundler hoists an import statement of an external package to the bundle's top.
const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;

const tensorFields = {
  dims: { rule: 'repeated', type: 'int64', id: 1 },
  data_type: { type: 'int32', id: 2 },
  float_data: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
  int32_data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
  string_data: { rule: 'repeated', type: 'bytes', id: 6 },
  int64_data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
  name: { type: 'string', id: 8 },
  raw_data: { type: 'bytes', id: 9 },
  double_data: { rule: 'repeated', type: 'double', id: 10, options: { packed: true } },
  uint64_data: { rule: 'repeated', type: 'uint64', id: 11, options: { packed: true } },
  doc_string: { type: 'string', id: 12 },
  external_data: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
  data_location: { type: 'int32', id: 14 },
};

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        TensorProto: { fields: tensorFields },
        SparseTensorProto: {
          fields: {
            values: { type: 'TensorProto', id: 1 },
            indices: { type: 'TensorProto', id: 2 },
            dims: { rule: 'repeated', type: 'int64', id: 3 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: { type: 'int64', id: 1 },
                dim_param: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type', 'sequence_type', 'map_type', 'sparse_tensor_type', 'optional_type'] } },
          fields: {
            tensor_type: { type: 'Tensor', id: 1 },
            sequence_type: { type: 'Sequence', id: 4 },
            map_type: { type: 'Map', id: 5 },
            denotation: { type: 'string', id: 6 },
            sparse_tensor_type: { type: 'SparseTensor', id: 8 },
            optional_type: { type: 'Optional', id: 9 },
          },
          nested: {
            Tensor: { fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
            Sequence: { fields: { elem_type: { type: 'TypeProto', id: 1 } } },
            Map: { fields: { key_type: { type: 'int32', id: 1 }, value_type: { type: 'TypeProto', id: 2 } } },
            SparseTensor: { fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
            Optional: { fields: { elem_type: { type: 'TypeProto', id: 1 } } },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            doc_string: { type: 'string', id: 3 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
            doc_string: { type: 'string', id: 13 },
            tp: { type: 'TypeProto', id: 14 },
            type: { type: 'int32', id: 20 },
            ref_attr_name: { type: 'string', id: 21 },
            sparse_tensor: { type: 'SparseTensorProto', id: 22 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            doc_string: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            value_info: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
            sparse_initializer: { rule: 'repeated', type: 'SparseTensorProto', id: 15 },
          },
        },
        FunctionProto: {
          fields: { name: { type: 'string', id: 1 }, domain: { type: 'string', id: 10 } },
        },
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
            functions: { rule: 'repeated', type: 'FunctionProto', id: 25 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);

export const ModelType = root.lookupType('onnx.ModelProto');
export const TensorType = root.lookupType('onnx.TensorProto');

// --- the decoded shapes (int64 fields come back as numbers: see `decodeModel`) ---------

export interface TensorProto {
  dims: number[];
  data_type: number;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: (number | bigint)[];
  name: string;
  raw_data?: Uint8Array;
  double_data: number[];
  uint64_data: (number | bigint)[];
  external_data: { key: string; value: string }[];
  data_location: number;
  /**
   * Not a protobuf field: where the importer found this initializer's raw_data in the
   * model file (the scan leaves large ones there), with its hash when it was computed.
   */
  raw_range?: { readonly range: FileRange; readonly hash?: string };
}

export interface Dimension {
  dim_value?: number;
  dim_param?: string;
}

export interface TypeProto {
  tensor_type?: { elem_type: number; shape?: { dim: Dimension[] } };
  sequence_type?: unknown;
  map_type?: unknown;
  sparse_tensor_type?: unknown;
  optional_type?: unknown;
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
}

export interface AttributeProto {
  name: string;
  type: number;
  f: number;
  i: number;
  s: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
  tp?: TypeProto;
  ref_attr_name: string;
  sparse_tensor?: unknown;
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: AttributeProto[];
}

export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
  sparse_initializer: unknown[];
}

export interface ModelProto {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  graph?: GraphProto;
  opset_import: { domain: string; version: number }[];
  functions: { name: string; domain: string }[];
}

/** Decodes a model; throws protobufjs's error on malformed bytes. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const message = ModelType.decode(bytes);
  // Numbers for int64s (dims, attribute ints, opset versions): exact below 2^53, which shapes are.
  return ModelType.toObject(message, { longs: Number, defaults: true, arrays: true }) as unknown as ModelProto;
}

/** Decodes one TensorProto (the .pb files of the ONNX test data). */
export function decodeTensor(bytes: Uint8Array): TensorProto {
  const message = TensorType.decode(bytes);
  return TensorType.toObject(message, { longs: Number, defaults: true, arrays: true }) as unknown as TensorProto;
}
