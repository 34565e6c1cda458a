/** The pass registry: names, options, errors and composition. */
import { z } from 'zod';
import { describe, expect, test } from 'vitest';
import { NO_ATTRS } from '../../src/ir/attrs.ts';
import { irModule, type IRModule } from '../../src/ir/module.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import {
  allPasses,
  createPass,
  dce,
  definePass,
  getPass,
  type Pass,
  type PassContext,
  sequential,
  simplify,
} from '../../src/passes/index.ts';
import { isKilnError } from '../../src/support/diagnostics.ts';
import { M } from '../../src/support/messages.ts';
import { expectModule, parse } from './helpers.ts';

/** A pass for these tests: records its name in the module attributes, so order shows. */
const TAG = definePass({
  name: 'test-tag',
  description: 'Appends its label to the module attribute "trail".',
  version: 3,
  usesTarget: true,
  options: z.object({ label: z.string().default('x'), times: z.number().int().min(1).default(1) }),
  create: (o) => ({
    name: `test-tag(${o.label})`,
    run: (m: IRModule, ctx: PassContext) => {
      const trail = typeof m.attrs.trail === 'string' ? m.attrs.trail : '';
      const add = `${o.label}${ctx.target ? '@' + ctx.target.name : ''}`.repeat(o.times);
      return irModule(m.functions, { ...m.attrs, trail: trail + add });
    },
  }),
});

/** The error `f` throws: a KilnError whose code and text the caller checks. */
function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (!isKilnError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error('expected an error');
}

describe('names and lookup', () => {
  test('the built-in passes are registered under their names, with metadata', () => {
    expect(allPasses()).toEqual(expect.arrayContaining(['dce', 'simplify']));
    expect(allPasses()).toEqual([...allPasses()].sort());
    const d = getPass('dce')!;
    expect(d.name).toBe('dce');
    expect(d.description).not.toBe('');
    expect(d.version).toBeGreaterThanOrEqual(1);
    expect(d.usesTarget).toBe(false);
    expect(getPass('no-such-pass')).toBeUndefined();
  });

  test('a configured pass carries a readable name', () => {
    expect(dce().name).toBe('dce');
    expect(simplify().name).toBe('simplify');
    expect(createPass('dce').name).toBe('dce');
    expect(createPass('test-tag', { label: 'a' }).name).toBe('test-tag(a)');
    expect(TAG.usesTarget).toBe(true);
  });

  test('defining a name twice is a bug and says so', () => {
    expect(() => definePass({ name: 'dce', description: '', version: 1, options: z.object({}), create: () => dce() })).toThrow(
      "pass 'dce' is defined twice",
    );
  });
});

describe('options', () => {
  test('defaults are filled in', () => {
    const out = createPass('test-tag').run(irModule({}), {});
    expect(out.attrs).toEqual({ trail: 'x' });
    expect(TAG.create({ label: 'y', times: 2 }).run(irModule({}), {}).attrs).toEqual({ trail: 'yy' });
  });

  test('an unknown pass name fails with the nearest names', () => {
    const e = thrown(() => createPass('dcee'));
    expect(e.code).toBe(M.unknownPass.code);
    expect(e.message).toContain("unknown pass 'dcee'");
    expect(e.message).toContain("did you mean 'dce'?");
    expect(thrown(() => createPass('simplfy')).message).toContain("did you mean 'simplify'?");
    expect(thrown(() => createPass('legalise-everything')).message).toMatch(/the passes are .*dce, .*simplify/);
  });

  test('an unknown option fails with the options the pass takes and the nearest one', () => {
    const e = thrown(() => createPass('test-tag', { lable: 'a' }));
    expect(e.code).toBe(M.badPassOptions.code);
    expect(e.message).toContain("pass 'test-tag': invalid options: unknown option 'lable' (it takes 'label', 'times')");
    expect(e.message).toContain("did you mean 'label'?");
    expect(thrown(() => createPass('dce', { aggressive: true })).message).toContain(
      "unknown option 'aggressive' (it takes no options)",
    );
  });

  test('an option of the wrong type fails naming the option', () => {
    expect(thrown(() => createPass('test-tag', { times: 0 })).message).toMatch(/option 'times': .*>=1/);
    expect(thrown(() => createPass('test-tag', { label: 3 })).message).toMatch(/option 'label': .*expected string/);
    expect(thrown(() => createPass('test-tag', 'label')).message).toMatch(/invalid options: .*expected object/);
  });
});

describe('composition', () => {
  test('sequential runs its passes in order and names itself after them', () => {
    const seq = sequential([createPass('test-tag', { label: 'a' }), createPass('test-tag', { label: 'b' })]);
    expect(seq.name).toBe('sequential(test-tag(a), test-tag(b))');
    expect(sequential([], 'nothing').name).toBe('nothing');
    const m = irModule({});
    expect(seq.run(m, {}).attrs).toEqual({ trail: 'ab' });
    expect(sequential([]).run(m, {})).toBe(m);
  });

  test('the context reaches every pass; instruments see each pass before and after', () => {
    const seen: string[] = [];
    const ctx: PassContext = {
      target: { name: 'cpu', kind: 'js', device: 'cpu', features: [], limits: {} },
      instruments: [
        {
          before: (p: Pass) => seen.push(`before ${p.name}`),
          after: (p: Pass, m: IRModule, out: IRModule) => seen.push(`after ${p.name}${out === m ? ' (unchanged)' : ''}`),
        },
      ],
    };
    const out = sequential([TAG.create({ label: 'a' }), dce()]).run(irModule({}, NO_ATTRS), ctx);
    expect(out.attrs).toEqual({ trail: 'a@cpu' });
    expect(seen).toEqual(['before test-tag(a)', 'after test-tag(a)', 'before dce', 'after dce (unchanged)']);
  });

  test('simplify then dce: a pipeline of passes', () => {
    const m = parse(`
prim_func k(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    if i < n {
      B[i, j] = A[i, j]
    }
  }
}
prim_func unused(A: f32[4]) {
  for i in range(4) {
    A[i] = 0.0
  }
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n * 2 - n, 4), f32] {
  a = call_tir(k, (x,), out: Tensor[(n, 4), f32])
  b = relu(a)
  return a
}`);
    const out = sequential([simplify(), dce()]).run(m, {});
    expectModule(
      out,
      `
prim_func k(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a = call_tir(k, (x,), out: Tensor[(n, 4), f32])
  return a
}`,
    );
    expect(printModule(out)).not.toContain('unused');
  });
});
