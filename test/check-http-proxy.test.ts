/**
 * `check endpoint` through a real HTTP proxy (Debian's tinyproxy on loopback, CONNECT per RFC 9110
 * §9.3.6): `--proxy http://…`, the https_proxy/all_proxy/NO_PROXY environment, `--no-proxy`, a
 * proxy that refuses the port (403), one that wants credentials (407), and one that is not there.
 * tinyproxy logs every CONNECT with its target: that is how a test knows the proxy was used.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';
import { buildEndpointScenarios } from './fixtures/endpoint-scenarios.js';
import type { EndpointScenarios } from './fixtures/endpoint-scenarios.js';
import { findFreePort } from './harness/processes.js';
import { startTinyproxy } from './harness/tinyproxy.js';
import type { Tinyproxy } from './harness/tinyproxy.js';

const SECRET = 's3cr3t-Pa55';
let work: string;
let world: EndpointScenarios;
let open: Tinyproxy;
let refusing: Tinyproxy;
let authed: Tinyproxy;

/** No proxy variable of the test runner's own environment may leak into a run. */
const CLEAN_ENV = {
  https_proxy: '',
  HTTPS_PROXY: '',
  all_proxy: '',
  ALL_PROXY: '',
  no_proxy: '',
  NO_PROXY: '',
  http_proxy: '',
  HTTP_PROXY: '',
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-http-proxy-'));
  [world, open, refusing, authed] = await Promise.all([
    buildEndpointScenarios(work),
    startTinyproxy(),
    // tinyproxy answers "403 Access violation" to a CONNECT to any other port.
    startTinyproxy({ connectPorts: [1] }),
    startTinyproxy({ basicAuth: { username: 'probe', password: SECRET } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([open?.stop(), refusing?.stop(), authed?.stop()]);
  await world?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const valid = () => {
  const s = world.scenarios.find((x) => x.id === 'valid');
  if (!s) throw new Error('no valid scenario');
  return s;
};
const port = () => valid().target.split(':')[1] ?? '';
const args = (...extra: string[]) => [
  'check',
  'endpoint',
  valid().target,
  '--sni',
  valid().sni,
  '--log-list',
  world.logList,
  '--ca-file',
  world.caFile,
  '-t',
  '10',
  ...extra,
];
const connects = (p: Tinyproxy): number =>
  p
    .log()
    .split('\n')
    .filter((l) => l.includes(`CONNECT 127.0.0.1:${port()}`)).length;

describe('check endpoint --proxy http:// (tinyproxy)', () => {
  it('checks through the proxy: OK, and tinyproxy logged the CONNECT', async () => {
    const before = connects(open);
    const r = await runCli(args('--proxy', open.url), CLEAN_ENV);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^CERTVIGIL OK - /);
    expect(r.stdout).toContain(`[INFO] proxy: checked through HTTP proxy ${open.url} (--proxy)`);
    // Two connections per address: the handshake and the raw hello for TLS-extension SCTs.
    expect(connects(open) - before).toBeGreaterThanOrEqual(2);
  });

  it('a proxy that refuses the port: CRITICAL naming the proxy and its status line', async () => {
    const r = await runCli(args('--proxy', refusing.url), CLEAN_ENV);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(
      new RegExp(
        `^CERTVIGIL CRITICAL - .*HTTP proxy http://127\\.0\\.0\\.1:${refusing.port} refused CONNECT 127\\.0\\.0\\.1:${port()}: "HTTP/1\\.[01] 403 `,
      ),
    );
  });

  it('a proxy that is not there: CRITICAL, cannot connect to the proxy', async () => {
    const free = await findFreePort();
    const r = await runCli(args('--proxy', `http://127.0.0.1:${free}`), CLEAN_ENV);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(
      new RegExp(`^CERTVIGIL CRITICAL - .*cannot connect to HTTP proxy http://127\\.0\\.0\\.1:${free}`),
    );
  });

  it('Proxy-Authorization Basic: 407 without credentials, OK with them; the password is never printed', async () => {
    const without = await runCli(args('--proxy', authed.url), CLEAN_ENV);
    expect(without.code).toBe(2);
    expect(without.stdout).toMatch(/407.*the proxy wants credentials/);
    const wrong = await runCli(
      args('--proxy', `http://probe:wrong-${SECRET}@127.0.0.1:${authed.port}`),
      CLEAN_ENV,
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toMatch(/40[17] .*refused the credentials/);
    const right = await runCli(args('--proxy', `http://probe:${SECRET}@127.0.0.1:${authed.port}`), CLEAN_ENV);
    expect(right.code, right.stdout + right.stderr).toBe(0);
    expect(right.stdout).toContain(`checked through HTTP proxy http://127.0.0.1:${authed.port} (--proxy)`);
    const json = await runCli(
      args('--json', '--proxy', `http://probe:wrong-${SECRET}@127.0.0.1:${authed.port}`),
      CLEAN_ENV,
    );
    expect(jsonLines(json.stdout)[0]?.status).toBe('CRITICAL');
    for (const r of [without, wrong, right, json]) expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('a bad --proxy URL is UNKNOWN, with its credentials masked', async () => {
    const r = await runCli(args('--proxy', `https://probe:${SECRET}@127.0.0.1:3128`), CLEAN_ENV);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^CERTVIGIL UNKNOWN - --proxy supports http:\/\/, socks5:\/\/ and socks5h:\/\/ only/,
    );
    const path = await runCli(args('--proxy', `http://probe:${SECRET}@127.0.0.1:3128/x`), CLEAN_ENV);
    expect(path.code).toBe(3);
    expect(path.stdout).toContain('"http://***@127.0.0.1:3128/x"');
    expect(r.stdout + path.stdout).not.toContain(SECRET);
  });
});

describe('check endpoint and the proxy environment', () => {
  it('https_proxy is used when no --proxy is given', async () => {
    const before = connects(open);
    const r = await runCli(args(), { ...CLEAN_ENV, https_proxy: open.url });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`proxy: checked through HTTP proxy ${open.url} (https_proxy)`);
    expect(connects(open) - before).toBeGreaterThanOrEqual(2);
  });

  it('ALL_PROXY (without a scheme: http) is the fallback; the refusing proxy makes it CRITICAL', async () => {
    const r = await runCli(args(), { ...CLEAN_ENV, ALL_PROXY: `127.0.0.1:${refusing.port}` });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/HTTP proxy http:\/\/127\.0\.0\.1:\d+ refused CONNECT .*403/);
  });

  it.each([
    ['--no-proxy', ['--no-proxy'], {}],
    ['NO_PROXY=127.0.0.1', [], { NO_PROXY: '127.0.0.1' }],
    ['no_proxy=127.0.0.0/8', [], { no_proxy: 'localhost,127.0.0.0/8' }],
    ['NO_PROXY=*', [], { NO_PROXY: '*' }],
  ] as const)('%s: the environment proxy is not used (direct, OK)', async (_name, extra, env) => {
    const before = connects(refusing);
    // The proxy refuses everything: an OK proves the connection did not go through it.
    const r = await runCli(args(...extra), { ...CLEAN_ENV, https_proxy: refusing.url, ...env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(connects(refusing)).toBe(before);
  });

  it('NO_PROXY for another host does not exempt this one', async () => {
    const r = await runCli(args(), {
      ...CLEAN_ENV,
      https_proxy: refusing.url,
      NO_PROXY: 'example.com,10.0.0.0/8',
    });
    expect(r.code).toBe(2);
  });

  it('--proxy wins over the environment', async () => {
    const r = await runCli(args('--proxy', open.url), { ...CLEAN_ENV, https_proxy: refusing.url });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('a bad https_proxy is UNKNOWN naming the variable, its password masked', async () => {
    const r = await runCli(args(), { ...CLEAN_ENV, https_proxy: `ftp://u:${SECRET}@127.0.0.1:1` });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^CERTVIGIL UNKNOWN - https_proxy supports http:\/\//);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('check endpoints: noProxy and proxy keys of the YAML entries', async () => {
    const config = join(work, 'endpoints.yaml');
    const entry = (extra: string) =>
      `  - { target: "${valid().target}", sni: ${valid().sni}, caFile: "${world.caFile}"${extra} }`;
    await writeFile(
      config,
      [
        `logList: "${world.logList}"`,
        'endpoints:',
        entry(', noProxy: true'),
        entry(`, proxy: "${open.url}"`),
        '',
      ].join('\n'),
    );
    const before = connects(open);
    const r = await runCli(['check', 'endpoints', '--config', config, '--json'], {
      ...CLEAN_ENV,
      https_proxy: refusing.url,
    });
    const lines = jsonLines(r.stdout);
    expect(
      lines
        .map((l) => l.status)
        .filter((s) => s !== undefined)
        .slice(-2),
      r.stdout,
    ).toEqual(['OK', 'OK']);
    expect(connects(open) - before).toBeGreaterThanOrEqual(2);
    await writeFile(config, ['endpoints:', entry(', noProxy: "yes"'), ''].join('\n'));
    const bad = await runCli(['check', 'endpoints', '--config', config], CLEAN_ENV);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/noProxy/);
  });
});

describe('jarm through the proxy', () => {
  const jarmOf = async (extra: string[], env: Record<string, string> = {}) => {
    const r = await runCli(['jarm', valid().target, '--json', ...extra], { ...CLEAN_ENV, ...env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return jsonLines(r.stdout)[0] ?? {};
  };

  it('the same fingerprint through tinyproxy as direct; 10 CONNECTs logged', async () => {
    const direct = await jarmOf([]);
    expect(direct.jarm).not.toMatch(/^0+$/);
    const before = connects(open);
    const via = await jarmOf(['--proxy', open.url]);
    expect(via.jarm).toBe(direct.jarm);
    expect(connects(open) - before).toBe(10);
    // The environment, then --no-proxy past a proxy that refuses everything.
    expect((await jarmOf([], { https_proxy: open.url })).jarm).toBe(direct.jarm);
    const refused = await jarmOf([], { https_proxy: refusing.url });
    expect(refused.jarm).toMatch(/^0+$/);
    expect(String(refused.errors)).toMatch(/refused CONNECT .*403/);
    expect((await jarmOf(['--no-proxy'], { https_proxy: refusing.url })).jarm).toBe(direct.jarm);
  });

  it('a bad proxy variable is a usage error (exit 2, one line), nothing probed', async () => {
    const r = await runCli(['jarm', valid().target], { ...CLEAN_ENV, all_proxy: 'gopher://x:1' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^certvigil: all_proxy supports http:\/\//);
  });
});
