/**
 * The memory plan as a picture: per planned block, an SVG timeline of its
 * arena. Time (the block's bindings) runs left to right, bytes top to
 * bottom; each tensor is a bar over the bindings it is live and the bytes it
 * takes, so reuse shows as bars stacked in the same rows. Symbolic sizes are
 * drawn at the values given (the upper bounds, or 1).
 */
import { Analyzer } from '../ir/arith/analyzer.ts';
import type { GraphFunc } from '../ir/graph/expr.ts';
import type { IRModule } from '../ir/module.ts';
import { constInt, intImm, type PrimExpr, type PrimVar, primVars, substitute } from '../ir/prim/expr.ts';
import { placedTensors, usedOutsideBlocks } from '../ir/verify/memory.ts';

function at(e: PrimExpr, values: ReadonlyMap<string, number>): number {
  const map = new Map<PrimVar, PrimExpr>();
  for (const v of primVars(e)) map.set(v, intImm(values.get(v.name) ?? 1));
  return constInt(new Analyzer().simplify(substitute(e, map))) ?? 0;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function blockSvg(title: string, f: GraphFunc, bi: number, values: ReadonlyMap<string, number>): string | undefined {
  const blk = f.body.blocks[bi]!;
  const tensors = placedTensors(blk, usedOutsideBlocks(f));
  if (tensors.length === 0) return undefined;
  const n = blk.bindings.length;
  const rows = tensors.map((t) => ({ t, off: at(t.offset, values), bytes: at(t.bytes, values) }));
  const total = Math.max(1, ...rows.map((r) => r.off + r.bytes));
  const W = 900;
  const H = 360;
  const left = 70;
  const top = 40;
  const x = (i: number): number => left + (i / Math.max(1, n)) * (W - left - 10);
  const y = (b: number): number => top + (b / total) * (H - top - 20);
  const parts: string[] = [
    `<text x="${left}" y="20" font-size="14">${esc(title)} — arena ${(total / 1024).toFixed(1)} KiB at ${esc(
      [...values].map(([k, v]) => `${k}=${v}`).join(', ') || 'static sizes',
    )}; ${tensors.length} tensors</text>`,
    `<rect x="${left}" y="${top}" width="${W - left - 10}" height="${H - top - 20}" fill="#f6f6f6" stroke="#999"/>`,
    `<text x="4" y="${top + 10}" font-size="10">0 B</text>`,
    `<text x="4" y="${H - 20}" font-size="10">${(total / 1024).toFixed(0)} KiB</text>`,
  ];
  rows.forEach(({ t, off, bytes }, i) => {
    const hue = (i * 137) % 360;
    const x0 = x(t.def);
    const w = Math.max(2, x(t.last + 1) - x0);
    const y0 = y(off);
    const h = Math.max(1, y(off + bytes) - y0);
    const name = (t.value ?? t.view).name;
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="hsl(${hue},60%,70%)" stroke="#333" stroke-width="0.5"><title>${esc(
        `${name}: bytes ${off}..${off + bytes}, bindings ${t.def}..${t.last}`,
      )}</title></rect>`,
    );
    if (h > 10 && w > 30)
      parts.push(`<text x="${(x0 + 2).toFixed(1)}" y="${(y0 + 10).toFixed(1)}" font-size="9">${esc(name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">${parts.join('')}</svg>`;
}

/** The upper bounds of the module's symbolic dimensions (model.dynamic), where the picture is drawn. */
export function upperBounds(m: IRModule): Map<string, number> {
  const bounds = new Map<string, number>();
  for (const f of m.functions.values()) {
    const upper = f.kind === 'func' ? f.attrs.tir_var_upper_bound : undefined;
    if (upper && typeof upper === 'object' && !Array.isArray(upper))
      for (const [k, v] of Object.entries(upper)) if (typeof v === 'number') bounds.set(k, v);
  }
  return bounds;
}

/** How many blocks of the module have a memory plan (tensors placed in an arena). */
export function plannedBlocks(m: IRModule): number {
  let n = 0;
  for (const f of m.functions.values()) {
    if (f.kind !== 'func') continue;
    const outside = usedOutsideBlocks(f);
    for (const blk of f.body.blocks) if (placedTensors(blk, outside).length > 0) n++;
  }
  return n;
}

/** An HTML page with one SVG per planned block of every graph function. */
export function memoryPicture(m: IRModule, values: ReadonlyMap<string, number>): string {
  const svgs: string[] = [];
  for (const [name, f] of [...m.functions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (f.kind !== 'func') continue;
    f.body.blocks.forEach((_, bi) => {
      const svg = blockSvg(`${name}, block ${bi}`, f, bi, values);
      if (svg) svgs.push(svg);
    });
  }
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>kiln memory plan</title></head><body>\n${svgs.join('\n')}\n</body></html>\n`;
}
