/**
 * `GET /metrics` (issue 16) over a store filled by a REAL `certvigil monitor --once` run (the built
 * binary) on the local CT log fixture: the jabber.ru scenario of test/monitor-scenario.ts, plus a
 * second log that is down during the run (a fetch error). The alert hook fails on purpose, so the
 * attacker's alert stays pending with a failed delivery. Only the received iodef report is added
 * through the store API (the monitor does not receive reports).
 *
 * Checked: Bearer authentication (401 without or with a wrong token), `promtool check metrics`
 * (Debian's prometheus package) accepts the body, the values equal what `certvigil status --json`
 * and `certs list --json` say of the same state, one registry per app, the scrape cache, and the
 * Grafana dashboard in contrib/ only uses metric names the endpoint exposes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/server/index.js';
import type { ServerDeps } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- the lead's token helper; tests mint tokens as `token create` does
import { newSecret, newToken, secretHash } from '../src/server/auth/secrets.js';
// eslint-disable-next-line certvigil/no-deep-imports -- the lead's cookie name, as a browser sends it
import { SESSION_COOKIE } from '../src/server/auth/middleware.js';
import { startCtLogServer, TestLog } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { runMonitorOnce, startMonitorSetup } from './fixtures/monitor-run.js';
import { createTestToken } from './fixtures/tokens.js';
import { jsonLines, runCli } from './cli-run.js';
import { Daemon, findFreePort, LOOPBACK } from './harness/processes.js';

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';

let work: string;
let stateDir: string;
let store: Store;
let token: string;
let server: CtLogServer;
let downLogId: string;
let monitorExit: number;

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const deps = (): ServerDeps => ({ store, logger, secureCookies: false });
const auth = (t: string): RequestInit => ({ headers: { Authorization: `Bearer ${t}` } });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-metrics-'));
  // A second log, listed but down while the monitor runs: its health says `unreachable`.
  const downLog = new TestLog({ name: 'certvigil down log' });
  downLog.publish();
  const down = await startCtLogServer(downLog, { rfc6962Prefix: '/logs/d/' });
  downLogId = downLog.logId.toString('base64');
  // The hook fails: the attacker's alert stays pending, its last error names the `exec` sink.
  const setup = await startMonitorSetup(work, {
    bulk: 50,
    alertCommand: 'cat >/dev/null; exit 3',
    extraLogs: [down],
  });
  server = setup.server;
  await down.close();
  stateDir = join(work, 'state');
  const run = await runMonitorOnce(setup, stateDir);
  monitorExit = run.code;

  store = await openStore({ stateDir });
  token = await createTestToken(store, 'viewer', { name: 'prometheus' });
  await store.storeReceivedIodef({
    fingerprint: 'a'.repeat(64),
    senderKey: 'https:127.0.0.1',
    documentSha256: 'b'.repeat(64),
    incidentKey: null,
    sender: '127.0.0.1',
    channel: 'https',
    receivedAt: new Date().toISOString(),
    schemaValid: true,
    summary: {},
    document: '<IODEF-Document/>',
  });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a text exposition (format 0.0.4), comments skipped. */
function samples(body: string): Sample[] {
  const out: Sample[] = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

function value(all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

/** Runs `promtool check metrics` with the body on stdin. */
function promtool(body: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, output }));
    p.stdin.end(body);
  });
}

async function scrape(): Promise<{ body: string; all: Sample[] }> {
  const res = await createApp(deps()).request('/metrics', auth(token));
  expect(res.status).toBe(200);
  const body = await res.text();
  return { body, all: samples(body) };
}

describe('GET /metrics', () => {
  it('the monitor run read the good log and failed on the down one (exit 2)', () => {
    expect(monitorExit).toBe(2);
  });

  it.each([
    ['no Authorization header', {}],
    ['a wrong token', auth('not-the-token')],
    ['a malformed header', { headers: { Authorization: 'Basic Zm9vOmJhcg==' } }],
  ] as [string, RequestInit][])('401 with %s, and no metric in the body', async (_name, init) => {
    const res = await createApp(deps()).request('/metrics', init);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.text()).not.toContain('certvigil_');
  });

  it.each([
    ['a valid session', 3_600_000, null, 200],
    ['an expired session', -1_000, null, 401],
    ['a revoked token', null, 'revoked', 401],
    ['an expired token', null, 'expired', 401],
  ] as const)('%s → %i', async (_name, sessionTtl, tokenState, status) => {
    const now = Date.now();
    let init: RequestInit;
    if (sessionTtl !== null) {
      const cookie = newSecret();
      await store.createSession({
        idSha256: secretHash(cookie),
        principal: 'user:grafana',
        role: 'viewer',
        csrfToken: newSecret(),
        createdAt: new Date(now - 10_000).toISOString(),
        expiresAt: new Date(now + sessionTtl).toISOString(),
      });
      init = { headers: { Cookie: `${SESSION_COOKIE}=${cookie}` } };
    } else {
      const t = newToken();
      await store.createToken({
        id: t.id,
        name: `prometheus-${tokenState}`,
        role: 'viewer',
        tokenSha256: t.tokenSha256,
        createdAt: new Date(now - 10_000).toISOString(),
        expiresAt: tokenState === 'expired' ? new Date(now - 1_000).toISOString() : null,
        revokedAt: null,
        lastUsedAt: null,
      });
      if (tokenState === 'revoked') await store.revokeToken(t.id, new Date(now - 1_000).toISOString());
      init = auth(t.token);
    }
    const res = await createApp(deps()).request('/metrics', init);
    expect(res.status).toBe(status);
    expect((await res.text()).includes('certvigil_log_position')).toBe(status === 200);
  });

  it('answers the Prometheus text format that promtool check metrics accepts', async () => {
    expect(existsSync(PROMTOOL), `${PROMTOOL} missing: apt-get install prometheus (.ci/run does)`).toBe(true);
    const res = await createApp(deps()).request('/metrics', auth(token));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    const check = await promtool(body);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    const all = samples(body);
    expect(all.some((s) => s.name.startsWith('certvigil_'))).toBe(true);
    // HELP and TYPE for every certvigil family.
    const families = new Set(all.filter((s) => s.name.startsWith('certvigil_')).map((s) => s.name));
    for (const f of families) {
      expect(body).toMatch(new RegExp(`^# HELP ${f} \\S`, 'm'));
      expect(body).toMatch(new RegExp(`^# TYPE ${f} gauge$`, 'm'));
    }
    // Process metrics under their standard names.
    expect(families.size).toBeGreaterThan(15);
    expect(all.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
  });

  it('per-log values equal `certvigil status --json` of the same state', async () => {
    const status = await runCli(['status', '--state-dir', stateDir, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const report = jsonLines(status.stdout)[0] as {
      logs: {
        logId: string;
        url: string;
        treeSize: number | null;
        position: number;
        verifiedSize: number | null;
        backlog: number | null;
        status: string;
        behindSeconds: number | null;
      }[];
      logList: { ageSeconds: number | null };
    };
    const { all } = await scrape();
    expect(report.logs).toHaveLength(2);
    const up = report.logs.find((l) => l.logId !== downLogId);
    const down = report.logs.find((l) => l.logId === downLogId);
    expect(up?.status).toBe('ok');
    expect(down?.status).toBe('unreachable');
    expect(up?.treeSize).toBeGreaterThan(50);
    for (const l of report.logs) {
      const labels = { log_id: l.logId, url: l.url };
      expect(value(all, 'certvigil_log_position', labels)).toBe(l.position);
      expect(value(all, 'certvigil_log_tree_size', labels)).toBe(l.treeSize ?? undefined);
      expect(value(all, 'certvigil_log_backlog', labels)).toBe(l.backlog ?? undefined);
      expect(value(all, 'certvigil_log_verified_tree_size', labels)).toBe(l.verifiedSize ?? undefined);
      const age = value(all, 'certvigil_log_last_verified_age_seconds', labels);
      if (l.behindSeconds === null) expect(age).toBeUndefined();
      else expect(Math.abs((age ?? -1e9) - l.behindSeconds)).toBeLessThanOrEqual(5);
      expect(value(all, 'certvigil_log_status', { ...labels, status: l.status })).toBe(1);
    }
    expect(value(all, 'certvigil_log_position', { log_id: up?.logId ?? '' })).toBe(up?.treeSize);
    expect(value(all, 'certvigil_logs', { status: 'ok' })).toBe(1);
    expect(value(all, 'certvigil_logs', { status: 'unreachable' })).toBe(1);
    expect(value(all, 'certvigil_log_malformed_entries', { log_id: up?.logId ?? '' })).toBe(1);
    const listAge = value(all, 'certvigil_log_list_age_seconds');
    expect(listAge).toBeDefined();
    expect(Math.abs((listAge ?? -1e9) - (report.logList.ageSeconds ?? 1e9))).toBeLessThanOrEqual(5);
  });

  it('issuances by known/severity equal `certs list --json`; alerts and iodef equal the store', async () => {
    const list = await runCli(['certs', 'list', '--state-dir', stateDir, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const certs = jsonLines(list.stdout) as { known: boolean; severity: string }[];
    const { all } = await scrape();
    expect(value(all, 'certvigil_issuances_stored')).toBe(certs.length);
    expect(value(all, 'certvigil_issuances_unclassified')).toBe(0);
    for (const known of [true, false])
      for (const severity of ['info', 'warning', 'critical'])
        expect(
          value(all, 'certvigil_issuances', { known: String(known), severity }),
          `${known} ${severity}`,
        ).toBe(certs.filter((c) => c.known === known && c.severity === severity).length);
    // The attacker's certificate is unknown.
    const unknown = all.filter((s) => s.name === 'certvigil_issuances' && s.labels['known'] === 'false');
    expect(unknown.reduce((n, s) => n + s.value, 0)).toBeGreaterThanOrEqual(1);

    const alerts = await store.listAlerts();
    const pending = alerts.filter((a) => a.deliveredAt === null);
    expect(pending.some((a) => a.kind === 'issuance')).toBe(true);
    for (const kind of ['issuance', 'health', 'misbehaviour', 'malformed']) {
      expect(value(all, 'certvigil_alerts_pending', { kind }), kind).toBe(
        pending.filter((a) => a.kind === kind).length,
      );
      expect(value(all, 'certvigil_alerts_delivered', { kind }), kind).toBe(
        alerts.filter((a) => a.kind === kind && a.deliveredAt !== null).length,
      );
    }
    const failing = pending.filter((a) => a.lastError?.startsWith('exec: ')).length;
    expect(failing).toBeGreaterThanOrEqual(1);
    expect(value(all, 'certvigil_alerts_failed', { sink: 'exec', state: 'pending' })).toBe(failing);
    expect(value(all, 'certvigil_alerts_failed', { sink: 'email', state: 'pending' })).toBe(0);
    expect(value(all, 'certvigil_iodef_reports_received', { channel: 'https' })).toBe(1);
    expect(value(all, 'certvigil_iodef_reports_received', { channel: 'smtp' })).toBe(0);
  });

  it('labels are bounded: no DNS name or certificate hash appears in any label', async () => {
    const { all } = await scrape();
    const tbs = (await store.listIssuances()).map((i) => i.tbsSha256);
    for (const s of all)
      for (const v of Object.values(s.labels)) {
        expect(v).not.toMatch(/example\.test/);
        expect(tbs).not.toContain(v);
      }
  });

  it('two apps in one process each have their own registry (no double registration, no shared series)', async () => {
    const a = createApp(deps());
    const b = createApp(deps());
    const [ra, rb] = await Promise.all([
      a.request('/metrics', auth(token)),
      b.request('/metrics', auth(token)),
    ]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    const [ta, tb] = [await ra.text(), await rb.text()];
    expect(ta.match(/^# TYPE certvigil_log_position gauge$/gm)).toHaveLength(1);
    expect(tb.match(/^# TYPE certvigil_log_position gauge$/gm)).toHaveLength(1);
  });

  it('a scrape storm reads the store once per cache period', async () => {
    const app = createApp(deps());
    const cursors = vi.spyOn(store, 'listCursors');
    const alerts = vi.spyOn(store, 'listAlerts');
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => app.request('/metrics', auth(token))),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
      await app.request('/metrics', auth(token));
      // listCursors: once for the fast snapshot, once inside the view context of the classification.
      expect(cursors.mock.calls.length).toBe(2);
      // listAlerts: the outbox tally and the view context's CAA verdicts, once each.
      expect(alerts.mock.calls.length).toBe(2);
    } finally {
      cursors.mockRestore();
      alerts.mockRestore();
    }
  });
});

describe('contrib/grafana/certvigil-dashboard.json', () => {
  interface Panel {
    title?: string;
    type?: string;
    datasource?: unknown;
    targets?: { expr?: string }[];
    panels?: Panel[];
  }
  const load = async (): Promise<{
    schemaVersion: number;
    __inputs: { name: string; type: string; pluginId: string }[];
    panels: Panel[];
  }> =>
    JSON.parse(
      await readFile(new URL('../contrib/grafana/certvigil-dashboard.json', import.meta.url), 'utf8'),
    ) as {
      schemaVersion: number;
      __inputs: { name: string; type: string; pluginId: string }[];
      panels: Panel[];
    };
  const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);

  it('is an importable dashboard with a ${DS_PROMETHEUS} datasource input', async () => {
    const d = await load();
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    for (const p of flat(d.panels).filter((x) => x.type !== 'row'))
      expect(JSON.stringify(p.datasource), p.title).toContain('${DS_PROMETHEUS}');
  });

  it('every metric name its expressions use is exposed by /metrics', async () => {
    const d = await load();
    const exprs = flat(d.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    expect(exprs.length).toBeGreaterThanOrEqual(6);
    const used = new Set(exprs.flatMap((e) => e.match(/\bcertvigil_[a-z0-9_]+/g) ?? []));
    const { body } = await scrape();
    const exposed = new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const name of used) expect(exposed.has(name), name).toBe(true);
    const titles = flat(d.panels).map((p) => (p.title ?? '').toLowerCase());
    for (const topic of ['backlog', 'verified', 'unknown', 'alerts', 'log list', 'iodef'])
      expect(
        titles.some((t) => t.includes(topic)),
        topic,
      ).toBe(true);
  });
});

describe("README's scrape config, run by a real Prometheus", () => {
  /** The YAML block of the README's metrics section. */
  async function readmeScrapeConfig(): Promise<string> {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Prometheus metrics'));
    const m = /```yaml\n([\s\S]*?)```/.exec(section);
    if (!m?.[1]) throw new Error('no yaml block in the README metrics section');
    return m[1];
  }

  it('the README documents exactly the certvigil_ families /metrics exposes', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('## Prometheus metrics');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const documented = new Set(section.match(/\bcertvigil_[a-z0-9_]+/g) ?? []);
    const { body } = await scrape();
    const exposed = new Set([...body.matchAll(/^# TYPE (certvigil_\S+) /gm)].map((m) => m[1] ?? ''));
    expect([...documented].sort()).toEqual([...exposed].sort());
  });

  it('scrapes /metrics with the bearer token of credentials_file; a wrong token is refused (up 0)', async () => {
    const yaml = await readmeScrapeConfig();
    expect(yaml).toMatch(/authorization:\n\s+type: Bearer\n\s+credentials_file: /);
    const dir = await mkdtemp(join(work, 'prometheus-'));
    const good = join(dir, 'certvigil.token');
    const bad = join(dir, 'wrong.token');
    await writeFile(good, `${token}\n`, { mode: 0o400 });
    await writeFile(bad, 'not-the-token\n', { mode: 0o400 });
    const app = createApp(deps());
    const http = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: LOOPBACK, port: 0 }, () => resolve(s));
    });
    const address = http.address();
    const target = `${LOOPBACK}:${typeof address === 'object' && address !== null ? address.port : 0}`;
    // The README's job as written, pointed at this server over loopback HTTP and scraped every
    // second; plus the same job with a wrong token.
    const job = yaml
      .replace(/^scrape_configs:\n/, '')
      .replace(/scheme: https[^\n]*/, 'scheme: http')
      .replace(/scrape_interval: \S+/, 'scrape_interval: 1s')
      .replace(/credentials_file: \S+[^\n]*/, `credentials_file: ${good}`)
      .replace(/targets: \[[^\]]*\]/, `targets: ['${target}']`);
    const wrong = job.replace(/job_name: \S+/, 'job_name: wrong').replace(good, bad);
    const config = join(dir, 'prometheus.yml');
    await writeFile(config, `scrape_configs:\n${job}${wrong}`);
    const check = await new Promise<number>((resolve) =>
      spawn(PROMTOOL, ['check', 'config', config], { stdio: 'ignore' }).on('close', (c) => resolve(c ?? -1)),
    );
    expect(check).toBe(0);
    const port = await findFreePort();
    const prometheus = new Daemon(
      'prometheus',
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=${LOOPBACK}:${port}`,
      ],
      dir,
      join(dir, 'prometheus.log'),
    );
    const query = async (
      q: string,
    ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
      const res = await fetch(`http://${LOOPBACK}:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result;
    };
    try {
      const deadline = Date.now() + 30_000;
      let up: Record<string, string> = {};
      let stored: string | undefined;
      while (Date.now() < deadline && prometheus.running) {
        try {
          up = Object.fromEntries((await query('up')).map((r) => [r.metric['job'] ?? '', r.value[1]]));
          stored = (await query('certvigil_issuances_stored'))[0]?.value[1];
        } catch {
          // not listening yet
        }
        if (up['certvigil'] !== undefined && up['wrong'] !== undefined && stored !== undefined) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(up, prometheus.describeLogs()).toEqual({ certvigil: '1', wrong: '0' });
      expect(Number(stored)).toBe(await store.countIssuances());
    } finally {
      await prometheus.stop();
      await new Promise((r) => http.close(r));
    }
  }, 60_000);
});
