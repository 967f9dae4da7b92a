/**
 * The CA-side CAA iodef reporter (RFC 8659 §4.4) end to end with real components: the SQLite
 * store's outbox, a real SMTP server (aiosmtpd, test/harness/smtp.ts) for mailto: reports, and a
 * Node https server on 127.0.0.1 with a fresh self-signed certificate for RFC 6546 POSTs. The only
 * addresses ever connected to are loopback; the SSRF cases prove refusal before any connection.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CaaResult } from '../src/caa/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of iodef's API
import { denial } from '../src/iodef/reporter/caa-result.fixture.js';
import { drainOutbox, reportDenial, reporterPolicy } from '../src/iodef/index.js';
import type { DrainOptions, HostResolver, ReporterPolicy } from '../src/iodef/index.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';
import { startSmtpServer } from './harness/smtp.js';
import type { SmtpServer } from './harness/smtp.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(HERE, '..');
const CA = { name: 'Example CA', domain: 'ca.example', contactEmail: 'caa@ca.example' };
const FROM = 'Example CA iodef <iodef@ca.example>';
const T0 = new Date('2026-03-01T12:00:00.000Z');

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let smtp: SmtpServer;
let server: https.Server;
let port: number;
let certPem: string;
let workDir: string;
let received: Received[] = [];
const hits = new Map<string, number>();

/** Every name resolves to loopback: the https tests use real names that never reach the world. */
const toLoopback: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'certvigil-iodef-reporter-'));
  const key = join(workDir, 'key.pem');
  const cert = join(workDir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=iodef.example.com',
      '-addext',
      'subjectAltName=DNS:iodef.example.com,DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  certPem = await readFile(cert, 'utf8');
  server = https.createServer({ key: await readFile(key), cert: certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (path === '/ok') res.writeHead(202).end();
      else if (path === '/flaky') res.writeHead(n <= 2 ? 503 : 200).end(n <= 2 ? 'busy' : '');
      else if (path === '/down') res.writeHead(500).end('down');
      else if (path === '/redirect') res.writeHead(302, { location: 'https://127.0.0.1/ok' }).end();
      else if (path === '/big') res.writeHead(200).end('x'.repeat(1 << 20));
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  smtp = await startSmtpServer();
});

afterAll(async () => {
  await smtp?.stop();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rm(workDir, { recursive: true, force: true });
});

let store: Store;
let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'certvigil-iodef-state-'));
  store = await openStore({ stateDir });
  await store.migrate();
  received = [];
  hits.clear();
});
afterEach(async () => {
  await store.close();
  await rm(stateDir, { recursive: true, force: true });
});

function deny(
  result: CaaResult | CaaResult[],
  policy: ReporterPolicy,
  now = T0,
  validationSucceeded = false,
) {
  const results = Array.isArray(result) ? result : [result];
  return reportDenial(
    store,
    {
      result,
      requestedNames: results.map((r) => r.name),
      validationMethod: 'http-01',
      validationSucceeded,
      accountUri: 'https://acme.ca.example/acct/42',
      ca: CA,
    },
    policy,
    now,
  );
}

function drainOptions(policy: ReporterPolicy, extra: Partial<DrainOptions> = {}): DrainOptions {
  return {
    policy,
    from: FROM,
    smtp: { host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true },
    https: { ca: certPem, resolve: toLoopback },
    now: T0,
    ...extra,
  };
}

const LAB = reporterPolicy({ allowPrivateAddresses: true });

describe('mailto: reports', () => {
  it('delivers a readable text with the IODEF document attached and a Message-ID from the incident id', async () => {
    const outcomes = await deny(
      denial('www.example.com', [['iodef', 'mailto:CAA-Reports@Example.com']]),
      reporterPolicy(),
      T0,
      true,
    );
    expect(outcomes).toMatchObject([{ outcome: 'enqueued', recipient: 'mailto:CAA-Reports@example.com' }]);
    const incidentId = outcomes[0]?.incidentId ?? '';
    expect(incidentId).toMatch(/^[0-9a-f-]{36}$/);

    const drained = await drainOutbox(store, drainOptions(reporterPolicy()));
    expect(drained).toMatchObject({ sent: 1, retry: 0, gaveUp: 0 });
    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.envelope.rcptTo).toEqual(['CAA-Reports@example.com']);
    expect(mail?.messageId).toBe(`<iodef.${incidentId}@ca.example>`);
    expect(mail?.subject).toContain('www.example.com');
    expect(mail?.headers.get('auto-submitted')).toBe('auto-generated');
    const text = mail?.text ?? '';
    expect(text).toContain('Example CA refused to issue');
    expect(text).toContain('Names refused: www.example.com');
    expect(text).toContain('Reason:        issuer-not-authorized');
    expect(text).toMatch(/Risk: +high/);
    expect(text).toContain('0 issue "letsencrypt.org"');
    expect(text).toContain('What to do:');
    expect(mail?.attachments).toHaveLength(1);
    const attachment = mail?.attachments[0];
    expect(attachment?.contentType).toBe('application/xml');
    expect(attachment?.filename).toBe(`iodef-${incidentId}.xml`);
    const xml = attachment?.content.toString('utf8') ?? '';
    expect(xml).toContain('urn:ietf:params:xml:ns:iodef-2.0');
    expect(xml).toContain(incidentId);
    expect(xml).not.toContain('acme.ca.example/acct/42'); // includeAccountUri: false
    const [row] = await store.listIodefOutbox();
    expect(row?.sentAt).not.toBeNull();
    expect(row?.attempts).toBe(1);
  });
});

describe('https: reports (RFC 6546)', () => {
  it('POSTs a RID Report message wrapping the document, to the vetted address, SNI/Host kept', async () => {
    const url = `https://iodef.example.com:${port}/ok`;
    const outcomes = await deny(denial('www.example.com', [['iodef', url]]), LAB);
    expect(outcomes).toMatchObject([{ outcome: 'enqueued', channel: 'https' }]);
    const drained = await drainOutbox(store, drainOptions(LAB));
    expect(drained).toMatchObject({ sent: 1 });
    expect(received).toHaveLength(1);
    const req = received[0];
    expect(req?.headers['content-type']).toBe('application/rid+xml; charset=utf-8');
    expect(req?.headers.host).toBe(`iodef.example.com:${port}`);
    expect(req?.headers['iodef-incident-id']).toBe(outcomes[0]?.incidentId);
    expect(req?.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<iodef-rid:RID /);
    expect(req?.body).toContain('MsgType="Report"');
    expect(req?.body).toContain('<IODEF-Document');
    expect(req?.body.match(/<\?xml/g)).toHaveLength(1);
  });

  it('retries with backoff against a server that fails twice, then succeeds', async () => {
    const policy = reporterPolicy({ allowPrivateAddresses: true, backoffBaseSeconds: 60 });
    await deny(denial('www.example.com', [['iodef', `https://iodef.example.com:${port}/flaky`]]), policy);
    const first = await drainOutbox(store, drainOptions(policy, { random: () => 0.5 }));
    expect(first).toMatchObject({ retry: 1, sent: 0 });
    expect(first.deliveries[0]?.nextAttemptAt).toBe('2026-03-01T12:01:00.000Z');
    expect(await drainOutbox(store, drainOptions(policy))).toMatchObject({ sent: 0, retry: 0 }); // not due yet
    const second = await drainOutbox(
      store,
      drainOptions(policy, { now: new Date('2026-03-01T12:01:00.000Z'), random: () => 0.5 }),
    );
    expect(second).toMatchObject({ retry: 1 });
    expect(second.deliveries[0]?.nextAttemptAt).toBe('2026-03-01T12:03:00.000Z'); // doubled
    const third = await drainOutbox(
      store,
      drainOptions(policy, { now: new Date('2026-03-01T12:03:00.000Z') }),
    );
    expect(third).toMatchObject({ sent: 1 });
    expect(hits.get('/flaky')).toBe(3);
    const [row] = await store.listIodefOutbox();
    expect(row).toMatchObject({ attempts: 3, gaveUpAt: null });
    expect(row?.sentAt).not.toBeNull();
    // All three attempts carried the same incident id.
    expect(new Set(received.map((r) => r.headers['iodef-incident-id'])).size).toBe(1);
  });

  it('gives up after maxAttempts', async () => {
    const policy = reporterPolicy({ allowPrivateAddresses: true, maxAttempts: 3, backoffBaseSeconds: 1 });
    await deny(denial('www.example.com', [['iodef', `https://iodef.example.com:${port}/down`]]), policy);
    let now = T0;
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await drainOutbox(store, drainOptions(policy, { now }));
      statuses.push(...r.deliveries.map((d) => d.status));
      now = new Date(now.getTime() + 3600_000);
    }
    expect(statuses).toEqual(['retry', 'retry', 'gave-up']);
    expect(hits.get('/down')).toBe(3);
    const [row] = await store.listIodefOutbox();
    expect(row).toMatchObject({ attempts: 3, sentAt: null, lastError: expect.stringContaining('HTTP 500') });
    expect(row?.gaveUpAt).not.toBeNull();
  });

  it('does not follow redirects, and caps the response body', async () => {
    await deny(
      denial('www.example.com', [
        ['iodef', `https://iodef.example.com:${port}/redirect`],
        ['iodef', `https://iodef.example.com:${port}/big`],
      ]),
      LAB,
    );
    const r = await drainOutbox(store, drainOptions(LAB));
    expect(r.deliveries.map((d) => [d.recipient.replace(/.*\//, ''), d.status])).toEqual([
      ['redirect', 'gave-up'],
      ['big', 'sent'],
    ]);
    expect(r.deliveries[0]?.error).toMatch(/302 redirect not followed/);
    expect(received.map((x) => x.path)).toEqual(['/redirect', '/big']);
  });
});

describe('SSRF protection', () => {
  it('refuses a name that resolves to 127.0.0.1 without allowPrivateAddresses, and connects nowhere', async () => {
    const url = `https://iodef.example.com:${port}/ok`;
    await deny(denial('www.example.com', [['iodef', url]]), reporterPolicy());
    const r = await drainOutbox(store, drainOptions(reporterPolicy()));
    expect(r).toMatchObject({ gaveUp: 1, sent: 0 });
    expect(r.deliveries[0]?.error).toMatch(/resolves to 127\.0\.0\.1, a loopback address \(SSRF guard\)/);
    expect(received).toEqual([]);
  });

  it('refuses localhost through the system resolver', async () => {
    await deny(denial('www.example.com', [['iodef', `https://localhost:${port}/ok`]]), reporterPolicy());
    const r = await drainOutbox(store, drainOptions(reporterPolicy(), { https: { ca: certPem } }));
    expect(r.deliveries[0]?.error).toMatch(/localhost resolves to .*(loopback).*SSRF guard/);
    expect(received).toEqual([]);
  });

  it('refuses private literals at enqueue time and, if queued anyway, at send time without a lookup', async () => {
    const policy = reporterPolicy({ allowHttp: true });
    const literals = [
      'http://169.254.169.254/',
      'https://[::1]/',
      'https://10.0.0.1/',
      'https://[::ffff:7f00:1]/',
    ];
    const outcomes = await deny(
      denial(
        'www.example.com',
        literals.map((u): [string, string] => ['iodef', u]),
      ),
      policy,
    );
    expect(outcomes.map((o) => o.outcome)).toEqual(literals.map(() => 'private-address'));
    // Queued by an older policy: the sender still refuses, without resolving or connecting.
    for (const [i, recipient] of literals.entries())
      await store.enqueueIodefReport(
        {
          dedupKey: `k${i}`,
          recipient,
          channel: 'https',
          registeredDomain: `d${i}`,
          names: ['www.example.com'],
          reason: 'issuer-not-authorized',
          incidentId: `id-${i}`,
          document: '<IODEF-Document/>',
          createdAt: T0.toISOString(),
        },
        {
          dedupSince: T0.toISOString(),
          recipientSince: T0.toISOString(),
          recipientMax: 9,
          domainSince: T0.toISOString(),
          domainMax: 9,
        },
      );
    let lookups = 0;
    const r = await drainOutbox(
      store,
      drainOptions(policy, {
        https: {
          resolve: async () => {
            lookups++;
            return [];
          },
        },
        policy: reporterPolicy({ allowHttp: true, httpTimeoutMs: 200 }),
      }),
    );
    expect(r.deliveries.map((d) => d.status)).toEqual(['gave-up', 'gave-up', 'gave-up', 'gave-up']);
    for (const d of r.deliveries) expect(d.error).toMatch(/SSRF guard/);
    expect(r.deliveries.map((d) => /a (\S+) address/.exec(d.error ?? '')?.[1])).toEqual([
      'link-local',
      'loopback',
      'private',
      'ipv4-mapped-loopback',
    ]);
    expect(lookups).toBe(0);
  });
});

describe('dedup, rate limits, opt-out', () => {
  it('1,000 identical denials make one outbox row and one message per window', async () => {
    const result = denial('www.example.com', [['iodef', 'mailto:caa@example.com']]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++)
      for (const o of await deny(result, reporterPolicy(), new Date(T0.getTime() + i * 1000)))
        counts.set(o.outcome, (counts.get(o.outcome) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ enqueued: 1, duplicate: 999 });
    expect(await store.listIodefOutbox()).toHaveLength(1);
    const before = (await smtp.messages()).length;
    await drainOutbox(store, drainOptions(reporterPolicy(), { now: new Date(T0.getTime() + 1_000_000) }));
    expect(await smtp.waitForMessages(before + 1)).toHaveLength(before + 1);
    // The next window: one more.
    const nextDay = new Date(T0.getTime() + 86_400_000 + 1000_000);
    expect((await deny(result, reporterPolicy(), nextDay)).map((o) => o.outcome)).toEqual(['enqueued']);
    expect((await deny(result, reporterPolicy(), nextDay)).map((o) => o.outcome)).toEqual(['duplicate']);
    expect(await drainOutbox(store, drainOptions(reporterPolicy(), { now: nextDay }))).toMatchObject({
      sent: 1,
    });
    expect(await smtp.waitForMessages(before + 2)).toHaveLength(before + 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(await smtp.messages()).toHaveLength(before + 2);
  });

  it('limits reports per recipient and per registered domain', async () => {
    const perRecipient = reporterPolicy({ perRecipientPerDay: 3 });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++)
      for (const o of await deny(
        denial(`h${i}.example.com`, [['iodef', 'mailto:caa@example.com']]),
        perRecipient,
      ))
        outcomes.push(o.outcome);
    expect(outcomes).toEqual([
      'enqueued',
      'enqueued',
      'enqueued',
      'rate-limited-recipient',
      'rate-limited-recipient',
    ]);

    const perDomain = reporterPolicy({ perRecipientPerDay: 100, perRegisteredDomainPerDay: 4 });
    const domainOutcomes: string[] = [];
    for (let i = 0; i < 3; i++)
      for (const o of await deny(
        denial(`h${i}.example.org`, [
          ['iodef', `mailto:a${i}@example.org`],
          ['iodef', `mailto:b${i}@sub.example.org`],
        ]),
        perDomain,
      ))
        domainOutcomes.push(o.outcome);
    expect(domainOutcomes).toEqual([
      'enqueued',
      'enqueued',
      'enqueued',
      'enqueued',
      'rate-limited-domain',
      'rate-limited-domain',
    ]);
  });

  it('honours opt-outs at enqueue time and at send time', async () => {
    const optOut = reporterPolicy({ optOut: ['example.com'] });
    const outcomes = await deny(denial('www.example.com', [['iodef', 'mailto:caa@example.com']]), optOut);
    expect(outcomes.map((o) => o.outcome)).toEqual(['opted-out']);
    expect(await store.listIodefOutbox()).toHaveLength(0);
    // Queued before the owner opted out: given up, never sent.
    await deny(denial('www.example.com', [['iodef', 'mailto:caa@example.com']]), reporterPolicy());
    const before = (await smtp.messages()).length;
    const r = await drainOutbox(store, drainOptions(reporterPolicy({ optOut: ['mailto:caa@example.com'] })));
    expect(r).toMatchObject({ gaveUp: 1, sent: 0 });
    expect(r.deliveries[0]?.error).toMatch(/opted out/);
    await new Promise((res) => setTimeout(res, 200));
    expect(await smtp.messages()).toHaveLength(before);
  });
});

describe('crash safety', () => {
  it('reports enqueued by a process SIGKILLed before sending are all sent, exactly once, by a fresh drain', async () => {
    const count = 25;
    await store.close();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(HERE, 'fixtures', 'iodef-crash-writer.fixture.ts'), stateDir, String(count)],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<string>((resolve, reject) => {
      lines.on('line', (l) => {
        if (l.startsWith('enqueued')) resolve(l);
      });
      void exited.then(() => reject(new Error(`child exited early: ${stderr}`)));
    });
    expect(ready).toBe(`enqueued ${count}`);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    store = await openStore({ stateDir });
    await store.migrate();
    const queued = await store.listIodefOutbox();
    expect(queued).toHaveLength(count);
    expect(queued.every((r) => r.sentAt === null && r.attempts === 0)).toBe(true);
    const before = (await smtp.messages()).length;
    const policy = reporterPolicy();
    const first = await drainOutbox(store, drainOptions(policy, { now: new Date() }));
    expect(first).toMatchObject({ sent: count, retry: 0, gaveUp: 0 });
    const second = await drainOutbox(store, drainOptions(policy, { now: new Date() }));
    expect(second).toMatchObject({ sent: 0 });
    const mails = (await smtp.waitForMessages(before + count)).slice(before);
    expect(mails).toHaveLength(count);
    const ids = mails.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(count);
    expect(new Set(ids)).toEqual(new Set(queued.map((r) => `<iodef.${r.incidentId}@ca.example>`)));
  });
});
