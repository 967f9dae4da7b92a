/**
 * @module notify/exec
 * Runs a hook command for each event with certspotter's hook environment, so that scripts written
 * for certspotter keep working. The contract followed is certspotter 0.16's: its man page
 * certspotter-script(8) (Debian certspotter 0.16.0-1, man/certspotter-script.md upstream) for the
 * documented variables, and its source (monitor/discoveredcert.go, monitor/malformed.go at v0.16.0)
 * for the undocumented compatibility ones (CERT_PARSEABLE, FINGERPRINT, PUBKEY_HASH) and the exact
 * value formats. Our extras are prefixed CERTVIGIL_ (see `hookEnvironment`).
 *
 * Untrusted data (anything from a certificate or a log) reaches the hook only through environment
 * variables and files, never through the command line: the configured command is run as is with
 * `/bin/sh -c`, like certspotter's `-script` but with a shell so that the configuration may carry
 * arguments.
 *
 * The files (certificate PEM, certspotter JSON, text, our JSON) live in a fresh private temporary
 * directory that is removed when the hook exits or is killed. DEVIATION from certspotter, which
 * keeps them in its state directory: a hook must be done with them when it exits (copy them if a
 * background job needs them later).
 *
 * The hook runs in its own process group; on timeout the whole group gets SIGTERM, then SIGKILL,
 * so a `sleep` or `curl` started by the script cannot outlive it.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotifyError } from './errors.js';
import { sha256Hex } from '../hash.js';
import { sanitizeText } from '../sanitize.js';
import {
  advice,
  eventJson,
  formatText,
  pemFromDerBase64,
  safeStringify,
  sanitizeEvent,
  summaryLine,
} from './format.js';
import type { IssuanceEventData, MonitorEvent, Notifier, NotifyConfig } from './types.js';

export type ExecConfig = NonNullable<NotifyConfig['exec']>;

export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;
/** Kept of the hook's stderr for the error message. */
const STDERR_TAIL_BYTES = 4096;

export interface ExecNotifierOptions {
  /** Parent of the per-event temporary directories. Default `os.tmpdir()`. */
  tmpDir?: string;
  /** The environment the hook variables are added to. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** After the timeout's SIGTERM, how long before SIGKILL. Default 2 s. */
  killGraceMs?: number;
}

/** The files written for one event, by the variable that names them. */
export interface HookFile {
  variable:
    'CERT_FILENAME' | 'JSON_FILENAME' | 'TEXT_FILENAME' | 'ENTRY_FILENAME' | 'CERTVIGIL_EVENT_FILENAME';
  name: string;
  content: string;
}

/**
 * Every variable this module may set. They are removed from the inherited environment first, so a
 * variable left unset for this event (e.g. SUBJECT_DN) is unset for the hook, not inherited.
 */
const HOOK_VARIABLES = [
  'EVENT',
  'SUMMARY',
  'CERT_PARSEABLE',
  'LOG_URI',
  'ENTRY_INDEX',
  'WATCH_ITEM',
  'TBS_SHA256',
  'CERT_SHA256',
  'FINGERPRINT',
  'PUBKEY_SHA256',
  'PUBKEY_HASH',
  'CERT_FILENAME',
  'JSON_FILENAME',
  'TEXT_FILENAME',
  'NOT_BEFORE',
  'NOT_BEFORE_UNIXTIME',
  'NOT_BEFORE_RFC3339',
  'NOT_AFTER',
  'NOT_AFTER_UNIXTIME',
  'NOT_AFTER_RFC3339',
  'VALIDITY_PARSE_ERROR',
  'SUBJECT_DN',
  'SUBJECT_PARSE_ERROR',
  'ISSUER_DN',
  'ISSUER_PARSE_ERROR',
  'SERIAL',
  'SERIAL_PARSE_ERROR',
  'LEAF_HASH',
  'PARSE_ERROR',
  'ENTRY_FILENAME',
  // Removed in certspotter 0.15.0 (environment size limits); never set, but not inherited either.
  'DNS_NAMES',
  'IP_ADDRESSES',
  'CERT_TYPE',
  'CERTVIGIL_EVENT_TYPE',
  'CERTVIGIL_SEVERITY',
  'CERTVIGIL_ADVICE',
  'CERTVIGIL_EVENT_FILENAME',
  'CERTVIGIL_KNOWN',
  'CERTVIGIL_REASONS',
  'CERTVIGIL_WATCH_ITEMS',
  'CERTVIGIL_KEY_TYPE',
  'CERTVIGIL_ENTRY_TYPE',
  'CERTVIGIL_MESSAGE',
  'CERTVIGIL_LOG_URI',
  'CERTVIGIL_INVENTORY_PATH',
] as const;
const HOOK_VARIABLE_SET: ReadonlySet<string> = new Set(HOOK_VARIABLES);

/** certspotter-script(8) EVENT values; `test` is ours (the man page says to expect new ones). */
function certspotterEvent(event: MonitorEvent): string {
  switch (event.type) {
    case 'issuance':
      return 'discovered_cert';
    case 'malformed':
      return 'malformed_cert';
    case 'log-misbehaviour':
    case 'log-health':
    case 'inventory-health':
      return 'error';
    case 'test':
      return 'test';
    case 'heartbeat':
      return 'heartbeat';
    case 'iodef-report':
      return 'iodef_report';
  }
}

/** The certificate the files describe: hash of the DER we have, else the first known hash. */
function certHash(i: IssuanceEventData): string | undefined {
  if (i.certificateDerBase64 !== undefined) {
    const der = Buffer.from(i.certificateDerBase64, 'base64');
    if (der.length > 0) return sha256Hex(der);
  }
  return i.certSha256s[0];
}

function fileStem(hash: string | undefined): string {
  const clean = (hash ?? '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  return clean === '' ? 'certificate' : clean;
}

/**
 * The files for one event, with names relative to the hook's directory. Names follow certspotter's
 * (`<sha256>.pem`, `<sha256>.v1.json`, `<sha256>.txt`) for scripts that archive them by name.
 */
export function hookFiles(raw: MonitorEvent): HookFile[] {
  // Outside text (names, issuer, log URLs, messages) sanitised once, for every file written.
  const event = sanitizeEvent(raw);
  const files: HookFile[] = [];
  const text = formatText(event);
  const ours = `${safeStringify(eventJson(event), 2)}\n`;
  if (event.type === 'issuance') {
    const i = event.issuance;
    const stem = fileStem(certHash(i));
    const pem = i.certificateDerBase64 === undefined ? null : pemFromDerBase64(i.certificateDerBase64);
    if (pem !== null) {
      // certspotter 0.24 writes the chain as logged (RFC 6962 §4.6 extra_data) after the
      // certificate: scripts that build or check the chain get it without asking the log again.
      const chain = (i.chainDerBase64 ?? []).map(pemFromDerBase64).filter((p): p is string => p !== null);
      files.push({ variable: 'CERT_FILENAME', name: `${stem}.pem`, content: [pem, ...chain].join('') });
    }
    files.push({ variable: 'JSON_FILENAME', name: `${stem}.v1.json`, content: certspotterJson(event) });
    files.push({ variable: 'TEXT_FILENAME', name: `${stem}.txt`, content: text });
  } else {
    files.push({ variable: 'TEXT_FILENAME', name: 'event.txt', content: text });
    if (event.type === 'malformed' && event.entry !== undefined) {
      // certspotter-script(8): "a JSON object with two fields, leaf_input and extra_data, as
      // described in RFC 6962 Section 4.6".
      const entry = { leaf_input: event.entry.leafInput, extra_data: event.entry.extraData };
      files.push({ variable: 'ENTRY_FILENAME', name: 'entry.json', content: `${JSON.stringify(entry)}\n` });
    }
  }
  files.push({ variable: 'CERTVIGIL_EVENT_FILENAME', name: 'event.json', content: ours });
  return files;
}

/**
 * certspotter-script(8) "JSON FILE FORMAT": tbs_sha256, pubkey_sha256, dns_names, ip_addresses,
 * not_before, not_after (RFC 3339 or null), plus the fields later certspotter releases added with
 * the same names and formats (cert_sha256, subject_dn, issuer_dn, serial, log_uri, entry_index as a
 * string, watch_item), plus `certvigil`: our whole JSON form.
 */
function certspotterJson(event: Extract<MonitorEvent, { type: 'issuance' }>): string {
  const i = event.issuance;
  const entry = i.entries[0];
  const object: Record<string, unknown> = {
    tbs_sha256: i.tbsSha256,
    cert_sha256: certHash(i) ?? null,
    pubkey_sha256: i.spkiSha256,
    dns_names: i.dnsNames,
    ip_addresses: i.ipAddresses,
    not_before: null,
    not_after: null,
    subject_dn: i.subject ?? null,
    issuer_dn: i.issuer,
    serial: goSerial(i.serial),
    log_uri: entry?.log ?? null,
    entry_index: entry === undefined ? null : String(entry.index),
    watch_item: event.watchItems[0] ?? null,
  };
  const validity = parseValidity(i);
  if (!('error' in validity)) {
    object.not_before = goRfc3339(validity.notBefore);
    object.not_after = goRfc3339(validity.notAfter);
  }
  object.certvigil = eventJson(event);
  return `${safeStringify(object, 2)}\n`;
}

function parseValidity(i: IssuanceEventData): { notBefore: Date; notAfter: Date } | { error: string } {
  const notBefore = new Date(i.notBefore);
  const notAfter = new Date(i.notAfter);
  if (Number.isNaN(notBefore.getTime()))
    return { error: `cannot parse not before ${JSON.stringify(i.notBefore)}` };
  if (Number.isNaN(notAfter.getTime()))
    return { error: `cannot parse not after ${JSON.stringify(i.notAfter)}` };
  return { notBefore, notAfter };
}

/** Go's `time.Time.String()` of a UTC time: `2023-01-31 03:47:26 +0000 UTC` (fraction only if any). */
export function goTimeString(d: Date): string {
  const iso = d.toISOString(); // 2023-01-31T03:47:26.000Z
  const ms = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === '' ? '' : `.${ms}`} +0000 UTC`;
}

/** Go's `time.RFC3339` of a UTC time: `2023-01-31T03:47:26Z` (whole seconds). */
export function goRfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * certspotter prints the serial with Go's `%x` of a big.Int: lower-case hex, no leading zeros, a
 * minus sign when negative. Our serials are hex of the content octets (`03e8`, `-01`): strip the
 * zeros. Undefined if the value is not hex at all.
 */
export function goSerial(serial: string): string | undefined {
  const m = /^(-?)([0-9a-fA-F]+)$/.exec(serial);
  if (m === null) return undefined;
  const digits = (m[2] ?? '').toLowerCase().replace(/^0+(?=.)/, '');
  return digits === '0' ? '0' : `${m[1] ?? ''}${digits}`;
}

/**
 * Node refuses environment values holding NUL, and a script that echoes a variable must not get ESC,
 * CR/LF or U+202E from a certificate name: every control and format character becomes an escape.
 */
function envValue(value: string): string {
  return sanitizeText(value);
}

/**
 * The hook's variables for `event`, given the absolute paths of the files written for it (by
 * variable name). certspotter's variables first, then ours:
 *
 * - CERTVIGIL_EVENT_TYPE: issuance, malformed, log-misbehaviour, log-health, test
 * - CERTVIGIL_SEVERITY: info, warning, critical; CERTVIGIL_ADVICE: what to do, one sentence or two
 * - CERTVIGIL_EVENT_FILENAME: our JSON form of the event (every event type)
 * - issuance: CERTVIGIL_KNOWN (yes/no), CERTVIGIL_REASONS (reason codes, comma-separated, empty
 *   when none), CERTVIGIL_WATCH_ITEMS (all matches, comma-separated), CERTVIGIL_KEY_TYPE,
 *   CERTVIGIL_ENTRY_TYPE (x509 or precert, of LOG_URI/ENTRY_INDEX's entry)
 * - error and test events: CERTVIGIL_MESSAGE, and CERTVIGIL_LOG_URI for the log concerned
 *   (CERTVIGIL_INVENTORY_PATH for an inventory-health event)
 * Every value is sanitised (`sanitizeText`): no control or format character reaches a hook.
 */
export function hookEnvironment(
  raw: MonitorEvent,
  paths: Partial<Record<HookFile['variable'], string>>,
): Record<string, string> {
  const event = sanitizeEvent(raw);
  const env: Record<string, string> = {
    EVENT: certspotterEvent(event),
    SUMMARY: summaryLine(event),
  };
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined) env[name] = envValue(value);
  };
  switch (event.type) {
    case 'issuance': {
      const i = event.issuance;
      const entry = i.entries[0];
      const hash = certHash(i);
      set('CERT_PARSEABLE', 'yes'); // certspotter 0.16 source: "backwards compat with pre-0.15.0"
      set('LOG_URI', entry?.log);
      set('ENTRY_INDEX', entry === undefined ? undefined : String(entry.index));
      // certspotter-script(8): "If more than one item matches, the first one is used."
      set('WATCH_ITEM', event.watchItems[0]);
      set('TBS_SHA256', i.tbsSha256);
      set('CERT_SHA256', hash);
      set('FINGERPRINT', hash);
      set('PUBKEY_SHA256', i.spkiSha256);
      set('PUBKEY_HASH', i.spkiSha256);
      set('CERT_FILENAME', paths.CERT_FILENAME);
      set('JSON_FILENAME', paths.JSON_FILENAME);
      set('TEXT_FILENAME', paths.TEXT_FILENAME);
      const validity = parseValidity(i);
      if ('error' in validity) {
        set('VALIDITY_PARSE_ERROR', validity.error);
      } else {
        set('NOT_BEFORE', goTimeString(validity.notBefore));
        set('NOT_BEFORE_UNIXTIME', String(Math.floor(validity.notBefore.getTime() / 1000)));
        set('NOT_BEFORE_RFC3339', goRfc3339(validity.notBefore));
        set('NOT_AFTER', goTimeString(validity.notAfter));
        set('NOT_AFTER_UNIXTIME', String(Math.floor(validity.notAfter.getTime() / 1000)));
        set('NOT_AFTER_RFC3339', goRfc3339(validity.notAfter));
      }
      // Unset when the monitor did not supply it; not a parse error, so no SUBJECT_PARSE_ERROR.
      set('SUBJECT_DN', i.subject);
      // DEVIATION: RFC 4514 order and syntax (`CN=R11,O=Let's Encrypt,C=US`); certspotter writes
      // its own `C=US, O=Let's Encrypt, CN=R11`. Scripts that only show the DN are unaffected.
      set('ISSUER_DN', i.issuer);
      const serial = goSerial(i.serial);
      if (serial === undefined) set('SERIAL_PARSE_ERROR', `serial ${JSON.stringify(i.serial)} is not hex`);
      else set('SERIAL', serial);
      set('CERTVIGIL_KNOWN', event.known ? 'yes' : 'no');
      set('CERTVIGIL_REASONS', event.reasons.map((r) => r.code).join(','));
      set('CERTVIGIL_WATCH_ITEMS', event.watchItems.join(','));
      set('CERTVIGIL_KEY_TYPE', i.keyType);
      set('CERTVIGIL_ENTRY_TYPE', entry?.type);
      break;
    }
    case 'malformed':
      set('LOG_URI', event.log);
      set('ENTRY_INDEX', String(event.index));
      set('LEAF_HASH', event.leafHash);
      set('PARSE_ERROR', event.error);
      set('CERT_PARSEABLE', 'no'); // certspotter 0.16 source: "backwards compat with pre-0.15.0"
      set('ENTRY_FILENAME', paths.ENTRY_FILENAME);
      set('TEXT_FILENAME', paths.TEXT_FILENAME);
      break;
    case 'log-misbehaviour':
    case 'log-health':
      set('TEXT_FILENAME', paths.TEXT_FILENAME);
      set('CERTVIGIL_LOG_URI', event.log);
      set('CERTVIGIL_MESSAGE', event.message);
      break;
    case 'inventory-health':
      set('TEXT_FILENAME', paths.TEXT_FILENAME);
      set('CERTVIGIL_INVENTORY_PATH', event.path);
      set('CERTVIGIL_MESSAGE', event.message);
      break;
    case 'test':
    case 'heartbeat':
    case 'iodef-report':
      set('TEXT_FILENAME', paths.TEXT_FILENAME);
      set('CERTVIGIL_MESSAGE', event.message);
      break;
  }
  set('CERTVIGIL_EVENT_TYPE', event.type);
  set('CERTVIGIL_SEVERITY', event.severity);
  set('CERTVIGIL_ADVICE', advice(event));
  set('CERTVIGIL_EVENT_FILENAME', paths.CERTVIGIL_EVENT_FILENAME);
  return env;
}

interface HookExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
}

/**
 * The hooks of a `hooks.d` directory, as certspotter 0.24 runs them: every entry whose name does not
 * start with a dot and that is (or links to) a regular file executable by us, in byte order of the
 * name. Read at each event, so a hook added or removed takes effect without a restart.
 */
export async function listHookDirectory(directory: string): Promise<string[]> {
  const names = (await readdir(directory)).filter((n) => !n.startsWith('.'));
  names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const hooks: string[] = [];
  for (const name of names) {
    const path = join(directory, name);
    const st = await stat(path).catch(() => null);
    if (st === null || !st.isFile()) continue;
    if (
      await access(path, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      hooks.push(path);
  }
  return hooks;
}

interface Hook {
  /** For messages: `hook` for the command, else the executable's file name. */
  label: string;
  file: string;
  args: string[];
}

export function createExecNotifier(config: ExecConfig, options: ExecNotifierOptions = {}): Notifier {
  const timeoutMs = config.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const killGraceMs = options.killGraceMs ?? 2_000;
  return {
    name: 'exec',
    async send(event: MonitorEvent): Promise<void> {
      const hooks: Hook[] = [];
      if (config.command !== undefined)
        hooks.push({ label: 'hook', file: '/bin/sh', args: ['-c', config.command] });
      if (config.directory !== undefined) {
        let found: string[];
        try {
          found = await listHookDirectory(config.directory);
        } catch (err) {
          throw new NotifyError(
            'NOTIFY_FAILED',
            'exec',
            `cannot read the hooks directory ${sanitizeText(config.directory, { maxLength: 200 })}: ${sanitizeText((err as Error).message)}`,
            { cause: err },
          );
        }
        for (const file of found)
          hooks.push({ label: `hook ${sanitizeText(basename(file), { maxLength: 100 })}`, file, args: [] });
      }
      if (hooks.length === 0) return;
      // mkdtemp creates the directory 0700: the files are readable by the hook's user only.
      const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'certvigil-hook-'));
      const failures: NotifyError[] = [];
      try {
        const paths: Partial<Record<HookFile['variable'], string>> = {};
        for (const file of hookFiles(event)) {
          const path = join(dir, file.name);
          await writeFile(path, file.content, { mode: 0o600 });
          paths[file.variable] = path;
        }
        const inherited = Object.entries(options.env ?? process.env).filter(
          ([name]) => !HOOK_VARIABLE_SET.has(name),
        );
        const env = { ...Object.fromEntries(inherited), ...hookEnvironment(event, paths) };
        // One after the other, each with the same environment and files; a failing hook does not
        // stop the next (each is someone's alert path), but fails the delivery so it is retried.
        for (const hook of hooks) {
          const exit = await runHook(hook.file, hook.args, env, timeoutMs, killGraceMs);
          const failure = hookFailure(hook.label, exit, timeoutMs);
          if (failure !== null) failures.push(failure);
        }
      } finally {
        // Also after a timeout: runHook has killed the whole process group by then.
        await rm(dir, { recursive: true, force: true });
      }
      const [first] = failures;
      if (first === undefined) return;
      if (failures.length === 1) throw first;
      throw new NotifyError(
        first.code === 'NOTIFY_TIMEOUT' ? 'NOTIFY_TIMEOUT' : 'NOTIFY_FAILED',
        'exec',
        `${failures.length} of ${hooks.length} hooks failed: ${failures.map((f) => f.message).join('; ')}`,
        { cause: first },
      );
    },
  };
}

function hookFailure(label: string, exit: HookExit, timeoutMs: number): NotifyError | null {
  // The hook's stderr ends up in logs and in the next alert's failure note: one safe line.
  const output = sanitizeText(exit.stderr.trim(), { maxLength: 1000 });
  const tail = output === '' ? '' : `: ${output}`;
  if (exit.timedOut) {
    return new NotifyError(
      'NOTIFY_TIMEOUT',
      'exec',
      `${label} did not finish within ${timeoutMs} ms and was killed${tail}`,
      { exitCode: exit.code, signal: exit.signal, output },
    );
  }
  if (exit.code !== 0) {
    const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
    return new NotifyError('NOTIFY_FAILED', 'exec', `${label} ${how}${tail}`, {
      exitCode: exit.code,
      signal: exit.signal,
      output,
    });
  }
  return null;
}

/** Runs `file args…` (`/bin/sh -c command`, or a hooks.d executable) in its own process group; kills the group on timeout. */
async function runHook(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  killGraceMs: number,
): Promise<HookExit> {
  // stdout goes nowhere, as with certspotter (exec.Cmd with a nil Stdout); stderr is kept for errors.
  const child = spawn(file, args, {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = Buffer.alloc(0);
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = Buffer.concat([stderr, chunk]);
    if (stderr.length > STDERR_TAIL_BYTES) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
  });
  const stderrClosed = new Promise<void>((resolve) => {
    if (child.stderr === null) resolve();
    else child.stderr.once('close', () => resolve());
  });

  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      // Negative pid: the process group led by the shell (detached made it a group leader).
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };

  let timedOut = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    graceTimer = setTimeout(() => killGroup('SIGKILL'), killGraceMs);
  }, timeoutMs);

  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  clearTimeout(timer);
  clearTimeout(graceTimer);
  // Whatever of the group survived the shell after a timeout (a child that ignores SIGTERM) ends now.
  if (timedOut) killGroup('SIGKILL');
  if (result.error !== undefined) {
    throw new NotifyError(
      'NOTIFY_FAILED',
      'exec',
      `cannot run ${sanitizeText(file, { maxLength: 200 })}: ${sanitizeText(result.error.message)}`,
      {
        cause: result.error,
      },
    );
  }
  // A background job of the hook may hold stderr open: wait a little for the rest, then let go.
  await Promise.race([stderrClosed, sleep(100)]);
  child.stderr?.destroy();
  return {
    code: result.code,
    signal: result.signal,
    timedOut,
    stderr: stderr.toString('utf8'),
  };
}
