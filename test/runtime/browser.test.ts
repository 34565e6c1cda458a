/**
 * The browser adapter's file access over HTTP (fetch), against a local
 * server. (Importing kernels from an http: URL needs a browser; Node refuses it.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { urlSource } from '../../src/runtime/browser.ts';
import { LOAD_CODES } from '../../src/runtime/errors.ts';

let server: Server;
let base = '';
const requested: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    requested.push(req.url ?? '');
    if (req.url === '/art/manifest.json') res.end('{"format":"kiln-artifact"}');
    else if (req.url === '/art/params/shard-0.bin') res.end(Buffer.from([1, 2, 3]));
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/art`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('files are fetched relative to the artifact URL, with or without a trailing slash', async () => {
  for (const url of [base, `${base}/`]) {
    const s = urlSource(url);
    expect(await s.readText('manifest.json')).toBe('{"format":"kiln-artifact"}');
    expect([...(await s.readBytes('params/shard-0.bin'))]).toEqual([1, 2, 3]);
  }
});

test('a missing file is an error with its status', async () => {
  await expect(urlSource(base).readText('program.json')).rejects.toThrow('404');
});

test('a path that leaves the artifact URL is refused before any request', async () => {
  const s = urlSource(base);
  const before = requested.length;
  for (const file of [
    '../secret',
    '%2e%2e/secret',
    '/secret',
    'http://example.com/x',
    '//example.com/x',
    'params/../../secret',
    'a?b',
  ]) {
    await expect(s.readText(file), file).rejects.toMatchObject({ code: LOAD_CODES.pathEscape });
    await expect(s.readBytes(file), file).rejects.toMatchObject({ code: LOAD_CODES.pathEscape });
    await expect(s.importModule(file), file).rejects.toMatchObject({ code: LOAD_CODES.pathEscape });
  }
  expect(requested.slice(before)).toEqual([]);
});
