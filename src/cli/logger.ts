/**
 * @module cli/logger
 * Logs go to stderr (results go to stdout): JSON lines from pino, or, when stderr is a terminal,
 * human-readable lines with timestamps (pino-pretty, loaded only then, so that a plugin started
 * by Nagios with stderr on a pipe pays nothing for it).
 *
 * Every string that reaches a log line came from somewhere: a certificate field, a CT log's error
 * body, a DNS answer. Each is sanitised (src/sanitize.ts) — message, format arguments, fields,
 * error messages and stacks, child bindings — so outside text can neither forge a second log line
 * (CR/LF, U+2028) nor drive the operator's terminal (ESC sequences) nor reorder what is shown
 * (bidi overrides). No field may duplicate a key of the line itself (`level`, `time`, `msg`,
 * `pid`, `hostname`, `app`): a caller's field of that name is renamed with a trailing `_`, so a
 * consumer never sees two values for one key. The binary's own field is `app`, not pino's `name`
 * option, because callers log a DNS `name`; on a terminal a caller's `name` is shown as `name_`,
 * since pino-pretty would print it as the logger's name.
 */
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { pino } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { CertvigilError } from '../errors.js';
import { sanitizeDeep, sanitizeText } from '../sanitize.js';

export type { Logger };

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

/** A log level from `--log-level` or `$CERTVIGIL_LOG_LEVEL`; anything else is a usage error. */
export function parseLogLevel(value: string, source = '--log-level'): LogLevel {
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new CertvigilError(
    'USAGE',
    `${source} must be one of ${LOG_LEVELS.join(', ')} (got "${sanitizeText(value, { maxLength: 40 })}")`,
  );
}

/** Keys of the line itself; a caller's field with one of these names gets a trailing `_`. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app']);
/** pino-pretty also shows a `name` field as the logger's name in the line's header. */
const RESERVED_KEYS_PRETTY: ReadonlySet<string> = new Set([...RESERVED_KEYS, 'name']);

/** pino's Error serialisation, sanitised: the message fully, the stack frames keeping their line breaks. */
function safeError(err: Error): Record<string, unknown> {
  const plain = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const { stack, ...rest } = plain;
  const out: Record<string, unknown> = sanitizeDeep(rest);
  if (typeof stack === 'string') {
    // The first line of a stack repeats the message (outside text, possibly with line breaks of its
    // own); the frames below are ours. Keep the frames readable, flatten the message.
    const head = `${err.name}: ${err.message}`;
    out.stack = stack.startsWith(head)
      ? sanitizeText(head) + sanitizeText(stack.slice(head.length), { keepNewlines: true })
      : sanitizeText(stack, { keepNewlines: true });
  }
  return out;
}

/**
 * Sanitises a field value. Objects reached twice by different paths are fine (copied twice); only a
 * true cycle (an object inside itself) is cut, tracked by the ancestors on the current path.
 */
function safeValue(value: unknown, ancestors: Set<object> = new Set()): unknown {
  if (value instanceof Error) return safeError(value);
  if (value === null || typeof value !== 'object') return sanitizeDeep(value);
  if (ancestors.has(value)) return '[circular]';
  const proto = Object.getPrototypeOf(value) as unknown;
  const plain = Array.isArray(value) || proto === Object.prototype || proto === null;
  if (!plain) return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((v: unknown) => safeValue(v, ancestors));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[sanitizeText(k)] = safeValue(v, ancestors);
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/** The fields of one line: sanitised, reserved keys renamed (see the module comment). */
export function safeLogFields(
  obj: Record<string, unknown>,
  reserved: ReadonlySet<string> = RESERVED_KEYS,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    let key = sanitizeText(k);
    while (reserved.has(key) || Object.hasOwn(out, key)) key = `${key}_`;
    out[key] = safeValue(v);
  }
  return out;
}

export interface LoggerSetup {
  /** Human-readable output (default: when stderr is a terminal). */
  pretty?: boolean;
  /** Colours in pretty mode (default: unless NO_COLOR is set, https://no-color.org). */
  colour?: boolean;
  /** Where JSON lines go (default: fd 2, synchronously). Tests pass a stream. */
  destination?: DestinationStream;
}

export function makeLogger(level: LogLevel = DEFAULT_LOG_LEVEL, setup: LoggerSetup = {}): Logger {
  const pretty = setup.pretty ?? process.stderr.isTTY === true;
  const reserved = pretty ? RESERVED_KEYS_PRETTY : RESERVED_KEYS;
  const options: LoggerOptions = {
    level,
    base: { app: 'certvigil', pid: process.pid, hostname: hostname() },
    formatters: {
      // The base (`app`, `pid`, `hostname`) and child bindings: sanitised, not renamed.
      bindings: (bindings) => sanitizeDeep(bindings),
      log: (obj) => safeLogFields(obj, reserved),
    },
    hooks: {
      logMethod(args: unknown[], method, _level) {
        // `logger.error(err)`: pino would take err.message unsanitised as the message.
        const first = args[0];
        const normalised =
          first instanceof Error
            ? [{ err: first }, typeof args[1] === 'string' ? args[1] : first.message, ...args.slice(2)]
            : args;
        const safe = normalised.map((a) => (typeof a === 'string' ? sanitizeText(a) : a));
        (method as (...a: unknown[]) => void).apply(this, safe);
      },
    },
  };
  if (pretty) return pino(options, prettyStream(setup.colour ?? colourWanted()));
  return pino(options, setup.destination ?? pino.destination({ fd: 2, sync: true }));
}

function colourWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}

/**
 * pino-pretty writing to stderr, required synchronously and only here: loading it costs tens of
 * milliseconds, which a plugin whose stderr is a pipe should not pay.
 */
function prettyStream(colorize: boolean): DestinationStream {
  const require = createRequire(import.meta.url);
  const build = require('pino-pretty') as (options: Record<string, unknown>) => DestinationStream;
  return build({
    destination: 2,
    sync: true,
    colorize,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
    ignore: 'pid,hostname,app',
  });
}
