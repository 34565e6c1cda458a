/**
 * Values as text for cache keys: keys sorted, so equal values give equal
 * text; unlike a cache payload, anything YAML can say must have a spelling
 * (`.inf`, `.nan`), so non-finite numbers are written out rather than refused.
 */
export function keyJson(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : `"${String(v)}"#`;
  if (Array.isArray(v)) return `[${v.map(keyJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${keyJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
