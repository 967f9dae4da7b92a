import { describe, expect, it } from 'vitest';
import type { IodefOutboxRecord } from '../../store/types.js';
import { DeliveryError } from './delivery-error.js';
import { mailSender } from './transport-mail.js';

const report = (recipient: string): IodefOutboxRecord => ({
  id: 1,
  dedupKey: 'k',
  recipient,
  channel: 'mailto',
  registeredDomain: 'example.com',
  names: ['www.example.com'],
  reason: 'issuer-not-authorized',
  incidentId: 'id-1',
  document: '<IODEF-Document/>',
  createdAt: '2026-01-01T00:00:00.000Z',
  attempts: 0,
  nextAttemptAt: '2026-01-01T00:00:00.000Z',
  sentAt: null,
  gaveUpAt: null,
  lastError: null,
});

describe('mailSender, before any SMTP exchange', () => {
  it.each([
    [
      'no SMTP server: retried later',
      'mailto:caa@example.com',
      'mail to caa@example.com: no SMTP server configured for mailto: reports',
      false,
    ],
    [
      'not a mail address: given up',
      'https://example.com/iodef',
      'not a mail address: https://example.com/iodef',
      true,
    ],
  ])('%s', async (_name, recipient, message, permanent) => {
    const sender = mailSender(undefined);
    const sent = sender.send(report(recipient), 'iodef@ca.example');
    await expect(sent).rejects.toBeInstanceOf(DeliveryError);
    await expect(sent).rejects.toMatchObject({ message, permanent });
    expect(() => sender.close()).not.toThrow();
  });
});
