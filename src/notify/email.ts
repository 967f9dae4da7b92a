/**
 * @module notify/email
 * Mail over SMTP with nodemailer: subject = the summary line, body = the plain-text form, the
 * certificate attached as PEM when the event carries its DER.
 *
 * Transport security: `secure` means implicit TLS (port 465); otherwise STARTTLS is used whenever
 * the server offers it, and a failed upgrade or an untrusted certificate is an error, never a
 * silent fall-back to plain text (nodemailer's default without `opportunisticTLS`). Certificates
 * are verified unless `rejectUnauthorized: false`.
 *
 * DEVIATION: with credentials configured, STARTTLS is required (`requireTLS`): a password is never
 * sent in clear, even to a server that does not offer TLS. Without credentials, a server that does
 * not offer STARTTLS gets the mail in plain text, as MTAs do between themselves.
 *
 * One connection per alert (no pool): alerts are rare, and nothing stays open between them.
 */
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { NotifyError } from './errors.js';
import { sanitizeText } from '../sanitize.js';
import { eventId, formatText, pemFromDerBase64, sanitizeEvent, summaryLine } from './format.js';
import type { MonitorEvent, Notifier, NotifyConfig } from './types.js';

export type EmailConfig = NonNullable<NotifyConfig['email']>;

export interface EmailNotifierOptions {
  /** TCP connect and TLS handshake (implicit TLS). Default 10 s. */
  connectionTimeoutMs?: number;
  /** From connect to the server's 220 greeting. Default 10 s. */
  greetingTimeoutMs?: number;
  /** Longest silence on the socket once connected. Default 30 s. */
  socketTimeoutMs?: number;
  /** Whole delivery, connect to the final reply. Default 60 s. */
  timeoutMs?: number;
}

/** nodemailer error codes that mean "the deadline passed". */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNTIMEOUT']);

export function createEmailNotifier(config: EmailConfig, options: EmailNotifierOptions = {}): Notifier {
  const { smtp } = config;
  const hasAuth = smtp.user !== undefined;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const transportOptions: SMTPTransport.Options = {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure ?? false,
    requireTLS: hasAuth && smtp.secure !== true,
    auth: hasAuth ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized ?? true, servername: tlsServerName(smtp.host) },
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
  };
  // nodemailer is loaded on the first alert, not when the notifier is configured: every command
  // that reads the monitor's configuration (`check endpoint --database`, `status` …) builds the
  // notifiers, and loading nodemailer cost them tens of milliseconds for a mail most never send.
  let transport: Promise<Transporter<SMTPTransport.SentMessageInfo>> | undefined;
  const transporter = (): Promise<Transporter<SMTPTransport.SentMessageInfo>> =>
    (transport ??= import('nodemailer').then((m) => m.default.createTransport(transportOptions)));
  const domain = addressDomain(config.from);

  return {
    name: 'email',
    async send(raw: MonitorEvent): Promise<void> {
      // Every outside string sanitised: the subject holds certificate names and must never carry
      // CR/LF (header injection) or a bidi override; the body the same, line by line.
      const event = sanitizeEvent(raw);
      const attachments = [];
      if (event.type === 'issuance' && event.issuance.certificateDerBase64 !== undefined) {
        const pem = pemFromDerBase64(event.issuance.certificateDerBase64);
        const hash = event.issuance.certSha256s[0] ?? event.issuance.tbsSha256;
        if (pem !== null) {
          attachments.push({
            filename: `${safeFileName(hash)}.pem`,
            content: pem,
            contentType: 'application/x-pem-file',
          });
        }
      }
      const mail = {
        from: config.from,
        to: config.to,
        subject: sanitizeText(summaryLine(event)),
        text: formatText(event),
        attachments,
        // Stable across retries: a mail client that already has this Message-ID drops the copy.
        messageId: `<certvigil.${event.type}.${eventId(event)}@${domain}>`,
        priority: event.severity === 'critical' ? ('high' as const) : ('normal' as const),
        headers: {
          // RFC 3834 §5: machine-generated, so vacation responders stay quiet.
          'Auto-Submitted': 'auto-generated',
          'X-Certvigil-Event': event.type,
          'X-Certvigil-Severity': event.severity,
        },
      };
      const smtpTransport = await transporter();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // The attempt is abandoned, not cancelled: nodemailer offers no handle on a non-pooled
          // connection, whose own socket timeout closes it. The outbox may retry meanwhile; the
          // stable Message-ID covers a late delivery of this attempt.
          reject(
            new NotifyError(
              'NOTIFY_TIMEOUT',
              'email',
              `${where(smtp)}: not delivered within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
      });
      let info: SMTPTransport.SentMessageInfo;
      try {
        info = await Promise.race([smtpTransport.sendMail(mail), deadline]);
      } catch (cause) {
        if (cause instanceof NotifyError) throw cause;
        throw smtpError(cause, smtp);
      } finally {
        clearTimeout(timer);
      }
      // Some recipients accepted, some refused: a recipient who gets no alerts is a failure the
      // operator must see. The retry re-sends to all; the stable Message-ID lets clients drop copies.
      if (info.rejected.length > 0) {
        const rejected = info.rejected.map((r) => (typeof r === 'string' ? r : r.address)).join(', ');
        throw new NotifyError('NOTIFY_FAILED', 'email', `${where(smtp)} refused recipient(s) ${rejected}`);
      }
    },
  };
}

function where(smtp: EmailConfig['smtp']): string {
  return `${smtp.host}:${smtp.port}`;
}

function smtpError(cause: unknown, smtp: EmailConfig['smtp']): NotifyError {
  const err = cause as { code?: unknown; responseCode?: unknown; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : undefined;
  const status = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  // The server's answer is outside text (it ends up in logs and failure notes).
  const message = sanitizeText(typeof err.message === 'string' ? err.message : String(cause), {
    maxLength: 500,
  });
  const kind = code !== undefined && TIMEOUT_CODES.has(code) ? 'NOTIFY_TIMEOUT' : 'NOTIFY_FAILED';
  return new NotifyError(kind, 'email', `${where(smtp)}: ${message}${code ? ` (${code})` : ''}`, {
    status,
    cause,
  });
}

/** RFC 6066 §3: SNI carries a host name, never an IP literal. */
function tlsServerName(host: string): string | undefined {
  return /^[\d.]+$/.test(host) || host.includes(':') ? undefined : host;
}

/** The domain of the From address (`"Name" <a@b.example>` or `a@b.example`), for the Message-ID. */
function addressDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return match?.[1] ?? 'certvigil.invalid';
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'certificate';
}
