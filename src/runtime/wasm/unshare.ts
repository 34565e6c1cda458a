/**
 * The kernels' module imports a shared memory, so threads can share it. Where
 * memories cannot be shared (a browser page without cross-origin isolation)
 * the runtime runs on one thread with a plain memory, for which the import's
 * `shared` flag must go: this rewrites that one byte of the import section.
 */
const IMPORT_SECTION = 2;

export function unshareMemoryImport(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  let at = 8; // magic and version
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = out[at++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const skipName = (): void => {
    const n = leb();
    at += n;
  };
  const skipLimits = (): number => {
    const flags = out[at++]!;
    leb();
    if (flags & 1) leb();
    return flags;
  };
  while (at < out.length) {
    const id = out[at++]!;
    const size = leb();
    const end = at + size;
    if (id !== IMPORT_SECTION) {
      at = end;
      continue;
    }
    const count = leb();
    for (let i = 0; i < count; i++) {
      skipName();
      skipName();
      const kind = out[at++]!;
      if (kind === 0) leb();
      else if (kind === 1) {
        at++;
        skipLimits();
      } else if (kind === 2) {
        const flagsAt = at;
        skipLimits();
        out[flagsAt] = out[flagsAt]! & ~2;
      } else if (kind === 3) at += 2;
      else throw new Error(`unexpected import kind ${kind} in the kernels' module`);
    }
    return out;
  }
  return out;
}
