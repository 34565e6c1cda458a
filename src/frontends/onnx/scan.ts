/**
 * Reads an ONNX file's structure without holding its weights: a walk over
 * the protobuf wire format with positioned reads that copies every field
 * into a "skeleton" (a smaller ModelProto) except the large `raw_data` of
 * the graph's initializers, which it records as byte ranges of the file
 * instead — hashing each one (SHA-256, a blob's content address) as it
 * streams past, when asked. The skeleton is what protobufjs decodes; the
 * importer makes each recorded range a weight blob read from the file on use.
 *
 * Without hashing, the walk skips the payloads and reads only the model's
 * small parts: milliseconds for a multi-GB model (the external data files of
 * a model are found this way, for a build's cache key).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join as joinPath, normalize } from 'node:path';
import { createHash } from 'node:crypto';
import { hashRanges } from './range-hashes.ts';

/** A `raw_data` payload this large or larger stays in the file (smaller ones are in the skeleton). */
export const PAYLOAD_MIN_BYTES = 1024;

/** The window of small reads (tags, lengths, the fields the skeleton keeps). */
const WINDOW_BYTES = 64 * 1024;

/** Identifies one version of a file: a blob read later checks the file is still this one. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
}

export interface Payload {
  /** Index of the tensor in the graph's `initializer` list. */
  readonly initializer: number;
  readonly offset: number;
  readonly length: number;
  /** SHA-256 (hex) of the bytes; undefined when the scan did not hash. */
  readonly hash: string | undefined;
}

/** Where an initializer's data lies in an external file (its external_data entries, as written). */
export interface ExternalEntry {
  readonly location: string;
  readonly offset: number;
  readonly length: number | undefined;
}

export interface ScannedModel {
  readonly path: string;
  readonly stamp: FileStamp;
  /** The ModelProto without the payloads' raw_data fields. */
  readonly skeleton: Uint8Array;
  readonly payloads: readonly Payload[];
  /** The initializers whose data is in external files. */
  readonly externals: readonly ExternalEntry[];
}

/** Why the file is not a protobuf message as ONNX lays it out; thrown for the caller to place. */
export class ScanError extends Error {}

/** The last hashed scan of each file, while the file is that version: a build's key and its import share one. */
const hashedScans = new Map<string, ScannedModel>();

/** A hashed scan, made once per version of the file in a process. */
export function scanOnnxFileHashed(path: string): ScannedModel {
  const known = hashedScans.get(path);
  if (known) {
    const st = statSync(path);
    if (sameStamp(known.stamp, st)) return known;
  }
  const scanned = scanOnnxFile(path, { hash: true });
  hashedScans.set(path, scanned);
  return scanned;
}

/**
 * A digest of a model file's content made from its scan: the skeleton's SHA-256 and each
 * payload's place and SHA-256. Equal content gives an equal digest, any change a different
 * one; the weights are hashed once for both the build's key and the import.
 */
export function onnxFileDigest(path: string): string {
  const scanned = scanOnnxFileHashed(path);
  const h = createHash('sha256').update(scanned.skeleton);
  for (const p of scanned.payloads) h.update(`\u0000${p.initializer} ${p.offset} ${p.length} ${p.hash}`);
  return h.digest('hex');
}

/**
 * A digest of an external data file's content for a build's key, made as the import hashes
 * it: the file cut where the model's tensors in it start and end, each piece's SHA-256 (a
 * tensor's is its blob's address, remembered for the import, which then hashes nothing twice).
 * The pieces cover every byte, so equal digests mean equal content, whichever model's cuts
 * made them.
 */
export function onnxExternalDigest(modelPath: string, file: string): string {
  const { externals } = scanOnnxFile(modelPath, { hash: false });
  const dir = dirname(modelPath);
  const size = statSync(file).size;
  const cuts = new Set([0, size]);
  for (const e of externals) {
    if (normalize(joinPath(dir, e.location)) !== file) continue;
    if (e.offset <= size) cuts.add(e.offset);
    if (e.length !== undefined && e.offset + e.length <= size) cuts.add(e.offset + e.length);
  }
  const at = [...cuts].sort((a, b) => a - b);
  const pieces = at.slice(1).map((end, i) => ({ path: file, offset: at[i]!, length: end - at[i]! }));
  const hashes = hashRanges(pieces, (missing) => {
    throw new ScanError(`'${file}' ended ${missing} bytes early while it was read`);
  });
  const h = createHash('sha256').update(`${size}`);
  pieces.forEach((p, i) => h.update(`\u0000${p.offset} ${p.length} ${hashes[i]}`));
  return h.digest('hex');
}

export function scanOnnxFile(path: string, options: { hash: boolean }): ScannedModel {
  const fd = openSync(path, 'r');
  let scanned: ScannedModel;
  try {
    const st = fstatSync(fd);
    const walker = new Walker(new Reader(fd, st.size));
    const skeleton = join(walker.model(0, st.size));
    scanned = { path, stamp: stampOf(st), skeleton, payloads: walker.payloads, externals: walker.externals };
  } finally {
    closeSync(fd);
  }
  if (!options.hash) return scanned;
  // The payloads, found first, are hashed together: on every core.
  const hashes = hashRanges(
    scanned.payloads.map((p) => ({ path, offset: p.offset, length: p.length })),
    (missing) => {
      throw new ScanError(`the file ends ${missing} bytes before the data it promises`);
    },
  );
  return { ...scanned, payloads: scanned.payloads.map((p, i) => ({ ...p, hash: hashes[i] })) };
}

export function stampOf(st: FileStamp): FileStamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

/** The file is still the version `stamp` was taken of (a rewrite changes mtime or ctime, a replacement the inode). */
export function sameStamp(stamp: FileStamp, st: FileStamp): boolean {
  return st.size === stamp.size && st.mtimeMs === stamp.mtimeMs && st.ctimeMs === stamp.ctimeMs && st.ino === stamp.ino;
}

/** Positioned reads through a small window. */
class Reader {
  private readonly window = Buffer.allocUnsafe(WINDOW_BYTES);
  private start = 0;
  private end = 0;

  constructor(
    readonly fd: number,
    readonly size: number,
  ) {}

  byte(pos: number): number {
    if (pos < this.start || pos >= this.end) this.fill(pos);
    return this.window[pos - this.start]!;
  }

  /** A copy of [pos, pos + len). */
  bytes(pos: number, len: number): Uint8Array {
    if (pos + len > this.size) throw new ScanError(`a field runs ${pos + len - this.size} bytes past the end of the file`);
    if (len <= WINDOW_BYTES) {
      if (pos < this.start || pos + len > this.end) this.fill(pos);
      return Uint8Array.prototype.slice.call(this.window, pos - this.start, pos - this.start + len);
    }
    const out = new Uint8Array(len);
    for (let at = 0; at < len;) {
      const n = readSync(this.fd, out, at, len - at, pos + at);
      if (n === 0) throw new ScanError('the file ended while it was read');
      at += n;
    }
    return out;
  }

  /** A varint at pos: its value (exact up to 2^53) and the position after it. */
  varint(pos: number): [number, number] {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.size) throw new ScanError('the file ends inside a number');
      const b = this.byte(pos++);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return [value, pos];
      scale *= 128;
    }
    throw new ScanError('a number is longer than 10 bytes');
  }

  private fill(pos: number): void {
    const n = readSync(this.fd, this.window, 0, Math.min(WINDOW_BYTES, this.size - pos), pos);
    this.start = pos;
    this.end = pos + n;
  }
}

type Parts = Uint8Array[];

interface Field {
  readonly number: number;
  readonly wire: number;
  /** Where the field (its tag) starts, where its value starts, where it ends. */
  readonly start: number;
  readonly value: number;
  readonly end: number;
}

class Walker {
  readonly payloads: Payload[] = [];
  readonly externals: ExternalEntry[] = [];
  private initializers = 0;

  constructor(private readonly r: Reader) {}

  /** ModelProto: the graph (field 7) is walked, everything else copied. */
  model(start: number, end: number): Parts {
    const out: Parts = [];
    for (const f of this.fields(start, end)) {
      if (f.number === 7 && f.wire === 2) this.nested(out, f, this.graph(f.value, f.end));
      else out.push(this.r.bytes(f.start, f.end - f.start));
    }
    return out;
  }

  /** GraphProto: initializers (field 5) are walked, everything else copied. */
  private graph(start: number, end: number): Parts {
    const out: Parts = [];
    for (const f of this.fields(start, end)) {
      if (f.number === 5 && f.wire === 2) this.nested(out, f, this.tensor(f.value, f.end, this.initializers++));
      else out.push(this.r.bytes(f.start, f.end - f.start));
    }
    return out;
  }

  /**
   * TensorProto: a large raw_data (field 9) becomes a payload; the rest is copied. The
   * external_data entries (field 13) of a tensor stored externally (data_location, field 14,
   * is 1) are read too: where its bytes are.
   */
  private tensor(start: number, end: number, index: number): Parts {
    const out: Parts = [];
    let payload: Payload | undefined;
    let external = false;
    const entries = new Map<string, string>();
    for (const f of this.fields(start, end)) {
      const length = f.end - f.value;
      if (f.number === 9 && f.wire === 2 && length >= PAYLOAD_MIN_BYTES) {
        // A repeated field: the last one is the value, as a protobuf decoder reads it.
        payload = { initializer: index, offset: f.value, length, hash: undefined };
        continue;
      }
      out.push(this.r.bytes(f.start, f.end - f.start));
      if (f.number === 14 && f.wire === 0) external = this.r.varint(f.value)[0] === 1;
      if (f.number === 13 && f.wire === 2) {
        const entry = this.entry(f.value, f.end);
        if (entry) entries.set(entry[0], entry[1]);
      }
    }
    if (payload) this.payloads.push(payload);
    const location = entries.get('location');
    if (external && location !== undefined) {
      const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
      this.externals.push({ location, offset: num(entries.get('offset')) ?? 0, length: num(entries.get('length')) });
    }
    return out;
  }

  /** A StringStringEntryProto: its key (field 1) and value (field 2). */
  private entry(start: number, end: number): [string, string] | undefined {
    let key: string | undefined;
    let value = '';
    for (const f of this.fields(start, end)) {
      if (f.wire !== 2 || f.end - f.value > 4096) continue;
      const text = Buffer.from(this.r.bytes(f.value, f.end - f.value)).toString('utf8');
      if (f.number === 1) key = text;
      else if (f.number === 2) value = text;
    }
    return key === undefined ? undefined : [key, value];
  }

  /** A length-delimited field whose content is `parts`: its tag, the new length, the parts. */
  private nested(out: Parts, f: Field, parts: Parts): void {
    const length = parts.reduce((a, p) => a + p.byteLength, 0);
    out.push(encodeVarint(f.number * 8 + 2), encodeVarint(length), ...parts);
  }

  private *fields(start: number, end: number): Generator<Field> {
    if (end > this.r.size) throw new ScanError(`a message runs ${end - this.r.size} bytes past the end of the file`);
    let pos = start;
    while (pos < end) {
      const [tag, afterTag] = this.r.varint(pos);
      const number = Math.floor(tag / 8);
      const wire = tag % 8;
      if (number === 0) throw new ScanError(`field number 0 at byte ${pos}`);
      let next: number;
      let value = afterTag;
      switch (wire) {
        case 0:
          next = this.r.varint(afterTag)[1];
          break;
        case 1:
          next = afterTag + 8;
          break;
        case 2: {
          const [len, afterLen] = this.r.varint(afterTag);
          value = afterLen;
          next = afterLen + len;
          break;
        }
        case 5:
          next = afterTag + 4;
          break;
        default:
          throw new ScanError(`wire type ${wire} at byte ${pos} (field ${number})`);
      }
      if (next > end) throw new ScanError(`field ${number} at byte ${pos} runs past the end of its message`);
      yield { number, wire, start: pos, value, end: next };
      pos = next;
    }
  }
}

function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

function join(parts: Parts): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
