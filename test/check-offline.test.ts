/**
 * `check endpoint` on a monitoring host that reaches nothing but the endpoints (issue 14): a
 * private CA is OK without any CT data, `--min-scts 0` / `--ct-policy none` never load a log list,
 * `-t` bounds the whole run (log-list download included), and a log list that cannot be had
 * degrades only the CT findings. Real TLS servers on loopback (test/fixtures/endpoint-scenarios.ts,
 * a private test CA); the log-list "servers" are loopback HTTP servers that hang or refuse; the
 * shipped snapshot is reached by sending the default URL to a closed loopback proxy.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';
import { buildEndpointScenarios } from './fixtures/endpoint-scenarios.js';
import type { EndpointScenario, EndpointScenarios } from './fixtures/endpoint-scenarios.js';

interface Finding {
  id: string;
  severity: string;
  message: string;
}
interface Result {
  status: string;
  findings: Finding[];
}

let work: string;
let cache: string;
let set: EndpointScenarios;
let hang: Server;
let hangHits = 0;
let silent: TcpServer;
const silentSockets = new Set<Socket>();
let closedPort: number;

const CT_IDS = /^(sct-|ct-|loglist-|tls-extension)/;

function scenario(id: string): EndpointScenario {
  const s = set.scenarios.find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  return s;
}

/** Runs the plugin with a private cache directory and no proxy from the environment. */
async function plugin(args: string[], env: NodeJS.ProcessEnv = {}) {
  const started = performance.now();
  const r = await runCli(['check', 'endpoint', ...args], {
    XDG_CACHE_HOME: cache,
    https_proxy: '',
    HTTPS_PROXY: '',
    all_proxy: '',
    ALL_PROXY: '',
    ...env,
  });
  return { ...r, seconds: (performance.now() - started) / 1000 };
}

const json = (stdout: string): Result => jsonLines(stdout)[0] as unknown as Result;
const cacheFiles = async (): Promise<string[]> => readdir(join(cache, 'certvigil')).catch(() => []);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cv-offline-'));
  cache = join(work, 'cache');
  set = await buildEndpointScenarios(work);
  // A log-list URL that accepts the request and never answers (a firewall that drops would be
  // the same to the client, minus the connection).
  hang = createServer(() => {
    hangHits++;
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  // A TLS port that accepts TCP and never says a word.
  silent = createTcpServer((s) => {
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  // A port nobody listens on: the "proxy" through which the default log-list URL cannot be had.
  const probe = createTcpServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
}, 60_000);

afterAll(async () => {
  hang.closeAllConnections();
  await new Promise<void>((r) => hang.close(() => r()));
  for (const s of silentSockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  await set.stop();
  await rm(work, { recursive: true, force: true });
});

describe('private CA, --min-scts 0, no --log-list, nothing but loopback (issue-14 contract)', () => {
  it.each([
    ['valid', [], 0],
    ['expired', [], 2],
    ['name-mismatch', [], 2],
    ['wrong-ca', [], 2],
    ['same-ca-other-key', null, 2],
    ['expiring-soon', ['-w', '20', '-c', '5'], 1],
  ] as const)('%s → exit %s within 5 s, no CT finding above INFO, no download', async (id, extra, code) => {
    const s = scenario(id);
    const args = extra ?? s.extraArgs;
    const r = await plugin([
      s.target,
      '--sni',
      s.sni,
      '--ca-file',
      set.caFile,
      '--min-scts',
      '0',
      ...args,
      '--json',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(code);
    expect(r.seconds).toBeLessThan(5);
    const result = json(r.stdout);
    const ct = result.findings.filter((f) => CT_IDS.test(f.id));
    expect(ct.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(ct.map((f) => f.id)).toEqual(['ct-off']);
    // Nothing was fetched: no cached log list, no failure marker.
    expect(await cacheFiles()).toEqual([]);
  });

  it('the text output: OK status line without SCT counts, INFO line for CT', async () => {
    const s = scenario('valid');
    const r = await plugin([s.target, '--sni', s.sni, '--ca-file', set.caFile, '--min-scts', '0']);
    expect(r.code).toBe(0);
    const [first, ...rest] = r.stdout.trimEnd().split('\n');
    expect(first).toMatch(
      /^CERTVIGIL OK - 127\.0\.0\.1:\d+: certificate for www\.example\.test from .*, \d+ days left \| days=\d+;20;15;0 handshake=/,
    );
    expect(first).not.toMatch(/scts=/);
    expect(rest.some((l) => /^\[INFO\] .*ct-off: CT checks off \(--min-scts 0\)$/.test(l))).toBe(true);
  });
});

describe('CT applies only to publicly trusted chains', () => {
  it('a private CA without --min-scts 0: OK, INFO ct-not-required, no log list loaded', async () => {
    const s = scenario('no-scts');
    const r = await plugin([s.target, '--sni', s.sni, '--ca-file', set.caFile, '--json']);
    expect(r.code, r.stdout).toBe(0);
    const result = json(r.stdout);
    const info = result.findings.find((f) => f.id === 'ct-not-required');
    expect(info?.severity).toBe('info');
    expect(info?.message).toMatch(/^private CA: CT not required/);
    expect(result.findings.filter((f) => CT_IDS.test(f.id) && f.severity !== 'info')).toEqual([]);
    expect(await cacheFiles()).toEqual([]);
  });

  it('--require-ct makes the same chain CRITICAL for missing SCTs', async () => {
    const s = scenario('no-scts');
    const r = await plugin([
      s.target,
      '--sni',
      s.sni,
      '--ca-file',
      set.caFile,
      '--log-list',
      set.logList,
      '--require-ct',
      '--json',
    ]);
    expect(r.code).toBe(2);
    expect(
      json(r.stdout)
        .findings.filter((f) => f.severity === 'critical')
        .map((f) => f.id),
    ).toContain('ct-policy');
  });

  it('--ct-policy none: INFO ct-off, no log list loaded', async () => {
    const s = scenario('valid');
    const r = await plugin([
      s.target,
      '--sni',
      s.sni,
      '--ca-file',
      set.caFile,
      '--ct-policy',
      'none',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(json(r.stdout).findings.find((f) => f.id === 'ct-off')?.message).toBe(
      'CT checks off (--ct-policy none)',
    );
    expect(await cacheFiles()).toEqual([]);
  });
});

describe('the log list never makes the check UNKNOWN nor outlive -t', () => {
  it('a log-list URL that never answers: WARNING for CT only, done within -t, and not asked again for an hour', async () => {
    const s = scenario('valid');
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/list.json`;
    const args = [
      s.target,
      '--sni',
      s.sni,
      '--ca-file',
      set.caFile,
      '--require-ct',
      '--log-list',
      url,
      '-t',
      '3',
      '--json',
    ];
    const first = await plugin(args);
    expect(first.seconds).toBeLessThan(3.5);
    expect(first.code, first.stdout).toBe(1);
    const result = json(first.stdout);
    expect(result.status).toBe('WARNING');
    const warnings = result.findings.filter((f) => f.severity === 'warning').map((f) => f.id);
    expect(warnings).toEqual(expect.arrayContaining(['loglist-unavailable', 'ct-unchecked']));
    expect(result.findings.filter((f) => f.severity === 'critical' || f.severity === 'unknown')).toEqual([]);
    expect(result.findings.find((f) => f.id === 'chain-trusted')?.severity).toBe('ok');
    expect(hangHits).toBe(1);
    // The failure is remembered: the next run does not wait for the dead URL again.
    const again = await plugin(args);
    expect(again.code).toBe(1);
    expect(hangHits).toBe(1);
    expect(json(again.stdout).findings.find((f) => f.id === 'loglist-unavailable')?.message).toMatch(
      /not retried before/,
    );
    expect(again.seconds).toBeLessThan(first.seconds);
  });

  it('the default list unreachable: the signed snapshot shipped in data/ serves, with an INFO line saying how old it is', async () => {
    const s = scenario('valid');
    const r = await plugin(
      [s.target, '--sni', s.sni, '--ca-file', set.caFile, '--require-ct', '-t', '5', '--json'],
      {
        https_proxy: `http://127.0.0.1:${closedPort}`,
        XDG_CACHE_HOME: join(work, 'cache-snapshot'),
      },
    );
    expect(r.seconds).toBeLessThan(5.5);
    const result = json(r.stdout);
    const note = result.findings.find((f) => f.id === 'loglist-fallback');
    expect(note?.severity).toBe('info');
    expect(note?.message).toMatch(
      /^log list: the snapshot shipped with certvigil serves \(list of \d{4}-\d{2}-\d{2}, \d+ days old\): the download failed/,
    );
    // The test logs are not in Google's list: their SCTs are from unknown logs, judged as such.
    expect(result.status).not.toBe('UNKNOWN');
  });

  it('a server that accepts and never speaks: CRITICAL within -t', async () => {
    const port = (silent.address() as AddressInfo).port;
    const r = await plugin([
      `127.0.0.1:${port}`,
      '--sni',
      'x.test',
      '--ca-file',
      set.caFile,
      '--min-scts',
      '0',
      '-t',
      '1.5',
    ]);
    expect(r.code).toBe(2);
    // -t bounds the check; process start-up comes on top (slow on a loaded CI machine).
    expect(r.seconds).toBeLessThan(1.5 + 2);
    expect(r.stdout).toMatch(/did not finish within/);
    expect(r.stdout).toMatch(/^CERTVIGIL CRITICAL - /);
  });
});
