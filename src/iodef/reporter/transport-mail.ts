/**
 * @module iodef/reporter/transport-mail
 * The mailto: channel of CAA iodef (RFC 8659 §4.4, RFC 6068): hands the composed mail (compose.ts)
 * to an SMTP server (RFC 5321) through nodemailer. A 5xx reply is permanent (RFC 5321 §4.2.1:
 * "do not repeat the exact request"), anything else is retried. One SMTP transport serves a whole
 * drain; nodemailer is loaded with the first mail, so `iodef` commands that send none do not pay
 * for it.
 */
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { IodefOutboxRecord } from '../../store/index.js';
import { reportMail } from './compose.js';
import { DeliveryError } from './delivery-error.js';
import { parseIodefValue } from './targets.js';

export interface MailSender {
  /** Mails one report from `from`; resolves when the server took it, else a `DeliveryError`. */
  send(report: IodefOutboxRecord, from: string): Promise<void>;
  /** Closes the SMTP connection, if one was opened; safe to call more than once. */
  close(): void;
}

function smtpPermanent(cause: unknown): boolean {
  const code = (cause as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** A sender over `smtp`; without it every mail fails (transiently) with "no SMTP server configured". */
export function mailSender(smtp: SMTPTransport.Options | undefined): MailSender {
  let mailer: Transporter<SMTPTransport.SentMessageInfo> | undefined;
  const transport = async (): Promise<Transporter<SMTPTransport.SentMessageInfo>> => {
    if (smtp === undefined) throw new DeliveryError('no SMTP server configured for mailto: reports', false);
    mailer ??= (await import('nodemailer')).default.createTransport(smtp);
    return mailer;
  };
  return {
    async send(report, from) {
      const target = parseIodefValue(report.recipient);
      if (target.address === null) throw new DeliveryError(`not a mail address: ${report.recipient}`, true);
      const mail = reportMail(report, from, target.address);
      let info: SMTPTransport.SentMessageInfo;
      try {
        info = await (await transport()).sendMail(mail);
      } catch (cause) {
        throw new DeliveryError(
          `mail to ${target.address}: ${(cause as Error).message}`,
          smtpPermanent(cause),
        );
      }
      if (info.rejected.length > 0) throw new DeliveryError(`mail to ${target.address} refused`, true);
    },
    close() {
      mailer?.close();
    },
  };
}
