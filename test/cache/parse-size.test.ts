/** Size limits as written in configs and on the command line. */
import { describe, expect, test } from 'vitest';
import { parseSize } from '../../src/cache/index.ts';

describe('parseSize', () => {
  test.each([
    ['1024', 1024],
    ['0', 0],
    ['12B', 12],
    ['500MB', 500_000_000],
    ['500mb', 500_000_000],
    ['1kb', 1000],
    ['2 GB', 2e9],
    ['3TB', 3e12],
    ['1KiB', 1024],
    ['2 GiB', 2 * 1024 ** 3],
    ['4mib', 4 * 1024 ** 2],
    ['1TiB', 1024 ** 4],
    ['1.5G', 1.5 * 1024 ** 3],
    ['10k', 10 * 1024],
    ['512M', 512 * 1024 ** 2],
    ['2t', 2 * 1024 ** 4],
    ['.5K', 512],
    ['0.5 KB', 500],
    ['1.5', 1],
    ['  64 MiB  ', 64 * 1024 ** 2],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each([
    ['', /invalid size "": expected a number of bytes/],
    ['MB', /invalid size "MB"/],
    ['-1MB', /invalid size "-1MB"/],
    ['1e3', /invalid size "1e3"/],
    ['1,5G', /invalid size "1,5G"/],
    ['5 XB', /unknown unit 'XB'/],
    ['5 bytes', /unknown unit 'bytes'/],
    ['1 G B', /invalid size/],
    ['99999999 TiB', /too large/],
  ])('%j is refused', (text, message) => {
    expect(() => parseSize(text)).toThrow(message);
  });
});
