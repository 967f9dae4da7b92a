/**
 * @module monitor/config
 * The monitor's configuration: a YAML file (`--config`) with command-line flags on top. Parsed
 * with zod at the edge, so the rest of the monitor sees one typed object.
 *
 * @example
 * # /etc/certvigil/config.yaml
 * stateDir: /var/lib/certvigil
 * watchlist: /etc/certvigil/watchlist      # certspotter syntax; or `names: [example.com, .example.org]`
 * inventory: [/etc/letsencrypt, /var/lib/caddy/.local/share/caddy]
 * intervalSeconds: 5m                     # durations: 500ms, 15s, 5m; a bare number in the key's unit
 * logDefaults: { concurrency: 4, requestsPerSecond: 0, timeout: 30s }   # 0: no fixed rate
 * perLog:                                 # by log URL, or by operator name for all its logs
 *   Google: { requestsPerSecond: 5 }
 *   https://ct.example.net/2026/: { concurrency: 1, timeout: 10s }
 * alerts:
 *   email: { smtp: { host: localhost, port: 25 }, from: certvigil@example.com, to: [security@example.com] }
 *   exec: { command: /usr/local/bin/certspotter-hook, timeoutMs: 30s }
 *
 * parseDuration comes from duration.ts, a shared leaf (it imports only errors.ts): the
 * one duration syntax of the flags, so that the file and the command line never differ.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import type { DurationUnit } from '../duration.js';
import { CertvigilError } from '../errors.js';
import type { NotifyConfig } from '../notify/index.js';
import { sanitizeText } from '../sanitize.js';

/**
 * A duration in the one syntax of the command line (`500ms`, `15s`, `5m`; a bare number in the
 * key's unit), bounded like the flags (`parseDuration` in duration.ts), as milliseconds. The message
 * never repeats the value (see `issueText`).
 */
function duration(unit: DurationUnit, minMs: number) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    try {
      return parseDuration(String(value), 'value', { unit, minMs });
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration such as 500ms, 15s or 5m (a bare number is in ${unit}), from ${minMs} ms to about 24 days`,
      });
      return z.NEVER;
    }
  });
}

const smtpSchema = z.object({
  host: z.string(),
  port: z.number().int().positive().max(65535),
  secure: z.boolean().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  rejectUnauthorized: z.boolean().optional(),
});

const alertsSchema = z
  .object({
    stdout: z.boolean().optional(),
    email: z.object({ smtp: smtpSchema, from: z.string(), to: z.array(z.string()).min(1) }).optional(),
    webhook: z
      .object({
        url: z.string().url(),
        headers: z.record(z.string(), z.string()).optional(),
        timeoutMs: duration('ms', 1).optional(),
      })
      .optional(),
    // certspotter-compatible hooks: one command and/or a hooks.d directory (at least one).
    exec: z
      .object({
        command: z.string().min(1).optional(),
        directory: z.string().min(1).optional(),
        timeoutMs: duration('ms', 1).optional(),
      })
      .strict()
      .refine((e) => e.command !== undefined || e.directory !== undefined, {
        message: 'needs a command or a directory',
      })
      .optional(),
    /** Opt-in: a `heartbeat` event through every sink this often (e.g. `24h`), so silence is noticed. */
    heartbeat: duration('ms', 60_000).optional(),
  })
  .strict();

/** Per-log request limits: each log runs on its own, within these. */
const limitsSchema = z
  .object({
    /** Requests in flight to the log at once. */
    concurrency: z.number().int().positive().max(32).optional(),
    /** Requests per second at most (token bucket); `0` turns the rate limit off. */
    requestsPerSecond: z.number().min(0).max(10_000).optional(),
    /** Deadline of one request, from sending to the last body byte (a stuck log gives up here). */
    timeout: duration('s', 100).optional(),
  })
  .strict();

/** Logs caught up at once: each holds 4 connections, so more only hammers the logs. */
export const MAX_CONCURRENCY = 64;

const fileSchema = z
  .object({
    stateDir: z.string().optional(),
    /** `postgres://…`: use PostgreSQL instead of the embedded SQLite file. */
    database: z.string().optional(),
    /** Share the SQLite state read-only with this group (name or gid), as `monitor --group`. */
    group: z.union([z.string(), z.number().int().nonnegative()]).optional(),
    watchlist: z.string().optional(),
    names: z.array(z.string()).optional(),
    logList: z.string().optional(),
    /** How often the log list is fetched at most (default 1 h); the last good copy is kept on disk. */
    logListMaxAge: duration('s', 1000).optional(),
    /** How long refreshes may fail before a health alert (default 24 h); the last good list is used meanwhile. */
    logListGrace: duration('s', 1000).optional(),
    /** Only these logs of the list (URL prefixes); default: every log whose state is usable/qualified/readonly/pending/unknown. */
    logs: z.array(z.string()).optional(),
    inventory: z.array(z.string()).optional(),
    alerts: alertsSchema.optional(),
    startAtEnd: z.boolean().optional(),
    /** Seconds between daemon cycles, or a duration (`90s`, `5m`); from 1 s to about 24 days. */
    intervalSeconds: duration('s', 1000).optional(),
    /** Resolver for the CAA heuristic (HOST:PORT); default /etc/resolv.conf. `false` turns the check off. */
    caaResolver: z.union([z.string(), z.literal(false)]).optional(),
    /** Extra issuer → CAA identifier mappings: keys match the issuer's O= or the whole issuer DN. */
    caaIssuers: z.record(z.string(), z.array(z.string())).optional(),
    concurrency: z.number().int().positive().max(MAX_CONCURRENCY).optional(),
    /** Request limits of every log, unless `perLog` says otherwise. */
    logDefaults: limitsSchema.optional(),
    /** Limits for one log (key: its URL) or every log of one operator (key: the operator's name). */
    perLog: z.record(z.string(), limitsSchema).optional(),
    /** Source address of the connections to CT logs, as `monitor --source-address` (issue 18). */
    ctSourceAddress: z
      .string()
      .refine((v) => isIP(v) !== 0, { message: 'must be a literal IPv4 or IPv6 address' })
      .optional(),
  })
  .strict();

export type ConfigFile = z.output<typeof fileSchema>;

export interface MonitorConfig {
  stateDir: string;
  database: string | null;
  /** `monitor --group` / `group:`: share the SQLite state read-only with this group; null: private. */
  group?: string | null;
  watchlistFile: string | null;
  names: string[];
  /** File or URL of the log list; null: the default, the union of Chrome's and Apple's lists. */
  logList: string | null;
  /** The log list is fetched at most this often (milliseconds). */
  logListMaxAgeMs: number;
  /** Refreshes failing longer than this raise a health alert. */
  logListGraceMs: number;
  logs: string[];
  inventory: string[];
  alerts: NotifyConfig;
  startAtEnd: boolean;
  /** Milliseconds between daemon cycles (bounded: a timer past 2^31 ms fires at once). */
  intervalMs: number;
  caaResolver: string | false | null;
  caaIssuers: Record<string, string[]>;
  concurrency: number;
  logDefaults: LogLimits;
  perLog: Record<string, Partial<LogLimits>>;
  /**
   * Source address (a literal IP of this host) of the connections to CT logs; null: the kernel's
   * choice. Public logs rate-limit per client IP: workers on a multi-homed host spread over its
   * addresses.
   */
  ctSourceAddress?: string | null;
}

/** What one log may be asked: in flight at once, per second (null: no limit), and per-request deadline. */
export interface LogLimits {
  concurrency: number;
  requestsPerSecond: number | null;
  timeoutMs: number;
}

/**
 * Defaults: 4 requests in flight, no fixed rate, 30 s per request. Public logs throttle per client
 * with 429 + Retry-After (RFC 6585 §4), which the client obeys and slows down for, so a fixed rate
 * would only slow the catch-up of the logs that do not need it; set one per log or operator where a
 * log asks for it. A stuck request is abandoned after 30 s (then retried with backoff) and only
 * holds up its own log.
 */
export const DEFAULT_LOG_LIMITS: LogLimits = { concurrency: 4, requestsPerSecond: null, timeoutMs: 30_000 };

function limitsOf(file: z.output<typeof limitsSchema> | undefined): Partial<LogLimits> {
  if (file === undefined) return {};
  return {
    ...(file.concurrency !== undefined ? { concurrency: file.concurrency } : {}),
    ...(file.requestsPerSecond !== undefined
      ? { requestsPerSecond: file.requestsPerSecond === 0 ? null : file.requestsPerSecond }
      : {}),
    ...(file.timeout !== undefined ? { timeoutMs: file.timeout } : {}),
  };
}

/** The limits of one log: `perLog[url]` over `perLog[operator]` over `logDefaults`. */
export function limitsFor(
  log: { url: string; operator: string },
  config: Pick<MonitorConfig, 'logDefaults' | 'perLog'>,
): LogLimits {
  const norm = (u: string): string => u.replace(/\/+$/, '');
  const byUrl = Object.entries(config.perLog).find(([k]) => norm(k) === norm(log.url))?.[1] ?? {};
  const byOperator = config.perLog[log.operator] ?? {};
  return { ...config.logDefaults, ...byOperator, ...byUrl };
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  const where = sanitizeText(path, { maxLength: 200 });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const e = cause as NodeJS.ErrnoException;
    const text = (e.message ?? '').replace(/^[A-Z0-9_]+: /, '').replace(/, \w+ '.*'$/s, '');
    const why = e.code !== undefined ? `${text} (${e.code})` : 'read error';
    throw new CertvigilError('CONFIG_INVALID', `cannot read config ${where}: ${sanitizeText(why)}`, {
      cause,
    });
  }
  return parseConfigText(text, where);
}

/**
 * Parses and validates the config text. Errors are `FILE:LINE:COL: reason` for YAML and
 * `FILE: key.path: reason` for the schema, and never quote the file: the YAML library's own
 * message shows the offending source line, which may be the SMTP password or a webhook token.
 */
export function parseConfigText(text: string, where: string): ConfigFile {
  if (text.includes('\u0000'))
    throw new CertvigilError('CONFIG_INVALID', `${where}: binary content: not YAML`);
  let raw: unknown;
  try {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'silent' });
    const first = doc.errors[0];
    if (first !== undefined) {
      const pos = first.linePos?.[0];
      throw new CertvigilError(
        'CONFIG_INVALID',
        `${where}:${pos ? `${pos.line}:${pos.col}` : '?'}: ${yamlReason(first.message, first.code)}`,
      );
    }
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    if (err instanceof CertvigilError) throw err;
    // toJS: alias-count and similar resource limits; their text holds no source.
    throw new CertvigilError(
      'CONFIG_INVALID',
      `${where}: not usable YAML (${yamlReason((err as Error).message, '')})`,
    );
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${keyPath(i.path)}: ${issueText(i)}`);
    const more = parsed.error.issues.length > 5 ? `; and ${parsed.error.issues.length - 5} more` : '';
    throw new CertvigilError('CONFIG_INVALID', `${where}: ${issues.join('; ')}${more}`);
  }
  return parsed.data;
}

/**
 * The reason of a YAML error without the source excerpt the library appends (`… at line 4, column
 * 10:\n\n<the line>\n^`), and without any quoted token (a quote is source text too).
 */
function yamlReason(message: string, code: string): string {
  const head = (message.split(/ at line \d+/)[0] ?? '').split('\n')[0] ?? '';
  const cleaned = head
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '…')
    .split(': ')[0]
    ?.trim();
  const reason = cleaned !== undefined && cleaned !== '' ? cleaned : code.toLowerCase().replaceAll('_', ' ');
  return sanitizeText(reason, { maxLength: 120 });
}

function keyPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top)';
  return sanitizeText(
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
      .join('.')
      .replaceAll('.[', '['),
    { maxLength: 120 },
  );
}

/**
 * What is wrong, from the issue's code alone: never the value (the config holds passwords and
 * tokens, and a wrongly indented secret may land under any key).
 */
function issueText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // Missing keys land here too (zod does not keep the input): "expected string" covers both.
      return `expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => sanitizeText(k, { maxLength: 60 })).join(', ')}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'array' ? ' item(s)' : ''}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    case 'invalid_union':
      return 'not one of the accepted forms';
    case 'custom':
      return issue.message; // our own messages (see `duration`), which never hold the value
    default:
      return 'invalid value';
  }
}

/** Flags win over the file; the file wins over defaults. */
export function resolveConfig(
  file: ConfigFile,
  flags: Partial<MonitorConfig>,
  defaults: { stateDir: string; logList: string | null },
): MonitorConfig {
  const pick = <K extends keyof MonitorConfig>(
    key: K,
    fromFile: MonitorConfig[K] | undefined,
    fallback: MonitorConfig[K],
  ): MonitorConfig[K] =>
    flags[key] !== undefined && !(Array.isArray(flags[key]) && (flags[key] as unknown[]).length === 0)
      ? (flags[key] as MonitorConfig[K])
      : (fromFile ?? fallback);
  return {
    stateDir: pick('stateDir', file.stateDir, defaults.stateDir),
    database: pick('database', file.database, null),
    group: pick('group', file.group === undefined ? undefined : String(file.group), null),
    watchlistFile: pick('watchlistFile', file.watchlist, null),
    names: pick('names', file.names, []),
    logList: pick('logList', file.logList, defaults.logList),
    logListMaxAgeMs: pick('logListMaxAgeMs', file.logListMaxAge, 3_600_000),
    logListGraceMs: pick('logListGraceMs', file.logListGrace, 86_400_000),
    logs: pick('logs', file.logs, []),
    inventory: pick('inventory', file.inventory, []),
    alerts: pick('alerts', file.alerts, {}),
    startAtEnd: pick('startAtEnd', file.startAtEnd, false),
    intervalMs: pick('intervalMs', file.intervalSeconds, 300_000),
    caaResolver: pick('caaResolver', file.caaResolver, null),
    caaIssuers: pick('caaIssuers', file.caaIssuers, {}),
    concurrency: pick('concurrency', file.concurrency, 4),
    logDefaults: { ...DEFAULT_LOG_LIMITS, ...limitsOf(file.logDefaults) },
    perLog: Object.fromEntries(Object.entries(file.perLog ?? {}).map(([k, v]) => [k, limitsOf(v)])),
    ctSourceAddress: pick('ctSourceAddress', file.ctSourceAddress, null),
  };
}
