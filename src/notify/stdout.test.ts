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
