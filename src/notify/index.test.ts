import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { issuanceEvent } from './events.fixture.js';
import {
  createExecNotifier,
  createNotifiers,
  createStdoutNotifier,
  deliverAll,
  NotifyError,
} from './index.js';
import type { Notifier, NotifyConfig } from './index.js';

describe('createNotifiers', () => {
  it('builds nothing from an empty config', () => {
    expect(createNotifiers({})).toEqual([]);
    expect(createNotifiers({ stdout: false })).toEqual([]);
  });

  it('builds every configured sink in a fixed order', () => {
    const notifiers = createNotifiers({
      exec: { command: '/usr/local/bin/hook' },
      webhook: { url: 'https://hooks.example/x' },
      email: { smtp: { host: 'localhost', port: 25 }, from: 'a@example.com', to: ['b@example.com'] },
      stdout: true,
    });
    expect(notifiers.map((n) => n.name)).toEqual(['stdout', 'email', 'webhook', 'exec']);
  });

  it.each<[string, NotifyConfig]>([
    ['no recipient', { email: { smtp: { host: 'localhost', port: 25 }, from: 'a@example.com', to: [] } }],
    [
      'bad port',
      { email: { smtp: { host: 'localhost', port: 70000 }, from: 'a@example.com', to: ['b@example.com'] } },
    ],
    ['empty host', { email: { smtp: { host: '', port: 25 }, from: 'a@example.com', to: ['b@example.com'] } }],
    ['not a URL', { webhook: { url: 'hooks.example/x' } }],
    ['not http(s)', { webhook: { url: 'file:///etc/passwd' } }],
    ['zero timeout', { webhook: { url: 'https://hooks.example/x', timeoutMs: 0 } }],
    ['empty command', { exec: { command: '  ' } }],
    ['negative timeout', { exec: { command: 'true', timeoutMs: -1 } }],
    // Issue 12: a timer past 2^31 − 1 ms fires at once; the timeout would be none at all.
    ['a timeout past 2^31 ms', { webhook: { url: 'https://hooks.example/x', timeoutMs: 2 ** 31 } }],
    ['an endless exec timeout', { exec: { command: 'true', timeoutMs: Number.POSITIVE_INFINITY } }],
  ])('refuses %s with CONFIG_INVALID', (_what, config) => {
    expect(() => createNotifiers(config)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('deliverAll', () => {
  it('isolates failures: every sink gets the event, each result says how it went', async () => {
    const calls: string[] = [];
    const sink = (name: string, send: Notifier['send']): Notifier => ({
      name,
      send: (event) => {
        calls.push(name);
        return send(event);
      },
    });
    const notifiers: Notifier[] = [
      sink('sync-throw', () => {
        throw new Error('boom');
      }),
      sink('typed', () => Promise.reject(new NotifyError('NOTIFY_TIMEOUT', 'typed', 'slow'))),
      sink('string', () => Promise.reject(new Error('plain'))),
      sink('slow-ok', () => new Promise((resolve) => setTimeout(resolve, 50))),
      sink('ok', () => Promise.resolve()),
    ];
    const results = await deliverAll(notifiers, issuanceEvent());
    expect(calls.sort()).toEqual(['ok', 'slow-ok', 'string', 'sync-throw', 'typed']);
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ['sync-throw', false],
      ['typed', false],
      ['string', false],
      ['slow-ok', true],
      ['ok', true],
    ]);
    const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
    expect(errors.every(isCertvigilError)).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(['NOTIFY_FAILED', 'NOTIFY_TIMEOUT', 'NOTIFY_FAILED']);
    expect(errors[0]?.message).toBe('sync-throw: boom');
    expect(results.every((r) => r.durationMs >= 0)).toBe(true);
  });

  it('delivers to stdout even when the hook fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certvigil-deliver-'));
    try {
      const stream = new PassThrough();
      const lines: string[] = [];
      stream.on('data', (c: Buffer) => lines.push(c.toString('utf8')));
      const results = await deliverAll(
        [createExecNotifier({ command: 'exit 1' }, { tmpDir: dir }), createStdoutNotifier({ stream })],
        issuanceEvent(),
      );
      expect(results.map((r) => [r.name, r.ok])).toEqual([
        ['exec', false],
        ['stdout', true],
      ]);
      expect(lines.join('')).toContain('"type":"issuance"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
