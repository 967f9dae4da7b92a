/**
 * The external check's other ways in: through a real SOCKS5 proxy (Debian's microsocks on
 * loopback), over IPv6 (::1), and many endpoints at once from a YAML file (`check endpoints`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeCertificate } from '../src/x509/index.js';
import { jsonLines, runCli } from './cli-run.js';
import { buildEndpointScenarios, SCENARIO_NAME } from './fixtures/endpoint-scenarios.js';
import type { EndpointScenarios } from './fixtures/endpoint-scenarios.js';
import { findFreePort } from './harness/processes.js';

let work: string;
let world: EndpointScenarios;
let socks: ChildProcess | null = null;
let socksPort = 0;
let socksLog = '';

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`microsocks did not listen on ${port}: ${socksLog}`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-check-more-'));
  world = await buildEndpointScenarios(work);
  socksPort = await findFreePort();
  socks = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(socksPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  socks.stdout?.on('data', (d: Buffer) => (socksLog += d.toString()));
  socks.stderr?.on('data', (d: Buffer) => (socksLog += d.toString()));
  await waitForPort(socksPort);
}, 60_000);

afterAll(async () => {
  socks?.kill('SIGKILL');
  await world?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const scenario = (id: string) => {
  const s = world.scenarios.find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  return s;
};

const common = () => ['--log-list', world.logList, '--ca-file', world.caFile, '-t', '10'];

describe('check endpoint --proxy socks5://', () => {
  it('checks through the proxy: the same verdicts, and the connection really went through it', async () => {
    const valid = scenario('valid');
    const proxy = `socks5://127.0.0.1:${socksPort}`;
    const before = socksLog.length;
    const ok = await runCli([
      'check',
      'endpoint',
      valid.target,
      '--sni',
      valid.sni,
      '--proxy',
      proxy,
      ...common(),
    ]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    // microsocks logs each client it serves; no direct connection could have produced these lines.
    await sleep(100);
    expect(socksLog.length).toBeGreaterThan(before);
    const pinned = scenario('same-ca-other-key');
    const bad = await runCli([
      'check',
      'endpoint',
      pinned.target,
      '--sni',
      pinned.sni,
      '--proxy',
      proxy,
      ...pinned.extraArgs,
      ...common(),
    ]);
    expect(bad.code).toBe(2);
  });

  it('a proxy that is not there is CRITICAL with a clear reason', async () => {
    const port = await findFreePort();
    const valid = scenario('valid');
    const r = await runCli([
      'check',
      'endpoint',
      valid.target,
      '--sni',
      valid.sni,
      '--proxy',
      `socks5://127.0.0.1:${port}`,
      ...common(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^CERTVIGIL CRITICAL - .*SOCKS5 proxy 127\.0\.0\.1:\d+ could not reach/);
  });

  it('rejects a proxy URL it cannot use as UNKNOWN', async () => {
    const r = await runCli([
      'check',
      'endpoint',
      '127.0.0.1:1',
      '--proxy',
      'https://127.0.0.1:3128',
      ...common(),
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^CERTVIGIL UNKNOWN - --proxy supports http:\/\/, socks5:\/\/ and socks5h:\/\/ only/,
    );
  });
});

describe('check endpoint over IPv6', () => {
  it('checks a server on [::1] and names the address in its findings', async () => {
    const server = await world.serve(world.valid, { host: '::1' });
    const r = await runCli([
      'check',
      'endpoint',
      `[::1]:${server.port}`,
      '--sni',
      SCENARIO_NAME,
      '--json',
      ...common(),
    ]);
    expect(r.code, r.stdout).toBe(0);
    const [result] = jsonLines(r.stdout) as { addresses: { address: string }[] }[];
    expect(result?.addresses.map((a) => a.address)).toEqual(['::1']);
    // A name checked at an IPv6 address given with --connect-to.
    const named = await runCli([
      'check',
      'endpoint',
      `${SCENARIO_NAME}:${server.port}`,
      '--connect-to',
      '::1',
      ...common(),
    ]);
    expect(named.code, named.stdout).toBe(0);
    expect(named.stdout.split('\n')[0]).toMatch(/^CERTVIGIL OK - www\.example\.test:\d+:/);
  });
});

describe('check endpoints --config', () => {
  it('checks every endpoint in parallel; one status line each, a summary, the worst exit status', async () => {
    const pin = summarizeCertificate(world.valid.cert.der).spkiSha256;
    const ids = ['valid', 'expired', 'expiring-soon'];
    const entries = ids.map((id) => {
      const s = scenario(id);
      return `  - { target: "${s.target}", sni: ${s.sni}${id === 'expiring-soon' ? ', warning: 20, critical: 5' : ''} }`;
    });
    const jabber = scenario('same-ca-other-key');
    const config = join(work, 'endpoints.yaml');
    await writeFile(
      config,
      [
        `logList: ${world.logList}`,
        `defaults: { caFile: ${world.caFile}, requireCt: true, timeout: 10 }`,
        'endpoints:',
        ...entries,
        `  - { target: "${jabber.target}", sni: ${jabber.sni}, pins: [${pin}] }`,
        '',
      ].join('\n'),
    );
    const r = await runCli(['check', 'endpoints', '--config', config]);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    // The overall line first (Nagios shows only the first line), with a count per status.
    expect(lines[0]).toMatch(
      /^CERTVIGIL CRITICAL - 4 endpoints: 1 OK, 1 WARNING, 2 CRITICAL, 0 UNKNOWN \(.+\) \| ok=1;;;0 warning=1;;;0 critical=2;;;0 unknown=0;;;0$/,
    );
    expect(lines[1]).toMatch(/^OK: /);
    expect(lines[2]).toMatch(/^CRITICAL: .*expired/);
    expect(lines[3]).toMatch(/^WARNING: .*expires in/);
    expect(lines[4]).toMatch(/^CRITICAL: .*pin/);
    expect(r.code).toBe(2);
    const json = await runCli(['check', 'endpoints', '--config', config, '--json', '--concurrency', '2']);
    expect(jsonLines(json.stdout).map((o) => o.status)).toEqual(['OK', 'CRITICAL', 'WARNING', 'CRITICAL']);
  });

  it('a config file with a mistake is UNKNOWN and says where', async () => {
    const config = join(work, 'bad.yaml');
    await writeFile(config, 'endpoints:\n  - { target: x.test, startls: smtp }\n');
    const r = await runCli(['check', 'endpoints', '--config', config]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^CERTVIGIL UNKNOWN - .*endpoints\.0.*startls/);
  });
});
