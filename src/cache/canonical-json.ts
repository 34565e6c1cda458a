/**
 * Canonical JSON: object keys sorted, no whitespace. An action entry records
 * the hash of this text, and reading the entry back must reproduce it exactly,
 * so anything JSON would silently change (NaN becomes null, a Map becomes {},
 * undefined in an array becomes null) is rejected instead of stored.
 */

export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

function write(value: unknown, path: string, open: Set<object>): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw notJson(path, String(value));
      return JSON.stringify(value);
    case 'object':
      return value === null ? 'null' : writeObject(value, path, open);
    case 'undefined':
    case 'bigint':
    case 'symbol':
    case 'function':
      throw notJson(path, typeof value);
  }
}

function writeObject(value: object, path: string, open: Set<object>): string {
  if (open.has(value)) throw notJson(path, 'a circular reference');
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write((toJSON as () => unknown).call(value), path, open);
  open.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((item: unknown, i) => write(item, `${path}[${i}]`, open)).join(',')}]`;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw notJson(path, `a ${value.constructor.name} (not a plain object)`);
    const record = value as Record<string, unknown>;
    const fields: string[] = [];
    // JSON.stringify drops undefined properties, so a parsed copy has none: drop them here too.
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) fields.push(`${JSON.stringify(key)}:${write(record[key], `${path}.${key}`, open)}`);
    }
    return `{${fields.join(',')}}`;
  } finally {
    open.delete(value);
  }
}

function notJson(path: string, what: string): Error {
  return new Error(`cache payload is not plain JSON: ${path} is ${what}`);
}
