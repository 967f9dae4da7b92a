/**
 * The owner-side CAA iodef receiver (RFC 8659 §4.4) against real components: an HTTPS receiver
 * (RFC 6546) on 127.0.0.1 with a self-signed certificate made by openssl, a SQLite store, the
 * notify webhook sink posting to a local HTTP server, nodemailer talking to the SMTP intake, and a
 * Maildir on disk. Hostile clients (oversized, malformed, XXE, billion laughs, slowloris, floods,
 * no client certificate) must neither crash it nor make it lose a good report.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { request } from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifiers } from '../src/notify/index.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';
import { readMaildir, readMbox, startHttpReceiver, startSmtpReceiver } from '../src/iodef/index.js';
import type { HttpReceiver, HttpReceiverEvent, SmtpReceiver } from '../src/iodef/index.js';

const VECTORS = join(import.meta.dirname, 'vectors', 'iodef');
const valid = readFileSync(join(VECTORS, 'valid-minimal-v2.xml'), 'utf8');
const invalidNode = readFileSync(join(VECTORS, 'invalid-incident-node.xml'), 'utf8');
/** The valid vector with another IncidentID (a different report). */
const report = (id: string): string => valid.replace('caa-0001', id);

const work = mkdtempSync(join(tmpdir(), 'certvigil-iodef-receiver-'));
const pemOf = (name: string): string => readFileSync(join(work, name), 'utf8');

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: work, stdio: 'pipe', timeout: 20_000 });
}

/** Server cert (self-signed, SAN 127.0.0.1), a client CA and a client cert it issued, a stray cert. */
function makeCertificates(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'server.key',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Test iodef client CA',
  ]);
  openssl([
    'req',
    ...ec,
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
    '-subj',
    '/CN=reporter.ca.example/O=Example CA',
  ]);
  writeFileSync(join(work, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'client.pem',
    '-days',
    '2',
    '-extfile',
    'client.ext',
  ]);
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'stray.key',
    '-out',
    'stray.pem',
    '-days',
    '2',
    '-subj',
    '/CN=not from the client CA',
  ]);
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface PostOptions {
  method?: string;
  contentType?: string | null;
  localAddress?: string;
  cert?: string;
  key?: string;
}

function post(url: string, body: string | Buffer, o: PostOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (o.contentType !== null) headers['Content-Type'] = o.contentType ?? 'application/rid+xml';
    const req = request(
      url,
      {
        method: o.method ?? 'POST',
        ca: pemOf('server.pem'),
        headers,
        agent: false,
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
        ...(o.cert === undefined ? {} : { cert: o.cert, key: o.key }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.method === 'GET' ? undefined : body);
  });
}

/** A raw TLS connection to the receiver: write what we like, collect what comes back until close. */
function rawTls(
  port: number,
): Promise<{ socket: tls.TLSSocket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: pemOf('server.pem') }, () => {
      let data = '';
      socket.on('data', (c: Buffer) => {
        data += c.toString('latin1');
      });
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      resolve({ socket, received: () => data, closed });
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

let store: Store;
let hook: Server;
let hookUrl: string;
const alerts: {
  type: string;
  severity: string;
  message: string;
  report: { id: number; names: string[]; kind?: string; conflictsWith?: number[] };
}[] = [];
let receiver: HttpReceiver;
const events: HttpReceiverEvent[] = [];

beforeAll(async () => {
  makeCertificates();
  store = await openStore({ stateDir: join(work, 'state') });
  await store.migrate();
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      alerts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof alerts)[number]);
      res.writeHead(200).end();
    });
  });
  hook.listen(0, '127.0.0.1');
  await once(hook, 'listening');
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  receiver = await startHttpReceiver({
    host: '127.0.0.1',
    port: 0,
    path: '/iodef',
    tls: { cert: pemOf('server.pem'), key: pemOf('server.key') },
    store,
    alert: createNotifiers({ webhook: { url: hookUrl } }),
    onReport: (e) => events.push(e),
    limits: {
      headersTimeoutMs: 1_000,
      requestTimeoutMs: 4_000,
      rate: { burst: 1_000, perMinute: 6_000 },
      lingerMs: 500,
    },
  });
}, 60_000);

afterAll(async () => {
  await receiver.close();
  hook.close();
  await store.close();
  rmSync(work, { recursive: true, force: true });
});

describe('HTTPS receiver (RFC 6546)', () => {
  it('stores a valid IODEF v2 report once and alerts once', async () => {
    const first = await post(receiver.url, valid);
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^accepted report [0-9a-f]{16}\n$/);
    expect(await waitFor(() => alerts.length === 1, 5_000)).toBe(true);
    expect(alerts[0]).toMatchObject({ type: 'iodef-report', severity: 'info' });
    expect(alerts[0]?.message).toContain('Example CA refused');

    const again = await post(receiver.url, valid, { contentType: 'application/xml; charset=utf-8' });
    expect(again.status).toBe(200);
    // A sender's own duplicate gets exactly the reply of a new report (issue 12: replies leak nothing).
    expect(again.body).toBe(first.body);
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts).toHaveLength(1);
    const stored = await store.listReceivedIodef();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      channel: 'https',
      schemaValid: true,
      sender: '127.0.0.1',
      senderKey: 'addr:127.0.0.1',
      conflict: false,
    });
    expect(stored[0]?.document).toBe(valid);
  });

  it('answers other methods with 405 and Allow: POST, other paths with 404', async () => {
    const get = await post(receiver.url, '', { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const put = await post(receiver.url, valid, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect((await post(receiver.url.replace('/iodef', '/other'), valid)).status).toBe(404);
  });

  it('refuses other content types with 415', async () => {
    expect((await post(receiver.url, valid, { contentType: 'application/json' })).status).toBe(415);
    expect((await post(receiver.url, valid, { contentType: null })).status).toBe(415);
  });

  it('refuses a 2 MB body with 413 without reading it all', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'a');
    const declared: Reply | Error = await post(receiver.url, big).catch((err: unknown) =>
      err instanceof Error ? err : new Error(String(err)),
    );
    // Either the 413 arrives, or the server closed before the client finished writing (EPIPE):
    // in both cases the 2 MB were not taken in.
    if (declared instanceof Error) expect(declared.message).toMatch(/EPIPE|ECONNRESET|socket hang up/);
    else expect(declared.status).toBe(413);
    const tooLarge = events.filter((e) => e.outcome === 'too-large');
    expect(tooLarge[0]?.reason).toBe(`declared ${big.length} bytes`);

    // Chunked, no length: the 413 must come once the cap is crossed, while the client still has
    // most of its 2 MB unsent.
    const raw = await rawTls(receiver.port);
    raw.socket.write(
      'POST /iodef HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/rid+xml\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const chunk = Buffer.alloc(64 * 1024, 'b');
    for (let i = 0; i < 6; i++)
      raw.socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`);
    expect(await waitFor(() => raw.received().startsWith('HTTP/1.1 413'), 5_000)).toBe(true);
    await raw.closed; // the server cuts the connection after its linger
  });

  it('rejects malformed XML, XXE and billion laughs with 400 and leaks nothing', async () => {
    const malformed = await post(receiver.url, '<IODEF-Document version="2.00"><Incident>');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toContain('IODEF_MALFORMED');

    const xxe =
      '<?xml version="1.0"?>\n<!DOCTYPE IODEF-Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n' +
      '<IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0"><Incident purpose="reporting">' +
      '<IncidentID name="evil.example">&x;</IncidentID><GenerationTime>2026-05-01T12:00:00Z</GenerationTime>' +
      '<Contact role="creator" type="organization"><ContactName>&x;</ContactName></Contact></Incident></IODEF-Document>';
    const x = await post(receiver.url, xxe);
    expect(x.status).toBe(400);
    expect(x.body).toContain('IODEF_UNSAFE');
    expect(x.body).not.toMatch(/root:|\/bin\//);

    const lol = ['<!ENTITY a0 "lol">'];
    for (let i = 1; i < 10; i++) lol.push(`<!ENTITY a${i} "${`&a${i - 1};`.repeat(10)}">`);
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [${lol.join('')}]><IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0">&a9;</IODEF-Document>`;
    const start = Date.now();
    const l = await post(receiver.url, laughs);
    expect(l.status).toBe(400);
    expect(Date.now() - start).toBeLessThan(2_000);

    const notIodef = await post(receiver.url, '<html><body>hi</body></html>');
    expect(notIodef.status).toBe(400);
    expect(notIodef.body).toContain('IODEF_NOT_IODEF');
    const stored = await store.listReceivedIodef();
    expect(stored.every((r) => !r.document.includes('root:'))).toBe(true);
  });

  it('cuts off a slowloris client whose headers trickle', async () => {
    const raw = await rawTls(receiver.port);
    raw.socket.write('POST /iodef HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const start = Date.now();
    const drip = setInterval(() => {
      if (!raw.socket.destroyed) raw.socket.write(`X-Drip-${Date.now()}: 1\r\n`);
    }, 150);
    await raw.closed;
    clearInterval(drip);
    const took = Date.now() - start;
    expect(took).toBeLessThan(4_000); // headersTimeout 1 s, checked every 250 ms
    expect(raw.received()).not.toContain('200 OK');
  });

  it('accepts the invalid-but-parseable third-party document, flagged not schema-valid', async () => {
    const r = await post(receiver.url, invalidNode, { contentType: 'text/xml' });
    expect(r.status).toBe(200);
    const stored = await store.listReceivedIodef();
    const rec = stored.find((s) => s.document === invalidNode);
    expect(rec).toMatchObject({ schemaValid: false });
    expect(await waitFor(() => alerts.some((a) => a.report.names.includes('example.com')), 5_000)).toBe(true);
    expect(events.some((e) => e.outcome === 'stored' && e.reason === 'not schema-valid')).toBe(true);
  });
});

describe('per-sender rate limit', () => {
  let limited: HttpReceiver;
  beforeAll(async () => {
    limited = await startHttpReceiver({
      port: 0,
      tls: { cert: pemOf('server.pem'), key: pemOf('server.key') },
      store,
      limits: { rate: { burst: 3, perMinute: 60 } },
    });
  });
  afterAll(() => limited.close());

  it('answers a flood from one address with 429 while another sender still gets through', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await post(limited.url, report(`flood-${i}`))).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3).every((s) => s === 429)).toBe(true);
    const refused = await post(limited.url, report('flood-x'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const other = await post(limited.url, report('other-sender-1'), { localAddress: '127.0.0.2' });
    expect(other.status).toBe(200);
    const ids = (await store.listReceivedIodef()).map(
      (r) => (r.summary as { incidentId: string }).incidentId,
    );
    expect(ids).toContain('other-sender-1');
    expect(ids).not.toContain('flood-5');
  });

  it('lets the flooder in again once its bucket refills', async () => {
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await post(limited.url, report('after-window'))).status).toBe(200);
  });
});

describe('client-certificate authentication (mTLS)', () => {
  let mtls: HttpReceiver;
  beforeAll(async () => {
    mtls = await startHttpReceiver({
      port: 0,
      tls: {
        cert: pemOf('server.pem'),
        key: pemOf('server.key'),
        requestClientCert: true,
        clientCa: pemOf('ca.pem'),
      },
      store,
    });
  });
  afterAll(() => mtls.close());

  it('refuses a client without a certificate or with one from another CA', async () => {
    await expect(post(mtls.url, report('mtls-none'))).rejects.toThrow();
    await expect(
      post(mtls.url, report('mtls-stray'), { cert: pemOf('stray.pem'), key: pemOf('stray.key') }),
    ).rejects.toThrow();
  });

  it('stores a report from a client with a certificate from the client CA, naming the subject', async () => {
    const r = await post(mtls.url, report('mtls-ok'), {
      cert: pemOf('client.pem'),
      key: pemOf('client.key'),
    });
    expect(r.status).toBe(200);
    const rec = (await store.listReceivedIodef()).find(
      (s) => (s.summary as { incidentId: string }).incidentId === 'mtls-ok',
    );
    expect(rec?.sender).toContain('CN=reporter.ca.example');
  });
});

describe('SMTP intake and mailboxes', () => {
  let smtp: SmtpReceiver;
  const mailAlerts: string[] = [];
  beforeAll(async () => {
    smtp = await startSmtpReceiver({
      port: 0,
      store,
      alert: async (a) => {
        mailAlerts.push(a.line);
      },
      maxMessageBytes: 64 * 1024,
      tls: { cert: pemOf('server.pem'), key: pemOf('server.key') },
    });
  });
  afterAll(() => smtp.close());

  const transport = (): nodemailer.Transporter =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      requireTLS: true,
      tls: { ca: pemOf('server.pem') },
    });

  it('stores the IODEF attachment of a mail (over STARTTLS) and alerts once', async () => {
    const t = transport();
    const info = (await t.sendMail({
      from: 'iodef@ca.example',
      to: 'caa-reports@example.com',
      subject: 'CAA iodef report',
      text: 'See attachment.',
      attachments: [{ filename: 'report.xml', content: report('mail-1'), contentType: 'application/xml' }],
    })) as { response: string };
    expect(info.response).toMatch(/^250 .*accepted report [0-9a-f]{16}/);
    const rec = (await store.listReceivedIodef()).find(
      (s) => (s.summary as { incidentId: string }).incidentId === 'mail-1',
    );
    expect(rec).toMatchObject({ channel: 'smtp', sender: 'iodef@ca.example via 127.0.0.1' });
    expect(mailAlerts).toHaveLength(1);
    t.close();
  });

  it('rejects an oversized message and a mail without an IODEF document', async () => {
    const t = transport();
    const big = t.sendMail({
      from: 'iodef@ca.example',
      to: 'caa-reports@example.com',
      text: 'x'.repeat(200 * 1024),
    });
    await expect(big).rejects.toMatchObject({ responseCode: 552 });
    const none = t.sendMail({ from: 'iodef@ca.example', to: 'caa-reports@example.com', text: 'hello' });
    await expect(none).rejects.toMatchObject({ responseCode: 550 });
    t.close();
  });

  it('processes each Maildir message once, moving it from new/ to cur/', async () => {
    const maildir = join(work, 'Maildir');
    for (const d of ['new', 'cur', 'tmp']) mkdirSync(join(maildir, d), { recursive: true });
    const mime = (id: string): string =>
      [
        'From: iodef@ca2.example',
        'To: caa-reports@example.com',
        'Subject: CAA report',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'Report attached.',
        '--b1',
        'Content-Type: application/rid+xml; name="r.xml"',
        'Content-Disposition: attachment; filename="r.xml"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from(report(id)).toString('base64'),
        '--b1--',
        '',
      ].join('\r\n');
    writeFileSync(join(maildir, 'new', '1700000000.1.host'), mime('maildir-1'));
    writeFileSync(join(maildir, 'new', '1700000000.2.host'), mime('maildir-2'));
    // A symlink in new/ is not a message: it is never followed (it could point at any file).
    writeFileSync(join(work, 'outside.eml'), mime('symlinked'));
    symlinkSync(join(work, 'outside.eml'), join(maildir, 'new', '1700000000.3.host'));
    const first = await readMaildir(maildir, { store });
    expect(first).toHaveLength(2);
    expect(first.every((r) => 'results' in r.outcome && r.outcome.results[0]?.status === 'stored')).toBe(
      true,
    );
    expect(readdirSync(join(maildir, 'new'))).toEqual(['1700000000.3.host']);
    expect(readdirSync(join(maildir, 'cur')).sort()).toEqual([
      '1700000000.1.host:2,S',
      '1700000000.2.host:2,S',
    ]);
    expect(await readMaildir(maildir, { store })).toEqual([]);
    const recs = (await store.listReceivedIodef()).filter((r) => r.channel === 'file');
    expect(recs).toHaveLength(2);
    expect(recs.some((r) => (r.summary as { incidentId: string }).incidentId === 'symlinked')).toBe(false);
    expect(recs[0]?.sender).toBe('iodef@ca2.example');

    // The same two reports again in an mbox, plus a new one: only the new one is stored.
    const mbox = join(work, 'reports.mbox');
    writeFileSync(
      mbox,
      ['maildir-1', 'maildir-2', 'mbox-3']
        .map((id) => `From iodef@ca2.example Tue Nov 24 06:40:00 2026\n${mime(id).replace(/\r\n/g, '\n')}\n`)
        .join(''),
    );
    const fromMbox = await readMbox(mbox, { store });
    expect(
      fromMbox.map((r) => ('results' in r.outcome ? r.outcome.results[0]?.status : r.outcome.error)),
    ).toEqual(['duplicate', 'duplicate', 'stored']);
  });
});

describe('a forged report cannot hide the real one (issue 12)', () => {
  const real = report('shared-1');
  const forged = real.replace('<ContactName>Example CA</ContactName>', '<ContactName>Harmless</ContactName>');

  it('stores the real report after a same-IncidentID forgery, alerts it as conflicting-report, and replies alike', async () => {
    const f = await post(receiver.url, forged, { localAddress: '127.0.0.3' });
    const r = await post(receiver.url, real);
    expect([f.status, r.status]).toEqual([200, 200]);
    // Neither reply says whether anyone else sent this IncidentID: one shape, no counters.
    for (const x of [f, r]) expect(x.body).toMatch(/^accepted report [0-9a-f]{16}\n$/);
    const rows = (await store.listReceivedIodef()).filter(
      (x) => (x.summary as { incidentId: string }).incidentId === 'shared-1',
    );
    expect(rows.map((x) => [x.sender, x.conflict])).toEqual([
      ['127.0.0.3', false],
      ['127.0.0.1', true],
    ]);
    expect(await waitFor(() => alerts.some((a) => a.report.kind === 'conflicting-report'), 5_000)).toBe(true);
    const conflict = alerts.find((a) => a.report.kind === 'conflicting-report');
    expect(conflict?.report.conflictsWith).toEqual([rows[0]?.id]);
    expect(conflict?.message).toContain('CONFLICTING REPORT');

    // A replay of the real document by a third sender is kept, but raises no third alert.
    const before = alerts.length;
    const replay = await post(receiver.url, real, { localAddress: '127.0.0.4' });
    expect(replay.status).toBe(200);
    await new Promise((res) => setTimeout(res, 300));
    expect(alerts.length).toBe(before);
  });
});

describe('HTTPS receiver hardening (issue 12)', () => {
  it('answers a request target that is not a URL with 400, not 500', async () => {
    const raw = await rawTls(receiver.port);
    raw.socket.write('POST http://[::1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n');
    expect(await waitFor(() => /^HTTP\/1\.1 \d{3}/.test(raw.received()), 3_000)).toBe(true);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 400 /);
    raw.socket.destroy();
  });

  it('refuses to start on a certificate and key that do not match or do not parse, or a bad client CA', async () => {
    const bad: Parameters<typeof startHttpReceiver>[0]['tls'][] = [
      { cert: pemOf('server.pem'), key: pemOf('stray.key') },
      { cert: 'not a certificate', key: pemOf('server.key') },
      { cert: pemOf('server.pem'), key: 'not a key' },
      { cert: pemOf('server.pem'), key: pemOf('server.key'), requestClientCert: true, clientCa: 'hello' },
      {
        cert: pemOf('server.pem'),
        key: pemOf('server.key'),
        requestClientCert: true,
        clientCa: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      },
    ];
    for (const tls of bad) {
      await expect(startHttpReceiver({ port: 0, tls, store })).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
      });
    }
    // The SMTP intake's STARTTLS material is checked the same way.
    await expect(
      startSmtpReceiver({ port: 0, store, tls: { cert: pemOf('server.pem'), key: pemOf('stray.key') } }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  describe('per-address connection cap and connection time limit', () => {
    let capped: HttpReceiver;
    beforeAll(async () => {
      capped = await startHttpReceiver({
        port: 0,
        tls: { cert: pemOf('server.pem'), key: pemOf('server.key') },
        store,
        limits: {
          maxConnectionsPerAddress: 3,
          maxConnectionMs: 1_500,
          rate: { burst: 100, perMinute: 6_000 },
        },
      });
    });
    afterAll(() => capped.close());

    it('drops the 4th idle socket of one address at once, serves other addresses, and cuts idle sockets at the limit', async () => {
      const open = (localAddress: string) =>
        new Promise<{ socket: net.Socket; closed: Promise<number> }>((resolve, reject) => {
          const socket = net.connect({ host: '127.0.0.1', port: capped.port, localAddress }, () =>
            resolve({ socket, closed: once(socket, 'close').then(() => Date.now()) }),
          );
          socket.on('error', () => undefined);
          socket.once('error', reject);
        });
      const start = Date.now();
      const idle = await Promise.all([open('127.0.0.1'), open('127.0.0.1'), open('127.0.0.1')]);
      await new Promise((r) => setTimeout(r, 100));
      const fourth = await open('127.0.0.1');
      const fourthClosed = await Promise.race([
        fourth.closed,
        new Promise<null>((r) => setTimeout(() => r(null), 1_000)),
      ]);
      expect(fourthClosed).not.toBeNull();
      expect((fourthClosed ?? 0) - start).toBeLessThan(1_200);
      // Another address is served while the three sockets are held.
      expect((await post(capped.url, report('cap-other'), { localAddress: '127.0.0.2' })).status).toBe(200);
      // The held sockets are cut at the connection time limit, however patient.
      const closedAt = await Promise.all(idle.map((c) => c.closed));
      for (const t of closedAt) expect(t - start).toBeLessThan(4_000);
      expect((await post(capped.url, report('cap-after'))).status).toBe(200);
    });
  });

  it('answers 503 with Retry-After once the daily quota of stored reports is reached', async () => {
    const quotaStore = await openStore({ stateDir: join(work, 'quota-state') });
    await quotaStore.migrate();
    const q = await startHttpReceiver({
      port: 0,
      tls: { cert: pemOf('server.pem'), key: pemOf('server.key') },
      store: quotaStore,
      limits: { quota: { maxReportsPerDay: 2, maxBytesPerDay: 1_000_000 } },
    });
    try {
      const statuses: number[] = [];
      for (const id of ['q-1', 'q-2', 'q-3']) statuses.push((await post(q.url, report(id))).status);
      expect(statuses).toEqual([200, 200, 503]);
      const refused = await post(q.url, report('q-4'));
      expect(refused.headers['retry-after']).toBe('3600');
      expect(await quotaStore.listReceivedIodef()).toHaveLength(2);
    } finally {
      await q.close();
      await quotaStore.close();
    }
  });
});

/** A raw SMTP client: write command lines, read reply lines. */
async function smtpClient(port: number, localAddress = '127.0.0.1') {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  let buffer = '';
  let isClosed = false;
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
  });
  const closed = once(socket, 'close').then(() => {
    isClosed = true;
  });
  /** The next final reply line (`NNN text`), or null when the connection closed first. */
  const reply = async (ms = 3_000): Promise<string | null> => {
    const end = Date.now() + ms;
    for (;;) {
      const m = /^(\d{3}) .*\r\n/m.exec(buffer);
      if (m) {
        buffer = buffer.slice((m.index ?? 0) + m[0].length);
        return m[0].trim();
      }
      if (isClosed || Date.now() > end) return null;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const send = (line: string): Promise<string | null> => {
    if (!socket.destroyed) socket.write(`${line}\r\n`);
    return reply();
  };
  return { socket, reply, send, closed, isClosed: () => isClosed };
}

describe('SMTP intake hardening (issue 12)', () => {
  let guarded: SmtpReceiver;
  const guardedStore = (): Store => store;
  beforeAll(async () => {
    guarded = await startSmtpReceiver({
      port: 0,
      store: guardedStore(),
      maxRecipients: 3,
      maxClientsPerAddress: 2,
      maxCommands: 12,
      maxSessionMs: 1_500,
      rate: { burst: 2, perMinute: 6 },
    });
  });
  afterAll(() => guarded.close());

  it('refuses recipients past maxRecipients with 452', async () => {
    const c = await smtpClient(guarded.port, '127.0.0.6');
    expect(await c.reply()).toMatch(/^220 /);
    expect(await c.send('EHLO client.test')).toMatch(/^250 /);
    expect(await c.send('MAIL FROM:<iodef@ca.example>')).toMatch(/^250 /);
    const replies: (string | null)[] = [];
    for (let i = 0; i < 5; i++) replies.push(await c.send(`RCPT TO:<r${i}@example.com>`));
    expect(replies.map((r) => r?.slice(0, 3))).toEqual(['250', '250', '250', '452', '452']);
    c.socket.destroy();
  });

  it('counts NOOP and RSET against the command budget and closes the session with 421', async () => {
    const c = await smtpClient(guarded.port, '127.0.0.7');
    expect(await c.reply()).toMatch(/^220 /);
    const codes: string[] = [];
    for (let i = 0; i < 14 && !c.isClosed(); i++)
      codes.push((await c.send(i % 2 ? 'RSET' : 'NOOP'))?.slice(0, 3) ?? 'closed');
    expect(codes.slice(0, 12).every((x) => x === '250')).toBe(true);
    expect(codes[12]).toBe('421');
    await c.closed;
  });

  it('caps sessions per address (421) while other addresses get in, and ends a chatty session at the time limit', async () => {
    const a = await smtpClient(guarded.port, '127.0.0.8');
    const b = await smtpClient(guarded.port, '127.0.0.8');
    expect(await a.reply()).toMatch(/^220 /);
    expect(await b.reply()).toMatch(/^220 /);
    const third = await smtpClient(guarded.port, '127.0.0.8');
    expect(await third.reply()).toMatch(/^421 /);
    const other = await smtpClient(guarded.port, '127.0.0.9');
    expect(await other.reply()).toMatch(/^220 /);
    other.socket.destroy();
    // `a` keeps chatting (NOOP every 200 ms, under the command budget): the 1.5 s limit ends it.
    const start = Date.now();
    let last: string | null = '';
    while (!a.isClosed() && Date.now() - start < 4_000) {
      last = await a.send('NOOP');
      if (last?.startsWith('421')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The 421 may have arrived, unasked, while we slept: it is still in the buffer.
    if (!last?.startsWith('421')) last = await a.reply(500);
    expect(last).toMatch(/^421 .*time limit/);
    expect(Date.now() - start).toBeLessThan(3_000);
    b.socket.destroy();
  });

  it('takes one rate-limit token per stored document, and 451s the next mail', async () => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: guarded.port,
      secure: false,
      ignoreTLS: true,
      localAddress: '127.0.0.10',
    } as nodemailer.TransportOptions);
    const info = (await t.sendMail({
      from: 'iodef@ca.example',
      to: 'caa-reports@example.com',
      text: 'Three reports.',
      attachments: ['tok-1', 'tok-2', 'tok-3'].map((id) => ({
        filename: `${id}.xml`,
        content: report(id),
        contentType: 'application/xml',
      })),
    })) as { response: string };
    expect(info.response.match(/accepted report/g)).toHaveLength(2);
    const ids = (await store.listReceivedIodef()).map(
      (r) => (r.summary as { incidentId: string }).incidentId,
    );
    expect(ids.filter((id) => id.startsWith('tok-'))).toEqual(['tok-1', 'tok-2']);
    await expect(
      t.sendMail({ from: 'iodef@ca.example', to: 'caa-reports@example.com', text: 'again' }),
    ).rejects.toMatchObject({ responseCode: 451 });
    t.close();
  });

  it('refuses a mail the MIME parser cannot take (over the part limit) for good: 554, not 451', async () => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: guarded.port,
      secure: false,
      ignoreTLS: true,
      localAddress: '127.0.0.11',
    } as nodemailer.TransportOptions);
    const parts = Array.from({ length: 1_001 }, (_, i) => ({ filename: `p${i}.txt`, content: 'x' }));
    await expect(
      t.sendMail({
        from: 'iodef@ca.example',
        to: 'caa-reports@example.com',
        text: 'many parts',
        attachments: parts,
      }),
    ).rejects.toMatchObject({ responseCode: 554 });
    t.close();
  });
});

describe('after every hostile test', () => {
  it('still accepts a good report and the process is alive', async () => {
    const r = await post(receiver.url, report('final-good'));
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^accepted report/);
    const ids = (await store.listReceivedIodef()).map(
      (x) => (x.summary as { incidentId: string }).incidentId,
    );
    expect(ids).toContain('final-good');
    expect(ids).toContain('caa-0001');
  });
});
