/**
 * The file format of an action entry: `{"sha256":<hash of the canonical payload>,"payload":<payload>}`.
 * The recorded hash lets a reader tell a complete entry from a truncated or
 * damaged one without trusting the writer to have finished.
 */
import { sha256Hex } from '../support/hash.ts';
import { canonicalJson } from './canonical-json.ts';
import { describeError } from './fs-util.ts';

export type DecodedAction = { readonly ok: true; readonly payload: unknown } | { readonly ok: false; readonly reason: string };

export function encodeActionEntry(payload: unknown): string {
  const text = canonicalJson(payload);
  return `{"sha256":"${sha256Hex(text)}","payload":${text}}\n`;
}

export function decodeActionEntry(text: string): DecodedAction {
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not valid JSON, truncated or damaged (${describeError(error)})` };
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return { ok: false, reason: 'not a JSON object' };
  const { sha256, payload } = entry as { sha256?: unknown; payload?: unknown };
  if (typeof sha256 !== 'string' || !('payload' in entry))
    return { ok: false, reason: 'missing its "sha256" or "payload" field' };
  let actual: string;
  try {
    actual = sha256Hex(canonicalJson(payload));
  } catch (error) {
    return { ok: false, reason: describeError(error) };
  }
  if (actual !== sha256) return { ok: false, reason: `payload hashes to ${actual} but the entry records ${sha256}` };
  return { ok: true, payload };
}
