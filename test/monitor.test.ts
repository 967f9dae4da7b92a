/**
 * `certvigil monitor` end to end: the local CT log (RFC 6962 and static-ct-api), the embedded SQLite
 * store, a real SMTP server for alerts — the jabber.ru scenario, SIGKILL during catch-up, faults,
 * a forked tree head, the run lock, start-at-end.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCtLogServer, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { CLI, jsonLines, runCli } from './cli-run.js';
import { startSmtpServer } from './harness/smtp.js';
import { buildScenario } from './monitor-scenario.js';
import type { Scenario } from './monitor-scenario.js';

let work: string;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-monitor-'));
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp?.stop();
  await rm(work, { recursive: true, force: true });
});
const servers: CtLogServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let n = 0;
interface Setup {
  scenario: Scenario;
  server: CtLogServer;
  list: string;
  stateDir: string;
  config: string;
  dir: string;
}

async function setup(
  options: { api?: 'rfc6962' | 'static'; bulk?: number; email?: boolean } = {},
): Promise<Setup> {
  const dir = join(work, `case-${++n}`);
  const scenario = await buildScenario(dir, { bulk: options.bulk ?? 500 });
  const server = await startCtLogServer(scenario.log, {
    rfc6962Prefix: '/logs/s/',
    staticPrefix: '/static/',
  });
  servers.push(server);
  const list = join(dir, 'loglist.json');
  await writeLogList(list, [{ server, api: options.api ?? 'rfc6962' }]);
  const config = join(dir, 'config.yaml');
  const alerts = options.email
    ? `alerts:\n  email:\n    smtp: { host: ${smtp.host}, port: ${smtp.port} }\n    from: certvigil@monitor.test\n    to: [security-${n}@example.test]\n`
    : `alerts:\n  exec: { command: "cat >/dev/null; echo \\"$EVENT $TBS_SHA256\\" >> ${join(dir, 'hook.log')}" }\n`;
  await writeFile(config, `caaResolver: false\n${alerts}`);
  return { scenario, server, list, stateDir: join(dir, 'state'), config, dir };
}

const monitorArgs = (s: Setup): string[] => [
  'monitor',
  '--once',
  '--log-list',
  s.list,
  '--watchlist',
  s.scenario.watchlist,
  '--state-dir',
  s.stateDir,
  '--inventory',
  s.scenario.inventoryDir,
  '--config',
  s.config,
];

async function certs(s: Setup): Promise<Record<string, unknown>[]> {
  const out = await runCli(['certs', 'list', '--state-dir', s.stateDir, '--json']);
  expect(out.code, out.stderr).toBe(0);
  return jsonLines(out.stdout);
}

function mailsTo(address: string, messages: { to: string; subject: string }[]) {
  return messages.filter((m) => m.to.includes(address));
}

describe('the jabber.ru scenario', () => {
  it.each(['rfc6962', 'static'] as const)(
    'over %s: alerts once, by mail, for the attacker only, with reasons',
    async (api) => {
      const s = await setup({ api, email: true });
      const run = await runCli(monitorArgs(s));
      expect(run.code, run.stderr).toBe(0);

      const list = await certs(s);
      const mine = list.filter((c) => (c.dnsNames as string[]).includes('www.example.test'));
      expect(mine).toHaveLength(4); // three renewals + the attacker's, precert and final merged
      const unknown = mine.filter((c) => c.known === false);
      expect(unknown).toHaveLength(1);
      const attacker = unknown[0] as {
        reasons: { code: string }[];
        entries: { log: string; index: number }[];
        issuer: string;
      };
      const codes = attacker.reasons.map((r) => r.code);
      expect(codes).toEqual(expect.arrayContaining(['not-in-inventory', 'new-key', 'off-cadence']));
      expect(codes).not.toContain('issuer-changed'); // same CA: only the key and the timing give it away
      expect(attacker.entries).toHaveLength(2); // precert_entry + x509_entry
      for (const c of mine.filter((x) => x.known === true)) expect(c.reasons).toEqual([]);
      for (const c of list)
        for (const key of [
          'tbsSha256',
          'dnsNames',
          'issuer',
          'notBefore',
          'notAfter',
          'known',
          'reasons',
          'entries',
        ])
          expect(c).toHaveProperty(key);

      const mails = mailsTo(`security-${n}@example.test`, await smtp.messages());
      const about = mails.filter((m) => m.subject.includes('www.example.test'));
      expect(about).toHaveLength(1);
      expect(about[0]?.subject).toMatch(/unknown/i);

      // A second run finds nothing new and sends nothing.
      const again = await runCli(monitorArgs(s));
      expect(again.code, again.stderr).toBe(0);
      expect(mailsTo(`security-${n}@example.test`, await smtp.messages())).toHaveLength(mails.length);
    },
  );
});

describe('crash safety', () => {
  it('resumes after SIGKILL during catch-up with the same rows and no duplicate alert', async () => {
    const killed = await setup({ bulk: 120_000 });
    // The reference reads the same log and inventory into a fresh state, without interruption.
    const reference: Setup = {
      ...killed,
      stateDir: join(killed.dir, 'state-reference'),
      config: join(killed.dir, 'reference.yaml'),
    };
    await writeFile(reference.config, 'caaResolver: false\nalerts:\n  exec: { command: "cat >/dev/null" }\n');

    const child = spawn(process.execPath, [CLI, ...monitorArgs(killed)], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const resumed = await runCli(monitorArgs(killed));
    expect(resumed.code, resumed.stderr).toBe(0);
    const clean = await runCli(monitorArgs(reference));
    expect(clean.code, clean.stderr).toBe(0);
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ firstSeen: _f, ...rest }) => rest);
    expect(strip(await certs(killed))).toEqual(strip(await certs(reference)));
    const hook = (await readFile(join(killed.dir, 'hook.log'), 'utf8')).trim().split('\n');
    const issuanceAlerts = hook.filter((l) => l.startsWith('discovered_cert'));
    expect(issuanceAlerts).toHaveLength(1);
    // Three catch-ups of 120,000 entries: ~10 s alone, more on a loaded 2-core CI machine.
  }, 120_000);
});

describe('faults and misbehaviour', () => {
  it('survives 429, 5xx and short get-entries answers with the same result', async () => {
    const s = await setup({ bulk: 2000 });
    s.server.faults.next429(2, 1, 'get-entries');
    s.server.faults.next5xx(2, 502, 'get-entries');
    s.server.faults.getEntriesLimit = 13;
    const run = await runCli(monitorArgs(s));
    expect(run.code, run.stderr).toBe(0);
    expect((await certs(s)).filter((c) => c.known === false)).toHaveLength(1);
  });

  it('records a malformed entry without stopping', async () => {
    const s = await setup();
    const run = await runCli(monitorArgs(s));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/1 malformed/);
  });

  it('exits 1 and alerts when the log presents a forked tree head', async () => {
    const s = await setup();
    expect((await runCli(monitorArgs(s))).code).toBe(0);
    s.server.faults.sthOverride = s.scenario.log.forkedSth('same-size').sth;
    const run = await runCli(monitorArgs(s));
    expect(run.code, run.stderr).toBe(1);
    expect(await readFile(join(s.dir, 'hook.log'), 'utf8')).toMatch(/^error /m);
  });

  it('alerts when the log has fallen behind its maximum merge delay', async () => {
    const s = await setup({ bulk: 0 });
    const log = s.scenario.log;
    const old = log.signTreeHead(log.sth.treeSize, Date.now() - 3 * 86_400_000, log.sth.rootHash);
    s.server.faults.sthOverride = old;
    const run = await runCli(monitorArgs(s));
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(s.dir, 'hook.log'), 'utf8')).toMatch(/^error /m);
    expect(run.stderr).toMatch(/fallen behind/);
  });

  it('exits 2 when a log cannot be read', async () => {
    const s = await setup({ bulk: 0 });
    await s.server.close();
    const run = await runCli(monitorArgs(s));
    expect(run.code).toBe(2);
  }, 60_000);

  it('refuses a second monitor on the same state', async () => {
    const s = await setup({ bulk: 150_000 });
    const first = spawn(process.execPath, [CLI, ...monitorArgs(s)], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500));
    const second = await runCli(monitorArgs(s));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/another monitor/);
  });
});

describe('start at end', () => {
  it('skips what the log already holds and catches what comes next', async () => {
    const s = await setup({ bulk: 100 });
    const first = await runCli([...monitorArgs(s), '--start-at-end']);
    expect(first.code, first.stderr).toBe(0);
    expect(await certs(s)).toEqual([]);
    s.scenario.log.addPrecertificate(s.scenario.ca, { dnsNames: ['late.example.test'], alsoLogFinal: true });
    s.scenario.log.publish();
    const second = await runCli(monitorArgs(s));
    expect(second.code, second.stderr).toBe(0);
    expect((await certs(s)).map((c) => c.dnsNames)).toEqual([['late.example.test']]);
  });
});
