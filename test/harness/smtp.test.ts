/**
 * Checks the SMTP test server itself: that aiosmtpd takes mail in each TLS mode, that what the
 * mail tests read back is what was sent, and that stop() leaves nothing behind. Also the small
 * MIME reader on fixed inputs.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesMentioning } from './processes.js';
import { parseMessage, startSmtpServer } from './smtp.js';
import type { SmtpServer } from './smtp.js';

describe('SMTP test server (plain)', () => {
  let server: SmtpServer;
  beforeAll(async () => {
    server = await startSmtpServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('listens on loopback and offers no STARTTLS', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.certificatePem).toBeUndefined();
    const ehlo = await smtpDialogue(server.port, ['EHLO test.example']);
    expect(ehlo).toMatch(/^220 /);
    expect(ehlo).toMatch(/250/);
    expect(ehlo).not.toMatch(/STARTTLS/);
  });

  it('stores each message and reads back headers, envelope, text and attachments in order', async () => {
    const transport = nodemailer.createTransport({ host: server.host, port: server.port });
    await transport.sendMail({
      from: 'Sender <sender@example.com>',
      to: ['one@example.com', 'two@example.com'],
      subject: 'first: Grüße ✓ with a subject long enough to be folded over several encoded words',
      text: 'héllo\nwith = signs and a long line ' + 'x'.repeat(120) + '\n',
      attachments: [
        {
          filename: 'blob.bin',
          content: Buffer.from([0, 1, 2, 255]),
          contentType: 'application/octet-stream',
        },
      ],
    });
    await transport.sendMail({
      from: 'sender@example.com',
      to: 'three@example.com',
      subject: 'second',
      text: 'plain',
    });
    const mails = await server.waitForMessages(2);
    expect(mails.map((m) => m.subject)).toEqual([
      'first: Grüße ✓ with a subject long enough to be folded over several encoded words',
      'second',
    ]);
    const [first, second] = mails;
    expect(first?.envelope).toEqual({
      mailFrom: 'sender@example.com',
      rcptTo: ['one@example.com', 'two@example.com'],
    });
    expect(first?.from).toBe('Sender <sender@example.com>');
    expect(first?.text).toBe('héllo\nwith = signs and a long line ' + 'x'.repeat(120) + '\n');
    expect(first?.attachments).toEqual([
      { filename: 'blob.bin', contentType: 'application/octet-stream', content: Buffer.from([0, 1, 2, 255]) },
    ]);
    expect(first?.messageId).toMatch(/^<.+@example\.com>$/);
    // SMTP DATA ends the body with CRLF before the final "." (RFC 5321 §4.1.1.4): a body sent
    // without a final line break comes back with one.
    expect(second?.text).toBe('plain\n');
    expect(second?.envelope.rcptTo).toEqual(['three@example.com']);
  });
});

describe('SMTP test server (TLS modes)', () => {
  it('requires STARTTLS in starttls mode', async () => {
    const server = await startSmtpServer({ tls: 'starttls' });
    try {
      expect(server.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const plain = nodemailer.createTransport({ host: server.host, port: server.port, ignoreTLS: true });
      await expect(plain.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' })).rejects.toThrow(
        /STARTTLS/,
      );
      const secured = nodemailer.createTransport({
        host: server.host,
        port: server.port,
        requireTLS: true,
        tls: { ca: server.certificatePem, servername: 'localhost' },
      });
      await secured.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'tls', text: 'x' });
      expect((await server.messages()).map((m) => m.subject)).toEqual(['tls']);
    } finally {
      await server.stop();
    }
  });

  it('speaks TLS from the first byte in implicit mode', async () => {
    const server = await startSmtpServer({ tls: 'implicit' });
    try {
      const transport = nodemailer.createTransport({
        host: server.host,
        port: server.port,
        secure: true,
        tls: { ca: server.certificatePem, servername: 'localhost' },
      });
      await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'smtps', text: 'x' });
      expect((await server.messages()).map((m) => m.subject)).toEqual(['smtps']);
    } finally {
      await server.stop();
    }
  });
});

describe('SMTP test server lifecycle', () => {
  it('stop() kills the server and removes its work directory; twice is fine', async () => {
    const server = await startSmtpServer();
    expect(processesMentioning(server.workDir).length).toBeGreaterThan(0);
    await server.stop();
    await server.stop();
    expect(existsSync(server.workDir)).toBe(false);
    expect(processesMentioning(server.workDir)).toEqual([]);
    await expect(smtpDialogue(server.port, [])).rejects.toThrow();
  });
});

describe('parseMessage', () => {
  it('unfolds headers and decodes RFC 2047 words (B and Q, joined across folds)', () => {
    const m = parseMessage(
      'Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n =?utf-8?Q?_und_=E2=9C=93?= done\r\nX-Long: a\r\n\tb\r\n\r\nbody\r\n',
    );
    expect(m.subject).toBe('Grüße und ✓ done');
    expect(m.headers.get('x-long')).toBe('a b');
    expect(m.text).toBe('body\n');
    expect(m.attachments).toEqual([]);
  });

  it('walks nested multiparts and decodes quoted-printable and base64', () => {
    const raw = [
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      'preamble',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=C3=A9 soft=',
      'break',
      '--inner',
      'Content-Type: text/html',
      '',
      '<p>x</p>',
      '--inner--',
      '--outer',
      'Content-Type: application/x-pem-file; name="c.pem"',
      'Content-Disposition: attachment; filename="c.pem"',
      'Content-Transfer-Encoding: base64',
      '',
      'aGVs',
      'bG8=',
      '--outer--',
      'epilogue',
    ].join('\n');
    const m = parseMessage(raw);
    expect(m.text).toBe('café softbreak');
    expect(m.attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).toEqual([
      [undefined, 'text/html', '<p>x</p>'],
      ['c.pem', 'application/x-pem-file', 'hello'],
    ]);
  });
});

/** Sends `commands` after the greeting, then QUIT; resolves with everything the server said. */
function smtpDialogue(port: number, commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('SMTP dialogue timed out'));
    }, 5_000);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write([...commands, 'QUIT'].map((c) => `${c}\r\n`).join('')));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}
