import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { issuanceEvent, otherEvents } from './events.fixture.js';
import { eventJson } from './format.js';
import { createStdoutNotifier } from './stdout.js';
import type { MonitorEvent } from './types.js';

describe('stdout notifier', () => {
  it('writes one JSON object per event and line', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const notifier = createStdoutNotifier({ stream });
    expect(notifier.name).toBe('stdout');
    const multiline: MonitorEvent = { type: 'test', severity: 'info', message: 'line one\nline two' };
    await notifier.send(issuanceEvent());
    await notifier.send(multiline);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0] as string)).toEqual(eventJson(issuanceEvent()));
    expect(JSON.parse(lines[1] as string)).toMatchObject({ type: 'test', message: 'line one\\x0Aline two' });
  });

  it('rejects with NOTIFY_FAILED when the write fails (e.g. EPIPE)', async () => {
    const stream = new Writable({
      write(_chunk, _enc, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    stream.on('error', () => undefined);
    const notifier = createStdoutNotifier({ stream });
    await expect(notifier.send(otherEvents[2] as MonitorEvent)).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      sink: 'stdout',
    });
  });
});

describe('stdout notifier on a terminal (issue 13)', () => {
  /** A PassThrough that says it is a TTY, as process.stdout does on a terminal. */
  function tty(): { stream: PassThrough; text: () => string } {
    const stream = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  }

  it('prints a readable block per certificate, not JSON: names, issuer, validity, reasons, where logged', async () => {
    const out = tty();
    await createStdoutNotifier({ stream: out.stream }).send(issuanceEvent());
    const text = out.text();
    expect(() => JSON.parse(text.split('\n')[0] ?? '')).toThrow();
    const e = issuanceEvent();
    expect(text).toMatch(/^== CRITICAL unknown certificate for /);
    expect(text).toContain(`Names:       ${e.issuance.dnsNames.join(', ')}`);
    expect(text).toContain(`Issuer:      ${e.issuance.issuer}`);
    expect(text).toContain(`Valid:       ${e.issuance.notBefore} .. ${e.issuance.notAfter}`);
    for (const r of e.reasons) expect(text).toContain(`${r.code}: ${r.message}`);
    for (const entry of e.issuance.entries)
      expect(text).toContain(`${entry.log} #${entry.index} (${entry.type}`);
    // No base64 DER on a terminal.
    expect(text).not.toContain(e.issuance.certificateDerBase64?.slice(0, 40));
    expect(text.endsWith('\n\n')).toBe(true);
  });

  it('sanitises outside text in the block (ESC, bidi overrides, line breaks)', async () => {
    const out = tty();
    const e = issuanceEvent();
    e.issuance.dnsNames = ['evil\u001b[2J.example.com', 'a\u202Eb.example.com'];
    e.issuance.issuer = 'CN=x\nO=forged line';
    e.issuance.entries = [{ log: 'https://log\u0007/', index: 1, type: 'x509', timestamp: 0 }];
    await createStdoutNotifier({ stream: out.stream }).send(e);
    const text = out.text();
    for (const ch of ['\u001b', '\u0007', '\u202e', '\r']) expect(text).not.toContain(ch);
    expect(text).not.toContain('\nO=forged line');
  });

  it('other events are a block too; not a TTY keeps the JSON line; format can be forced', async () => {
    const out = tty();
    await createStdoutNotifier({ stream: out.stream }).send(otherEvents[1] as MonitorEvent);
    expect(out.text()).toMatch(/^== WARNING CT log problem: .*\n.*What to do: /s);
    const pipe = tty();
    await createStdoutNotifier({ stream: pipe.stream, format: 'json' }).send(otherEvents[1] as MonitorEvent);
    expect(JSON.parse(pipe.text())).toMatchObject({ type: 'log-health' });
  });
});
