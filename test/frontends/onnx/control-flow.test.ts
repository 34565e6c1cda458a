/**
 * ONNX control flow (If; Loop and Scan through a recursive graph function the
 * VM runs) against onnxruntime-node on random inputs, on the js and wasm targets.
 */
import { describe, expect, test } from 'vitest';
import { encodeModel, type GraphSpec, type NodeSpec, type ValueSpec } from '../../../scripts/onnx-writer.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { compareWithOrt, type OracleInput } from '../../helpers/onnx-oracle.ts';

const f32 = (name: string, dims?: (number | string)[]): ValueSpec => ({ name, elemType: 1, dims });

function model(opset: number, inputs: ValueSpec[], outputs: ValueSpec[], nodes: NodeSpec[]): Uint8Array {
  return encodeModel({ opset, producer: 'test', graphName: 'g', inputs, outputs, initializers: [], nodes });
}

async function expectClose(bytes: Uint8Array, feeds: OracleInput[], tol = 1e-5): Promise<void> {
  for (const wasmThreads of [undefined, 1]) {
    for (const e of await compareWithOrt(bytes, feeds, { ...(wasmThreads ? { wasmThreads } : {}) })) {
      expect(e.maxAbs, `${e.name}${wasmThreads ? ' (wasm)' : ''}`).toBeLessThanOrEqual(tol);
    }
  }
}

const branch = (name: string, nodes: NodeSpec[], outputs: string[]): { graph: GraphSpec } => ({
  graph: { name, inputs: [], outputs: outputs.map((o) => f32(o)), nodes },
});

describe('If', () => {
  // cond = sum(x) > 0; then: x + y (outer names), else: transpose(x) * 2 (another shape: the result's dims are bound at run time).
  const bytes = model(
    13,
    [f32('x', [2, 3]), f32('y', [2, 3])],
    [f32('out'), f32('same', [2, 3])],
    [
      { op: 'ReduceSum', inputs: ['x'], outputs: ['s'], attrs: { keepdims: 0 } },
      { op: 'Constant', inputs: [], outputs: ['zero'], attrs: { value_float: { float: 0 } } },
      { op: 'Greater', inputs: ['s', 'zero'], outputs: ['c'] },
      { op: 'Mul', inputs: ['y', 'y'], outputs: ['yy'] },
      {
        op: 'If',
        inputs: ['c'],
        outputs: ['out', 'same'],
        attrs: {
          then_branch: branch(
            'then',
            [
              { op: 'Add', inputs: ['x', 'y'], outputs: ['t'] },
              { op: 'Sub', inputs: ['yy', 'x'], outputs: ['t2'] },
            ],
            ['t', 't2'],
          ),
          else_branch: branch(
            'else',
            [
              { op: 'Transpose', inputs: ['x'], outputs: ['tx'], attrs: { perm: [1, 0] } },
              { op: 'Add', inputs: ['tx', 'tx'], outputs: ['e'] },
              { op: 'Mul', inputs: ['yy', 'x'], outputs: ['e2'] },
            ],
            ['e', 'e2'],
          ),
        },
      },
    ],
  );

  test('the then branch, reading the enclosing graph', async () => {
    await expectClose(bytes, [
      { name: 'x', shape: [2, 3], lo: 0.1, hi: 1 },
      { name: 'y', shape: [2, 3] },
    ]);
  });

  test('the else branch, whose result has another shape', async () => {
    await expectClose(bytes, [
      { name: 'x', shape: [2, 3], lo: -1, hi: -0.1 },
      { name: 'y', shape: [2, 3] },
    ]);
  });

  test('an if binding in the imported module, outside any dataflow block', () => {
    const m = importOnnx(bytes);
    const main = m.functions.get('main')!;
    if (main.kind !== 'func') throw new Error('main is not a graph function');
    const ifs = main.body.blocks.flatMap((b) => b.bindings.filter((x) => x.value.kind === 'if'));
    expect(ifs).toHaveLength(1);
    expect(main.body.blocks.every((b) => !b.dataflow)).toBe(true);
  });
});

const i64 = (name: string, dims?: (number | string)[]): ValueSpec => ({ name, elemType: 7, dims });
const bool = (name: string, dims?: (number | string)[]): ValueSpec => ({ name, elemType: 9, dims });

/** Loop(M, cond, y) whose body adds x (an outer name) to y, emits y as a scan output, and stops when sum(y) > limit. */
function loopModel(trip: number | undefined, limit: number | undefined, bodyExtra: NodeSpec[] = [], yOut = 'y2'): Uint8Array {
  const nodes: NodeSpec[] = [
    ...(trip !== undefined ? [{ op: 'Constant', inputs: [], outputs: ['Ms'], attrs: { value_int: trip } } as NodeSpec] : []),
    ...(limit !== undefined
      ? [
          { op: 'Constant', inputs: [], outputs: ['c0'], attrs: { value_int: 1 } } as NodeSpec,
          { op: 'Cast', inputs: ['c0'], outputs: ['cond'], attrs: { to: 9 } } as NodeSpec,
        ]
      : []),
    {
      op: 'Loop',
      inputs: [trip !== undefined ? 'Ms' : '', limit !== undefined ? 'cond' : '', 'y0'],
      outputs: ['yf', 'ys'],
      attrs: {
        body: {
          graph: {
            name: 'body',
            inputs: [i64('it', []), bool('c', []), f32('y', [2, 3])],
            outputs: [bool('cout', []), f32(yOut), f32('scan')],
            nodes: [
              { op: 'Add', inputs: ['y', 'x'], outputs: ['y2'] },
              ...(limit !== undefined
                ? [
                    { op: 'ReduceSum', inputs: ['y2'], outputs: ['s'], attrs: { keepdims: 0 } } as NodeSpec,
                    { op: 'Constant', inputs: [], outputs: ['lim'], attrs: { value_float: { float: limit } } } as NodeSpec,
                    { op: 'Less', inputs: ['s', 'lim'], outputs: ['cout'] } as NodeSpec,
                  ]
                : [{ op: 'Identity', inputs: ['c'], outputs: ['cout'] } as NodeSpec]),
              ...bodyExtra,
              { op: 'Identity', inputs: ['y2'], outputs: ['scan'] },
            ],
          },
        },
      },
    },
  ];
  return model(13, [f32('y0', [2, 3]), f32('x', [2, 3])], [f32('yf'), f32('ys')], nodes);
}

describe('Loop', () => {
  const feeds: OracleInput[] = [
    { name: 'y0', shape: [2, 3] },
    { name: 'x', shape: [2, 3], lo: 0.1, hi: 1 },
  ];
  test('a trip count, a body reading an outer name, a scan output', async () => {
    await expectClose(loopModel(4, undefined), feeds);
  });
  test('a condition only', async () => {
    await expectClose(loopModel(undefined, 20), feeds);
  });
  test('a trip count and a condition, the condition stopping first', async () => {
    await expectClose(loopModel(100, 15), feeds);
  });
  test('5000 iterations: the recursive call runs in the same VM frame', async () => {
    await expectClose(loopModel(5000, undefined), feeds, 1e-2);
  });
  test('a body that changes the rank of a loop-carried tensor fails at import, naming the node', () => {
    const bad = loopModel(
      3,
      undefined,
      [
        { op: 'Constant', inputs: [], outputs: ['ax'], attrs: { value_ints: [0] } },
        { op: 'Unsqueeze', inputs: ['y2', 'ax'], outputs: ['y3'] },
      ],
      'y3',
    );
    expect(() => importOnnx(bad, { file: 'bad.onnx' })).toThrow(
      /bad\.onnx: node 'Loop_\d+' \(Loop, opset 13\).*changes the rank of loop-carried value 0 \('y'\) from 2 to 3/,
    );
  });
});

describe('Scan', () => {
  // A running sum over axis 1 of x [2, 5, 3], forward or reverse; the scan output stacked on axis 0 or 1.
  const scanModel = (attrs: Record<string, number[]>): Uint8Array =>
    model(
      13,
      [f32('s0', [2, 3]), f32('x', [2, 5, 3])],
      [f32('sf'), f32('ys')],
      [
        {
          op: 'Scan',
          inputs: ['s0', 'x'],
          outputs: ['sf', 'ys'],
          attrs: {
            num_scan_inputs: 1,
            scan_input_axes: [1],
            ...attrs,
            body: {
              graph: {
                name: 'body',
                inputs: [f32('s', [2, 3]), f32('xt', [2, 3])],
                outputs: [f32('s2'), f32('y')],
                nodes: [
                  { op: 'Add', inputs: ['s', 'xt'], outputs: ['s2'] },
                  { op: 'Mul', inputs: ['s2', 'xt'], outputs: ['y'] },
                ],
              },
            },
          },
        },
      ],
    );
  const feeds: OracleInput[] = [
    { name: 's0', shape: [2, 3] },
    { name: 'x', shape: [2, 5, 3] },
  ];
  test('forward', async () => {
    await expectClose(scanModel({}), feeds);
  });
  test('reverse input and output, the output stacked on axis 1', async () => {
    await expectClose(scanModel({ scan_input_directions: [1], scan_output_directions: [1], scan_output_axes: [1] }), feeds);
  });
});
