/**
 * @module notify/types
 * Decided events, and the sinks that deliver them. The monitor decides *what* to say; a
 * notifier only knows *how* to send it (certspotter's `monitor/notify.go` split).
 */

export type Severity = 'info' | 'warning' | 'critical';

/** One reason an issuance looks wrong; `code` is stable, `message` is for people. */
export interface Reason {
  code: string;
  severity: Severity;
  message: string;
}

export interface IssuanceEventData {
  tbsSha256: string;
  certSha256s: string[];
  dnsNames: string[];
  ipAddresses: string[];
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  spkiSha256: string;
  keyType: string;
  /** Where it was logged: log URL, index, entry type, log timestamp. */
  entries: { log: string; index: number; type: 'x509' | 'precert'; timestamp: number }[];
  /** DER of the logged certificate or precertificate, base64, when available (for hook files). */
  certificateDerBase64?: string;
  /**
   * The chain the log entry carries (RFC 6962 §4.6 `extra_data`: `certificate_chain`, or the
   * `precertificate_chain` after the pre-certificate), DER base64, issuer first. Hook scripts get
   * it after the certificate in CERT_FILENAME, as certspotter 0.24 writes the whole chain there.
   */
  chainDerBase64?: string[];
  /** RFC 4514 subject DN (`CertSummary.subject`), when known: hook scripts get it as SUBJECT_DN. */
  subject?: string;
}

export type MonitorEvent =
  | {
      type: 'issuance';
      severity: Severity;
      /** Watch-list entries that matched. */
      watchItems: string[];
      known: boolean;
      reasons: Reason[];
      issuance: IssuanceEventData;
    }
  | {
      type: 'malformed';
      severity: Severity;
      log: string;
      index: number;
      error: string;
      /** Base64 RFC 6962 Merkle leaf hash of the entry, when known (hook scripts: LEAF_HASH). */
      leafHash?: string;
      /** The raw entry, base64, as get-entries gives it (hook scripts: ENTRY_FILENAME). */
      entry?: { leafInput: string; extraData: string };
      /** Why the entry could not be parsed (hook scripts: PARSE_ERROR); the same text as `error`. */
      parseError?: string;
    }
  | {
      type: 'log-misbehaviour';
      severity: 'critical';
      log: string;
      message: string;
      /** The signed heads that prove it (JSON form). */
      evidence: unknown;
    }
  | { type: 'log-health'; severity: Severity; log: string; message: string }
  /** A configured inventory path cannot be read: alerts for our own certificates may follow. */
  | { type: 'inventory-health'; severity: Severity; path: string; message: string }
  | { type: 'test'; severity: 'info'; message: string }
  /**
   * The opt-in daily "still alive" (certspotter #85): sent every `alerts.heartbeat` so a
   * monitor that fell silent is noticed by its absence. `at` (ISO) makes each one distinct.
   */
  | { type: 'heartbeat'; severity: 'info'; at: string; message: string }
  | {
      /** A CA reported a CAA-refused issuance to our iodef receiver (RFC 8659 §4.4); sent once per report. */
      type: 'iodef-report';
      severity: Severity;
      /** The receiver's one-line summary (iodef/receiver `formatReportLine`). */
      message: string;
      report: {
        id: number;
        /**
         * `conflicting-report`: another report claimed the same IncidentID with other content
         * (one of them is forged or the CA re-issued it). Absent means `report`.
         */
        kind?: 'report' | 'conflicting-report';
        /** For a conflicting report: the ids of the earlier reports with other content. */
        conflictsWith?: number[];
        channel: 'https' | 'smtp' | 'file';
        sender: string;
        incidentId: string | null;
        names: string[];
        schemaValid: boolean;
      };
    };

export interface Notifier {
  /** e.g. "email", "webhook", "exec", "stdout". */
  readonly name: string;
  /** Delivers one event; rejects on failure (the caller retries from the outbox). */
  send(event: MonitorEvent): Promise<void>;
}

export interface NotifyConfig {
  /** JSON lines on stdout. */
  stdout?: boolean;
  email?: {
    /** SMTP server; `secure` for implicit TLS, otherwise STARTTLS when offered. */
    smtp: {
      host: string;
      port: number;
      secure?: boolean;
      user?: string;
      password?: string;
      rejectUnauthorized?: boolean;
    };
    from: string;
    to: string[];
  };
  webhook?: { url: string; headers?: Record<string, string>; timeoutMs?: number };
  /**
   * certspotter-compatible hooks, run with EVENT, TBS_SHA256, CERT_FILENAME, … set: `command` (one
   * shell command), and/or `directory` (a `hooks.d`: every executable file in it, in name order,
   * dotfiles and non-executables skipped, as certspotter 0.24). At least one of the two.
   */
  exec?: { command?: string; directory?: string; timeoutMs?: number };
  /**
   * Opt-in: milliseconds between `heartbeat` events through every sink (config `alerts.heartbeat:
   * 24h`); absent means none. The daemon decides with `heartbeatDue`.
   */
  heartbeat?: number;
}
