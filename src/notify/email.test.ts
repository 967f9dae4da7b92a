/**
 * The mail notifier against a real SMTP server (aiosmtpd, test/harness/smtp.ts) on 127.0.0.1:
 * plain, STARTTLS and implicit TLS, and what the delivered message holds.
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../../test/harness/smtp.js';
import type { SmtpServer } from '../../test/harness/smtp.js';
import { createEmailNotifier } from './email.js';
import type { EmailConfig } from './email.js';
import { CERT_PEM, CERT_SHA256, issuanceEvent, otherEvents } from './events.fixture.js';
import { eventId, formatText, summaryLine } from './format.js';
import type { MonitorEvent } from './types.js';

const FROM = 'certvigil <alerts@certvigil.example>';
const TO = ['oncall@example.com', 'security@example.com'];

function config(server: SmtpServer, smtp: Partial<EmailConfig['smtp']> = {}): EmailConfig {
  return { smtp: { host: server.host, port: server.port, ...smtp }, from: FROM, to: TO };
}

describe('email notifier, plain SMTP', () => {
  let server: SmtpServer;
  beforeAll(async () => {
    server = await startSmtpServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('delivers subject, body, headers and the certificate as a PEM attachment', async () => {
    const before = (await server.messages()).length;
    const event = issuanceEvent();
    const notifier = createEmailNotifier(config(server));
    expect(notifier.name).toBe('email');
    await notifier.send(event);
    const mail = (await server.messages())[before];
    expect(mail).toBeDefined();
    if (mail === undefined) return;
    expect(mail.subject).toBe(summaryLine(event));
    expect(mail.text?.replace(/\r\n/g, '\n')).toBe(formatText(event));
    expect(mail.from).toBe('certvigil <alerts@certvigil.example>');
    expect(mail.to).toBe('oncall@example.com, security@example.com');
    expect(mail.envelope).toEqual({ mailFrom: 'alerts@certvigil.example', rcptTo: TO });
    expect(mail.messageId).toBe(`<certvigil.issuance.${eventId(event)}@certvigil.example>`);
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.headers.get('x-certvigil-event')).toBe('issuance');
    expect(mail.headers.get('x-certvigil-severity')).toBe('critical');
    expect(mail.headers.get('x-priority')).toMatch(/^1/);
    expect(mail.headers.get('date')).toBeDefined();
    expect(mail.attachments).toHaveLength(1);
    const [pem] = mail.attachments;
    expect(pem?.filename).toBe(`${CERT_SHA256}.pem`);
    expect(pem?.contentType).toBe('application/x-pem-file');
    expect(pem?.content.toString('utf8')).toBe(CERT_PEM);
    expect(new X509Certificate(pem?.content ?? '').fingerprint256.replaceAll(':', '').toLowerCase()).toBe(
      CERT_SHA256,
    );
  });

  it('sends no attachment when the event has no certificate', async () => {
    const before = (await server.messages()).length;
    const event = otherEvents[2] as MonitorEvent;
    await createEmailNotifier(config(server)).send(event);
    const mail = (await server.messages())[before];
    expect(mail?.subject).toBe('INFO test notification: hello from certvigil alerts test');
    expect(mail?.attachments).toEqual([]);
    expect(mail?.headers.get('x-priority')).toBeUndefined();
  });

  it('encodes a non-ASCII subject and keeps crafted names out of the headers', async () => {
    const before = (await server.messages()).length;
    const event = issuanceEvent();
    event.issuance.dnsNames = ['bücher.example\r\nBcc: victim@example.com'];
    await createEmailNotifier(config(server)).send(event);
    const mail = (await server.messages())[before];
    expect(mail?.subject).toContain('bücher.example\\x0D\\x0ABcc: victim@example.com');
    expect(mail?.headers.get('bcc')).toBeUndefined();
    expect(mail?.envelope.rcptTo).toEqual(TO);
  });

  it('never sends credentials over a connection without TLS', async () => {
    const before = (await server.messages()).length;
    const notifier = createEmailNotifier(config(server, { user: 'alerts', password: 'hunter2' }));
    await expect(notifier.send(issuanceEvent())).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      sink: 'email',
    });
    expect(await server.messages()).toHaveLength(before);
  });
});

describe('email notifier over TLS', () => {
  let starttls: SmtpServer;
  let implicit: SmtpServer;
  beforeAll(async () => {
    [starttls, implicit] = await Promise.all([
      startSmtpServer({ tls: 'starttls' }),
      startSmtpServer({ tls: 'implicit' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([starttls?.stop(), implicit?.stop()]);
  });

  it('uses STARTTLS when offered (the server refuses mail without it)', async () => {
    await createEmailNotifier(config(starttls, { rejectUnauthorized: false })).send(issuanceEvent());
    const [mail] = await starttls.messages();
    expect(mail?.subject).toBe(summaryLine(issuanceEvent()));
  });

  it('verifies the server certificate by default', async () => {
    const before = (await starttls.messages()).length;
    const err = await createEmailNotifier(config(starttls))
      .send(issuanceEvent())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOTIFY_FAILED', sink: 'email' });
    expect((err as Error).message).toMatch(/certificate/i);
    expect(await starttls.messages()).toHaveLength(before);
  });

  it('speaks implicit TLS with secure: true', async () => {
    await createEmailNotifier(config(implicit, { secure: true, rejectUnauthorized: false })).send(
      issuanceEvent(),
    );
    const [mail] = await implicit.messages();
    expect(mail?.attachments[0]?.content.toString('utf8')).toBe(CERT_PEM);
  });
});

describe('email notifier failures', () => {
  it('times out on a server that never greets', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const notifier = createEmailNotifier(
        { smtp: { host: '127.0.0.1', port }, from: FROM, to: TO },
        { greetingTimeoutMs: 300 },
      );
      const started = Date.now();
      await expect(notifier.send(issuanceEvent())).rejects.toMatchObject({
        code: 'NOTIFY_TIMEOUT',
        sink: 'email',
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const notifier = createEmailNotifier({ smtp: { host: '127.0.0.1', port }, from: FROM, to: TO });
    await expect(notifier.send(issuanceEvent())).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      sink: 'email',
    });
  });
});
