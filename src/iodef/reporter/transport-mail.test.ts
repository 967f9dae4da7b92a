import { describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery-error.js';
import { outboxRecord } from './outbox-record.fixture.js';
import { mailSender } from './transport-mail.js';

const report = (recipient: string) => outboxRecord({ recipient });

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
