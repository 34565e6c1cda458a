/**
 * Sizes as people write them in configs and on the command line ("500MB",
 * "2 GiB", "1.5G"). KB/MB/GB/TB are decimal (powers of 1000) as SI says;
 * KiB/MiB/GiB/TiB and the bare shorthands K/M/G/T are binary (powers of 1024),
 * because that is what `du -h`, Docker and the JVM mean by "G". Units are
 * case-insensitive and a plain number is bytes.
 */

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

const SIZE = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$/i;
const EXPECTED =
  "expected a number of bytes with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, K, M, G, T), e.g. '500MB' or '2 GiB'";

/** The number of bytes `text` denotes, rounded down to a whole byte. */
export function parseSize(text: string): number {
  const match = SIZE.exec(text);
  if (!match) throw new Error(`invalid size ${JSON.stringify(text)}: ${EXPECTED}`);
  const [, number, unit] = match;
  const scale = UNITS[unit!.toLowerCase()];
  if (scale === undefined) throw new Error(`invalid size ${JSON.stringify(text)}: unknown unit '${unit}'; ${EXPECTED}`);
  const bytes = Math.floor(Number(number) * scale);
  if (!Number.isSafeInteger(bytes)) throw new Error(`invalid size ${JSON.stringify(text)}: too large`);
  return bytes;
}
