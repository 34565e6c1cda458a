/**
 * A PrimFunc as a WGSL kernel: one WGSL module with an entry point per
 * launch, and the metadata the runtime calls it with (kernel-spec.ts).
 *
 * Bindings are assigned here, in one place: each entry point binds only what
 * it uses, numbered from 0 in the order uniforms, parameters, workspace
 * buffers, read-only where it only reads them (so the shader compiler may
 * merge and reorder those loads). A module-scope variable is declared per
 * (buffer, binding number, access), so entry points that bind a buffer at the
 * same number the same way share a declaration.
 */
import type { PrimVar } from '../../ir/prim/expr.ts';
import { insertWorkgroupBarriers } from '../../schedule/sync.ts';
import { hoistInvariants } from '../../passes/tir/hoist-invariants.ts';
import { lowerPrimFunc } from '../../passes/tir/lower.ts';
import { unswitchGuards } from '../../passes/tir/unswitch-guards.ts';
import type { TargetDescription } from '../../ir/target.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { PrimFunc } from '../../ir/tir/stmt.ts';
import type { WgslDispatch, WgslKernel, WgslResource } from '../../runtime/webgpu/kernel-spec.ts';
import { fail, M } from '../../support/messages.ts';
import { emitEntry, type EntryBody, type KernelScope, PLACEHOLDER, VECTOR_PLACEHOLDER } from './entry.ts';
import { HELPER_NAMES, type HelperName, helperSources } from './helpers.ts';
import { type LaunchPlan, lowerLaunch, planLaunch } from './launch.ts';
import { Limits } from './limits.ts';
import { Namer } from './names.ts';
import { toShapeExpr } from '../shape-expr.ts';
import { type Signature, signature } from './signature.ts';
import { storageBytes } from './types.ts';

export function emitWgslKernel(name: string, f: PrimFunc, target: TargetDescription): WgslKernel {
  // Workgroup memory needs barriers a schedule does not spell out (copy, then use; use, then overwrite).
  // Index arithmetic that a loop does not change is computed once before it: an unrolled register tile
  // repeats it in every access, and the shader compilers (Tint, then the driver's) take seconds over
  // thousands of copies of a block index's divisions.
  return new KernelEmitter(name, hoistInvariants(unswitchGuards(lowerPrimFunc(insertWorkgroupBarriers(f)))), target).emit();
}

class KernelEmitter {
  private readonly names = new Namer();
  private readonly limits: Limits;
  private readonly f16: boolean;
  private readonly helpers = new Set<HelperName>();
  private readonly moduleDecls: string[] = [];
  private readonly bindingDecls: string[] = [];
  /** `${ordinal}@${binding}` -> the declared variable. */
  private readonly declared = new Map<string, string>();
  private readonly baseNames: string[] = [];

  constructor(
    private readonly kernel: string,
    private readonly f: PrimFunc,
    private readonly target: TargetDescription,
  ) {
    this.limits = new Limits(target, kernel);
    this.f16 = target.features.includes('shader-f16');
    this.names.reserve(HELPER_NAMES);
  }

  private readonly unsupported = (what: string): never =>
    fail(M.codegenUnsupported, { target: this.target.name, kernel: this.kernel, what });

  emit(): WgslKernel {
    const sig = signature(this.f, this.f16, this.unsupported);
    this.checkBufferSizes(sig);

    // Names the runtime-facing declarations get first, so locals never take them.
    const fields = new Map<PrimVar, string>();
    for (const [v, slot] of sig.slots) fields.set(v, this.names.fresh(sig.vars[slot]!.name));
    const ordinals = new Map<Buffer, number>();
    const resources: WgslResource[] = [];
    for (const [b, r] of sig.resources) {
      ordinals.set(b, resources.length);
      resources.push(r);
      this.baseNames.push(this.names.fresh(b.name));
    }
    const plans = sig.launches.map((stmt) =>
      planLaunch(
        stmt,
        (loop) =>
          toShapeExpr(loop.extent, sig.slots, `the extent of ${loop.thread} loop '${loop.loopVar.name}'`, this.unsupported),
        this.unsupported,
      ),
    );
    const entryNames =
      plans.length === 1 ? [this.names.fresh(this.kernel)] : plans.map((_, i) => this.names.fresh(`${this.kernel}_${i}`));

    const scope: KernelScope = {
      f16: this.f16,
      names: this.names,
      helpers: this.helpers,
      fields,
      resources: ordinals,
      moduleDecls: this.moduleDecls,
      usesF16:
        sig.params.some((p) => p.kind === 'buffer' && p.storage === 'f16') || sig.workspace.some((w) => w.storage === 'f16'),
      unsupported: this.unsupported,
    };
    const functions: string[] = [];
    const dispatches = plans.map((plan, i): WgslDispatch => {
      const entry = entryNames[i]!;
      const body = this.entryBody(scope, plan);
      this.checkLaunch(entry, plan, body);
      const bindings = this.bind(body, resources, sig);
      functions.push(this.entryFunction(entry, plan, body, bindings));
      return {
        entryPoint: entry,
        workgroupSize: plan.workgroupSize,
        grid: plan.grid,
        foldX: plan.foldX,
        bindings: bindings.list,
      };
    });

    const source = this.source(sig, fields, scope.usesF16, functions);
    return {
      name: this.kernel,
      source,
      vars: sig.vars,
      params: sig.params,
      workspace: sig.workspace,
      dispatches,
      features: scope.usesF16 ? ['shader-f16'] : [],
    };
  }

  /**
   * An entry point's body; with scalar loads only when its vector views would bind more storage
   * buffers than the target allows (a vector view is a binding of its own).
   */
  private entryBody(scope: KernelScope, plan: LaunchPlan): EntryBody {
    const stmt = lowerLaunch(plan, this.unsupported);
    const decls = scope.moduleDecls.length;
    const body = emitEntry(scope, plan, stmt);
    if (body.resources.size + body.vectors.size <= this.limits.get('maxStorageBuffersPerShaderStage')) return body;
    scope.moduleDecls.length = decls;
    return emitEntry(scope, plan, stmt, false);
  }

  /**
   * Group 0's bindings of one entry point, declaring the variables it needs; `names` and
   * `vectorNames` map ordinals to them.
   */
  private bind(
    body: EntryBody,
    resources: readonly WgslResource[],
    sig: Signature,
  ): { list: WgslDispatch['bindings']; names: Map<number, string>; vectorNames: Map<number, string> } {
    const list: { binding: number; resource: WgslResource; readOnly?: boolean }[] = [];
    if (body.uniforms) list.push({ binding: 0, resource: 'uniforms' });
    const names = new Map<number, string>();
    for (const ordinal of [...body.resources].sort((a, b) => a - b)) {
      const binding = list.length;
      const resource = resources[ordinal]!;
      const { storage, access } = this.resourceType(resource, sig, body.written.has(ordinal));
      list.push({ binding, resource, readOnly: access === 'read' });
      const key = `${ordinal}@${binding}:${access}`;
      let name = this.declared.get(key);
      if (name === undefined) {
        const base = this.baseNames[ordinal]!;
        name = [...this.declared.values()].includes(base) ? this.names.fresh(base) : base;
        this.declared.set(key, name);
        this.bindingDecls.push(`@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${storage}>;`);
      }
      names.set(ordinal, name);
    }
    const vectorNames = new Map<number, string>();
    for (const ordinal of [...body.vectors].sort((a, b) => a - b)) {
      const binding = list.length;
      const resource = resources[ordinal]!;
      const { storage } = this.resourceType(resource, sig, false);
      list.push({ binding, resource, readOnly: true });
      const key = `${ordinal}@${binding}:vec4`;
      let name = this.declared.get(key);
      if (name === undefined) {
        name = this.names.fresh(`${this.baseNames[ordinal]!}_vec4`);
        this.declared.set(key, name);
        this.bindingDecls.push(`@group(0) @binding(${binding}) var<storage, read> ${name}: array<vec4<${storage}>>;`);
      }
      vectorNames.set(ordinal, name);
    }
    return { list, names, vectorNames };
  }

  /** A buffer's element type, and its access in an entry point that does or does not store to it. */
  private resourceType(r: WgslResource, sig: Signature, written: boolean): { storage: string; access: string } {
    if (r === 'uniforms') throw new Error('uniforms are not a storage buffer');
    const access = written ? 'read_write' : 'read';
    if ('workspace' in r) return { storage: sig.workspace[r.workspace]!.storage, access };
    const p = sig.params[r.param]!;
    if (p.kind !== 'buffer') throw new Error(`parameter ${r.param} is not a buffer`);
    return { storage: p.storage, access };
  }

  private entryFunction(
    entry: string,
    plan: LaunchPlan,
    body: EntryBody,
    { names, vectorNames }: { names: ReadonlyMap<number, string>; vectorNames: ReadonlyMap<number, string> },
  ): string {
    const builtins: string[] = [];
    if (plan.blockUsed.some(Boolean)) builtins.push('@builtin(workgroup_id) wid: vec3<u32>');
    if (plan.threadUsed.some(Boolean)) builtins.push('@builtin(local_invocation_id) lid: vec3<u32>');
    if (plan.foldX) builtins.push('@builtin(num_workgroups) nwg: vec3<u32>');
    const lines = body.lines.map((l) =>
      l
        .replace(PLACEHOLDER, (_, o: string) => names.get(Number(o))!)
        .replace(VECTOR_PLACEHOLDER, (_, o: string) => vectorNames.get(Number(o))!),
    );
    return [
      `@compute @workgroup_size(${plan.workgroupSize.join(', ')})`,
      `fn ${entry}(${builtins.join(', ')}) {`,
      ...lines,
      '}',
    ].join('\n');
  }

  private source(sig: Signature, fields: ReadonlyMap<PrimVar, string>, f16: boolean, functions: readonly string[]): string {
    const parts: string[] = [`// Kiln kernel, ${functions.length} entry point${functions.length === 1 ? '' : 's'}.`];
    if (f16) parts.push('enable f16;');
    if (sig.vars.length > 0) {
      const members = [...fields].map(([v, field]) => `  ${field}: ${sig.vars[sig.slots.get(v)!]!.type},`);
      parts.push(`struct Uniforms {\n${members.join('\n')}\n}\n@group(0) @binding(0) var<uniform> u: Uniforms;`);
    }
    const decls = [...this.bindingDecls, ...this.moduleDecls];
    if (decls.length > 0) parts.push(decls.join('\n'));
    parts.push(...helperSources(this.helpers), ...functions);
    return `${parts.join('\n\n')}\n`;
  }

  // --- limits -------------------------------------------------------------------------------

  private checkBufferSizes(sig: Signature): void {
    const check = (b: { name: string; storage: 'f16' | 'f32' | 'i32' | 'u32' }, elements: number | undefined): void => {
      if (elements !== undefined) {
        this.limits.check('maxStorageBufferBindingSize', elements * storageBytes(b.storage), `buffer '${b.name}'`, 'bytes');
      }
    };
    for (const p of sig.params) {
      if (p.kind !== 'buffer') continue;
      check(p, p.shape.every((d) => typeof d === 'number') ? (p.shape as number[]).reduce((a, b) => a * b, 1) : undefined);
    }
    for (const w of sig.workspace) check(w, typeof w.size === 'number' ? w.size : undefined);
  }

  private checkLaunch(entry: string, plan: LaunchPlan, body: EntryBody): void {
    const what = `entry point '${entry}'`;
    const [x, y, z] = plan.workgroupSize;
    this.limits.check('maxComputeWorkgroupSizeX', x, what, 'threads along x (threadIdx.x)');
    this.limits.check('maxComputeWorkgroupSizeY', y, what, 'threads along y (threadIdx.y)');
    this.limits.check('maxComputeWorkgroupSizeZ', z, what, 'threads along z (threadIdx.z)');
    this.limits.check('maxComputeInvocationsPerWorkgroup', x * y * z, what, 'invocations per workgroup');
    this.limits.check('maxComputeWorkgroupStorageSize', body.workgroupBytes, what, 'bytes of workgroup memory');
    this.limits.check('maxStorageBuffersPerShaderStage', body.resources.size + body.vectors.size, what, 'storage buffers');
    plan.grid.forEach((g, dim) => {
      // A folded grid x may exceed the limit: the runtime spreads it over x and y.
      if (typeof g !== 'number' || (dim === 0 && plan.foldX)) return;
      this.limits.check('maxComputeWorkgroupsPerDimension', g, what, `workgroups along ${'xyz'[dim]} (blockIdx)`);
    });
  }
}
