/**
 * Every sink gets sanitised text (issue 12): a certificate whose names and issuer carry ESC, U+202E
 * and CRLF — text from the public logs, i.e. from whoever asked a CA — and a log/inventory event
 * with such a message reach the mail subject and body, the webhook JSON, the hook's environment
 * and files, and stdout only as visible escapes. The events are fed to the notify layer directly:
 * the DER walker may refuse such a certificate before it would get here.
 */
import { readFile, readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../../test/harness/smtp.js';
import type { SmtpServer } from '../../test/harness/smtp.js';
import { createEmailNotifier } from './email.js';
import { issuanceEvent } from './events.fixture.js';
import { createExecNotifier, hookEnvironment, hookFiles } from './exec.js';
import { eventJson, formatText, summaryLine } from './format.js';
import { createStdoutNotifier } from './stdout.js';
import type { MonitorEvent } from './types.js';
import { createWebhookNotifier } from './webhook.js';

const ESC = '\u001b';
const RLO = '\u202E';
/** Nothing of these may reach a sink raw. */
// eslint-disable-next-line no-control-regex -- finding raw control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
// eslint-disable-next-line no-control-regex -- finding raw control characters is the point
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

function hostileIssuance(): MonitorEvent {
  const e = issuanceEvent();
  e.issuance.dnsNames = [
    `www.evil${ESC}[2J.example`,
    `moc.${RLO}elgoog.example`,
    'x.example\r\nBcc: a@b.test',
  ];
  e.issuance.issuer = `CN=R${ESC}]0;pwned${'\u0007'},O=Evil${RLO}CA`;
  e.issuance.subject = `CN=www.evil${ESC}[2J.example\r\nX-Injected: 1`;
  e.issuance.entries = [{ log: `https://log.test/${ESC}[31m`, index: 7, type: 'precert', timestamp: 1 }];
  e.watchItems = [`.evil${RLO}.example`];
  e.reasons = [{ code: 'not-in-inventory', severity: 'critical', message: `body ${ESC}[1m\r\nforged line` }];
  return e;
}

const others: MonitorEvent[] = [
  {
    type: 'log-health',
    severity: 'warning',
    log: `https://log.test/${RLO}x`,
    message: `HTTP 500: ${ESC}[2J\r\nfake`,
  },
  {
    type: 'inventory-health',
    severity: 'warning',
    path: `/etc/letsencrypt/${ESC}[2J${RLO}`,
    message: `cannot read inventory path ${ESC}]0;x\u0007\r\nfake`,
  },
  { type: 'malformed', severity: 'warning', log: `https://l.test/${ESC}`, index: 1, error: `bad\r\n${RLO}` },
];

const all: [string, MonitorEvent][] = [
  ['issuance', hostileIssuance()],
  ...others.map((e): [string, MonitorEvent] => [e.type, e]),
];

describe('format: every outside string is sanitised', () => {
  it.each(all)('%s: summary, text, JSON', (_type, event) => {
    expect(summaryLine(event)).not.toMatch(UNSAFE_ONE_LINE);
    expect(formatText(event)).not.toMatch(UNSAFE);
    expect(JSON.stringify(eventJson(event))).not.toMatch(UNSAFE_ONE_LINE);
    // JSON.stringify would keep U+202E raw: eventJson must have escaped it first.
    expect(JSON.stringify(eventJson(event))).not.toContain(RLO);
  });

  it('shows what was there as a visible escape', () => {
    const line = summaryLine(hostileIssuance());
    expect(line).toContain('www.evil\\x1B[2J.example');
    expect(summaryLine(others[1] as MonitorEvent)).toContain('\\x1B]0;x\\x07\\x0D\\x0Afake');
    expect(formatText(hostileIssuance())).toContain('moc.\\u202Eelgoog.example');
  });

  it.each(all)('%s: hook environment values and files', (_type, event) => {
    const env = hookEnvironment(event, { TEXT_FILENAME: '/tmp/x.txt' });
    for (const [name, value] of Object.entries(env)) expect(value, name).not.toMatch(UNSAFE_ONE_LINE);
    for (const file of hookFiles(event)) expect(file.content, file.name).not.toMatch(UNSAFE);
  });
});

describe('sinks', () => {
  let smtp: SmtpServer;
  let web: http.Server;
  let webUrl = '';
  const bodies: string[] = [];
  beforeAll(async () => {
    smtp = await startSmtpServer();
    web = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await smtp?.stop();
    await new Promise<void>((r) => web.close(() => r()));
  });

  it('mail: the subject holds no CR/LF and no control or bidi character; the body neither', async () => {
    const before = (await smtp.messages()).length;
    await createEmailNotifier({
      smtp: { host: smtp.host, port: smtp.port },
      from: 'a@certvigil.test',
      to: ['b@x.test'],
    }).send(hostileIssuance());
    const mail = (await smtp.messages())[before];
    expect(mail).toBeDefined();
    expect(mail?.subject).not.toMatch(UNSAFE_ONE_LINE);
    expect(mail?.subject).toContain('www.evil\\x1B[2J.example');
    expect(mail?.headers.get('bcc')).toBeUndefined();
    expect(mail?.headers.get('x-injected')).toBeUndefined();
    expect(mail?.text?.replace(/\r\n/g, '\n')).not.toMatch(UNSAFE);
  });

  it('webhook: the JSON body holds no raw control or bidi character', async () => {
    for (const [, event] of all) await createWebhookNotifier({ url: webUrl }).send(event);
    expect(bodies).toHaveLength(all.length);
    for (const body of bodies) {
      expect(body).not.toMatch(UNSAFE_ONE_LINE);
      expect(body).not.toContain(RLO);
    }
  });

  it('stdout: one safe line per event', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const notifier = createStdoutNotifier({ stream });
    for (const [, event] of all) await notifier.send(event);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines).toHaveLength(all.length + 1);
    for (const l of lines) expect(l).not.toMatch(UNSAFE_ONE_LINE);
  });

  it('exec: what the hook sees in its environment and files', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const out = await mkdtemp(join(tmpdir(), 'certvigil-sanitize-'));
    const notifier = createExecNotifier({
      command: `env > "${out}/env"; cat "$TEXT_FILENAME" "$JSON_FILENAME" "$CERTVIGIL_EVENT_FILENAME" > "${out}/files"`,
    });
    await notifier.send(hostileIssuance());
    expect(await readdir(out)).toEqual(['env', 'files']);
    const env = await readFile(join(out, 'env'), 'utf8');
    for (const line of env
      .split('\n')
      .filter((l) => /^(SUMMARY|SUBJECT_DN|ISSUER_DN|WATCH_ITEM|LOG_URI|CERTVIGIL_)/.test(l)))
      expect(line).not.toMatch(UNSAFE_ONE_LINE);
    // A CR/LF in a name never starts a line of its own in the environment dump.
    expect(env).not.toMatch(/^Bcc:/m);
    expect(env).not.toMatch(/^X-Injected/m);
    expect(await readFile(join(out, 'files'), 'utf8')).not.toMatch(UNSAFE);
  });
});
