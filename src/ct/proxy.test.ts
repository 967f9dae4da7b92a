import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtHttpClient } from './http.js';
import { createLogListSource } from './loglist-source.js';
import { bypassesProxy, describeProxy, proxyConfigFromEnv, proxyFor } from './proxy.js';

describe('NO_PROXY matching (curl semantics)', () => {
  it.each([
    ['http://ct.example/', undefined, false],
    ['http://ct.example/', '*', true],
    ['http://ct.example/', 'ct.example', true],
    ['http://log.ct.example/', 'ct.example', true],
    ['http://log.ct.example/', '.ct.example', true],
    ['http://log.ct.example/', '*.ct.example', true],
    ['http://badct.example/', 'ct.example', false],
    ['http://CT.Example./', 'ct.example', true],
    ['http://ct.example:8080/', 'ct.example:8080', true],
    ['http://ct.example/', 'ct.example:8080', false],
    ['https://ct.example/', 'ct.example:443', true],
    // Loopback: only when NO_PROXY says so (no implicit bypass, as curl and undici).
    ['http://127.0.0.1:9000/', 'localhost', false],
    ['http://localhost:9000/', 'localhost', true],
    ['http://127.0.0.1:9000/', '127.0.0.1', true],
    ['http://127.0.0.2:9000/', '127.0.0.0/8', true],
    ['http://128.0.0.1/', '127.0.0.0/8', false],
    ['http://[::1]:9000/', '::1', true],
    ['http://[::1]:9000/', '[::1]', true],
    ['http://[::1]:9000/', '[::1]:9000', true],
    ['http://[::1]:9000/', '::1/128', true],
    ['http://[::ffff:127.0.0.1]/', '::ffff:0:0/96', true],
    ['http://[2001:db8::1]/', '2001:db8::/32', true],
    ['http://[2001:db9::1]/', '2001:db8::/32', false],
    ['http://10.1.2.3/', 'ct.example, 10.0.0.0/8', true],
    ['http://10.1.2.3/', 'ct.example 10.0.0.0/8', true],
    // A name entry never matches an IP literal by suffix.
    ['http://10.1.2.3/', '2.3', false],
  ] as const)('%s with NO_PROXY=%s → bypass %s', (url, noProxy, want) => {
    expect(bypassesProxy(new URL(url), noProxy)).toBe(want);
  });

  it.each([
    ['https://ct.example/', { httpsProxy: 'http://p:1' }, 'http://p:1'],
    ['https://ct.example/', { httpProxy: 'http://p:2' }, 'http://p:2'],
    ['http://ct.example/', { httpsProxy: 'http://p:1' }, undefined],
    ['http://ct.example/', { httpProxy: 'http://p:2', noProxy: 'example' }, undefined],
    ['http://ct.example/', { httpProxy: 'http://p:2', noProxy: 'other.example' }, 'http://p:2'],
  ] as const)('%s under %j → %s', (url, config, want) => {
    expect(proxyFor(new URL(url), config)).toBe(want);
  });

  it('reads the lower-case variables first, then the upper-case ones; blank means unset', () => {
    expect(
      proxyConfigFromEnv({
        https_proxy: 'http://a:1',
        HTTPS_PROXY: 'http://b:1',
        HTTP_PROXY: 'http://c:1',
        NO_PROXY: ' ',
      }),
    ).toEqual({ httpsProxy: 'http://a:1', httpProxy: 'http://c:1' });
    expect(describeProxy('http://user:secret@proxy.example:3128')).toBe('http://proxy.example:3128/');
  });
});

/** A loopback origin that records whether each request came through a proxy (tinyproxy adds Via). */
interface Origin {
  url: string;
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}
async function origin(body: Buffer | string): Promise<Origin> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('CtHttpClient through a real tinyproxy (HTTP_PROXY / HTTPS_PROXY / NO_PROXY)', () => {
  let dir: string;
  let proxy: ChildProcess | undefined;
  let proxyUrl = '';
  const logFile = (): string => join(dir, 'tinyproxy.log');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certvigil-proxy-'));
    // The port is picked, released, then taken by tinyproxy: retry on the rare clash.
    for (let attempt = 0; attempt < 5 && proxy === undefined; attempt++) {
      const port = await freePort();
      const conf = join(dir, 'tinyproxy.conf');
      await writeFile(
        conf,
        [
          `Port ${port}`,
          'Listen 127.0.0.1',
          'Timeout 10',
          'LogLevel Info',
          `LogFile "${logFile()}"`,
          'Allow 127.0.0.1',
          'MaxClients 20',
          '',
        ].join('\n'),
      );
      const child = spawn('tinyproxy', ['-d', '-c', conf], { stdio: 'ignore' });
      for (let i = 0; i < 50; i++) {
        const up = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        });
        if (up) {
          proxy = child;
          proxyUrl = `http://127.0.0.1:${port}`;
          break;
        }
        if (child.exitCode !== null) break;
        await sleep(100);
      }
      if (proxy === undefined) child.kill('SIGKILL');
    }
    if (proxy === undefined)
      throw new Error(`tinyproxy did not start: ${await readFile(logFile(), 'utf8').catch(() => '')}`);
  }, 20_000);

  afterAll(async () => {
    if (proxy !== undefined && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy?.once('exit', r));
      proxy.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (proxy.exitCode === null) proxy.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('an http:// request goes through HTTP_PROXY; NO_PROXY=127.0.0.1 sends it direct', async () => {
    const o = await origin('{"ok":true}');
    const via = new CtHttpClient({ maxAttempts: 1, proxy: proxyConfigFromEnv({ HTTP_PROXY: proxyUrl }) });
    expect(via.proxyFor(o.url)).toBe(proxyUrl);
    const res = await via.get(`${o.url}ct/v1/get-sth`);
    expect(Buffer.from(res.body).toString()).toBe('{"ok":true}');
    expect(o.seen[0]?.via).toMatch(/tinyproxy/);
    expect(await readFile(logFile(), 'utf8')).toContain(`${o.url}ct/v1/get-sth`);
    await via.close();

    const direct = new CtHttpClient({
      maxAttempts: 1,
      proxy: proxyConfigFromEnv({ http_proxy: proxyUrl, no_proxy: 'ct.example,127.0.0.1' }),
    });
    expect(direct.proxyFor(o.url)).toBeUndefined();
    await direct.get(`${o.url}direct`);
    expect(o.seen[1]?.via).toBeUndefined();
    expect(await readFile(logFile(), 'utf8')).not.toContain(`${o.url}direct`);
    await direct.close();
    await o.close();
  });

  it('an https:// request is tunnelled with CONNECT through HTTPS_PROXY', async () => {
    const o = await origin('not TLS');
    const port = new URL(o.url).port;
    const client = new CtHttpClient({ maxAttempts: 1, timeoutMs: 5000, proxy: { httpsProxy: proxyUrl } });
    // The origin speaks no TLS, so the request fails, but only after the proxy opened the tunnel.
    await expect(client.get(`https://127.0.0.1:${port}/ct/v1/get-sth`)).rejects.toMatchObject({
      code: 'CT_NETWORK',
      message: expect.stringContaining(`(through proxy ${proxyUrl}/)`),
    });
    expect(await readFile(logFile(), 'utf8')).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${port}`));
    await client.close();
    await o.close();
  });

  it('the log list source honours the environment: its download goes through the proxy', async () => {
    const list = await readFile(
      new URL('../../test/vectors/data/loglist-google-v3-chrome.json', import.meta.url),
    );
    const o = await origin(list);
    const saved = new Map(
      ['HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'].map((k) => [k, process.env[k]]),
    );
    process.env.HTTP_PROXY = proxyUrl;
    delete process.env.http_proxy;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    try {
      const state = await createLogListSource({
        location: `${o.url}log_list.json`,
        cacheDir: join(dir, 'cache'),
      }).refresh(true);
      expect(state.origin).toBe('network');
      expect(o.seen.at(-1)?.via).toMatch(/tinyproxy/);
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
    }
    await o.close();
  });
});
