/**
 * "Every state of a module builds": the same model built right after import,
 * after legalize, and after every later stage there is gives the same
 * outputs, through real pipelines, `kiln build` and the runtime's loader.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { NDArray } from '../../src/runtime/ndarray.ts';
import { tensor } from '../../src/runtime/ndarray.ts';
import { load } from '../../src/runtime/node.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { type Workspace, workspace } from '../helpers/workspace.ts';

const MODEL = `
func main(x: Tensor[(n, 8), f32], w: Tensor[(8, 5), f32]) -> Tensor[(n, 5), f32] {
  dataflow {
    h: Tensor[(n, 5), f32] = matmul(x, w)
    b: Tensor[(n, 5), f32] = add(h, const(f32[5], [0.5, -0.25, 0.125, 1.0, -1.0]))
    r: Tensor[(n, 5), f32] = gelu(b)
    s: Tensor[(n, 5), f32] = softmax(r, axis=-1)
    output s
  }
  return s
}
`;

const STATES: Record<string, string> = {
  'after-import': '  - import: {}\n',
  'after-legalize': '  - import: {}\n  - legalize: {}\n',
  'after-everything':
    '  - import: {}\n  - passes: { passes: [simplify, dce] }\n  - legalize: {}\n  - name: again\n    passes: { passes: [simplify, dce] }\n',
};

let ws: Workspace;
beforeEach(() => {
  ws = workspace({ 'model.kir': MODEL });
});
afterEach(() => ws.remove());

test('the model built after import, after legalize and after every stage gives identical outputs', async () => {
  const results: number[][] = [];
  for (const [state, stages] of Object.entries(STATES)) {
    ws.write(
      `${state}.yaml`,
      `name: ${state}\ntarget: js\nmodel:\n  path: model.kir\nstages:\n${stages}  - codegen: { out: out/${state} }\n`,
    );
    let err = '';
    const code = await main(['build', ws.path(`${state}.yaml`), '--cache-dir', ws.path('cache')], {
      stdout: () => undefined,
      stderr: (t) => (err += t),
    });
    expect(code, err).toBe(0);
    const mod = await load(ws.path(`out/${state}`));
    const x = tensor(randomArray(3 * 8, 1), [3, 8]);
    const w = tensor(randomArray(8 * 5, 2), [8, 5]);
    results.push(((await mod.call('main', x, w)) as NDArray).toNumbers());
  }
  expect(results[0]!.every((v) => v > 0 && v < 1)).toBe(true);
  expect(results[1]).toEqual(results[0]);
  expect(results[2]).toEqual(results[0]);
});
