/**
 * The Bazel HTTP cache client on its own: URLs (a base path, credentials sent as basic auth
 * and never shown), names checked before any request, statuses and timeouts in words.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { BazelHttpCache, parseRemoteUrl } from '../../src/cache/remote-http.ts';

const KEY = 'ab'.repeat(32);
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

test('URLs: http(s) only, a base path kept, no query', () => {
  expect(parseRemoteUrl('http://cache:8080/kiln').href).toBe('http://cache:8080/kiln/');
  expect(() => parseRemoteUrl('cache:8080')).toThrow('must start with http:// or https://');
  expect(() => parseRemoteUrl('not a url')).toThrow('is not a URL; expected e.g. http://cache.example:8080/kiln');
  expect(() => parseRemoteUrl('http://cache/kiln?x=1')).toThrow('must not have a query or fragment');
});

test('credentials in the URL go as basic auth, under the base path, and are never shown', async () => {
  const seen: { url?: string; auth?: string }[] = [];
  const host = await server((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    res.writeHead(404).end();
  });
  const c = new BazelHttpCache(`http://ci:s3cret@${host}/team/kiln`, { timeoutMs: 2000 });
  try {
    expect(c.label).toBe(`http://ci:***@${host}/team/kiln/`);
    expect(await c.get('action', KEY)).toBeUndefined();
    expect(seen).toEqual([{ url: `/team/kiln/ac/${KEY}`, auth: `Basic ${Buffer.from('ci:s3cret').toString('base64')}` }]);
  } finally {
    c.close();
  }
});

test('a name that is not a sha256 never reaches the server', async () => {
  let requests = 0;
  const host = await server((_req, res) => {
    requests++;
    res.writeHead(404).end();
  });
  const c = new BazelHttpCache(`http://${host}/`, { timeoutMs: 2000 });
  try {
    await expect(c.get('blob', '../../etc/passwd')).rejects.toThrow('invalid cache blob hash "../../etc/passwd"');
    expect(requests).toBe(0);
  } finally {
    c.close();
  }
});

test('statuses and silence are failures in words', async () => {
  const host = await server((req, res) => {
    if (req.method === 'PUT') res.writeHead(403).end();
    else if (req.url?.includes('/cas/')) setTimeout(() => res.writeHead(200).end('late'), 2000);
    else res.writeHead(503).end();
  });
  const c = new BazelHttpCache(`http://${host}/`, { timeoutMs: 200 });
  try {
    await expect(c.get('action', KEY)).rejects.toMatchObject({
      kind: 'status',
      status: 503,
      message: `GET ac/${KEY.slice(0, 12)}: 503 Service Unavailable`,
    });
    await expect(c.put('action', KEY, new Uint8Array([1]))).rejects.toMatchObject({ kind: 'status', status: 403 });
    await expect(c.get('blob', KEY)).rejects.toMatchObject({
      kind: 'timeout',
      message: `GET cas/${KEY.slice(0, 12)}: no answer for 0.2 s (timeout)`,
    });
  } finally {
    c.close();
  }
});
