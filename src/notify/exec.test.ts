/**
 * The certspotter-compatible hook: a real /bin/sh script dumps its environment and copies the
 * files it was given; the variables are checked against certspotter-script(8) (0.16.0) and its
 * source's value formats. Failing and hanging hooks are failures and leave no files or processes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CERT_DER_BASE64,
  CERT_PEM,
  CERT_SHA256,
  ISSUER,
  SPKI_SHA256,
  TBS_SHA256,
  issuanceEvent,
  malformedEvent,
  otherEvents,
} from './events.fixture.js';
import { createExecNotifier, goRfc3339, goSerial, goTimeString, hookEnvironment } from './exec.js';
import { advice, eventJson, formatText, summaryLine } from './format.js';
import type { MonitorEvent } from './types.js';

/** Dumps the environment (NUL-separated) and copies every file a variable names into $DUMP_DIR. */
const DUMP_SCRIPT = `#!/bin/sh
set -eu
env -0 > "$DUMP_DIR/env"
for v in CERT_FILENAME JSON_FILENAME TEXT_FILENAME ENTRY_FILENAME CERTVIGIL_EVENT_FILENAME; do
  eval "f=\\\${$v:-}"
  if [ -n "$f" ]; then cp "$f" "$DUMP_DIR/$v"; fi
done
`;

let work: string;
let hookTmp: string;
let dump: string;
let script: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-exec-test-'));
  hookTmp = join(work, 'tmp');
  dump = join(work, 'dump');
  script = join(work, 'hook.sh');
  await Promise.all([writeFile(script, DUMP_SCRIPT), mkdir(hookTmp), mkdir(dump)]);
  await chmod(script, 0o755);
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function dumpedEnv(): Promise<Map<string, string>> {
  const raw = await readFile(join(dump, 'env'), 'utf8');
  const env = new Map<string, string>();
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

function notifier(command: string, timeoutMs?: number, extraEnv: NodeJS.ProcessEnv = {}) {
  return createExecNotifier(
    { command, timeoutMs },
    { tmpDir: hookTmp, env: { PATH: process.env.PATH, DUMP_DIR: dump, ...extraEnv }, killGraceMs: 500 },
  );
}

describe('exec notifier: discovered_cert', () => {
  it('sets certspotter 0.16 variables with its formats, plus ours', async () => {
    const event = issuanceEvent();
    await notifier(script).send(event);
    const env = await dumpedEnv();
    const expected: Record<string, string> = {
      EVENT: 'discovered_cert',
      SUMMARY: summaryLine(event),
      CERT_PARSEABLE: 'yes',
      LOG_URI: 'https://ct.example/2026h2/',
      ENTRY_INDEX: '6464843',
      WATCH_ITEM: '.example.com',
      TBS_SHA256,
      CERT_SHA256,
      FINGERPRINT: CERT_SHA256,
      PUBKEY_SHA256: SPKI_SHA256,
      PUBKEY_HASH: SPKI_SHA256,
      NOT_BEFORE: '2026-11-24 04:04:12 +0000 UTC',
      NOT_BEFORE_UNIXTIME: '1795493052',
      NOT_BEFORE_RFC3339: '2026-11-24T04:04:12Z',
      NOT_AFTER: '2027-02-22 04:04:12 +0000 UTC',
      NOT_AFTER_UNIXTIME: String(Date.parse('2027-02-22T04:04:12Z') / 1000),
      NOT_AFTER_RFC3339: '2027-02-22T04:04:12Z',
      SUBJECT_DN: 'CN=www.example.com',
      ISSUER_DN: ISSUER,
      SERIAL: '3e8',
      CERTVIGIL_EVENT_TYPE: 'issuance',
      CERTVIGIL_SEVERITY: 'critical',
      CERTVIGIL_KNOWN: 'no',
      CERTVIGIL_REASONS: 'not-in-inventory,new-key',
      CERTVIGIL_WATCH_ITEMS: '.example.com,www.example.com',
      CERTVIGIL_KEY_TYPE: 'ecdsa-p256',
      CERTVIGIL_ENTRY_TYPE: 'precert',
      CERTVIGIL_ADVICE: advice(event),
      DUMP_DIR: dump,
    };
    for (const [name, value] of Object.entries(expected))
      expect([name, env.get(name)]).toEqual([name, value]);
    for (const name of [
      'VALIDITY_PARSE_ERROR',
      'SUBJECT_PARSE_ERROR',
      'ISSUER_PARSE_ERROR',
      'SERIAL_PARSE_ERROR',
      'DNS_NAMES',
      'IP_ADDRESSES',
    ]) {
      expect([name, env.has(name)]).toEqual([name, false]);
    }
    // certspotter names the files after the certificate's SHA-256.
    expect(env.get('CERT_FILENAME')).toMatch(new RegExp(`/${CERT_SHA256}\\.pem$`));
    expect(env.get('JSON_FILENAME')).toMatch(new RegExp(`/${CERT_SHA256}\\.v1\\.json$`));
    expect(env.get('TEXT_FILENAME')).toMatch(new RegExp(`/${CERT_SHA256}\\.txt$`));
    expect(env.get('CERT_FILENAME')?.startsWith(`${hookTmp}/certvigil-hook-`)).toBe(true);
  });

  it('hands over the PEM, certspotter JSON, text and our JSON, then removes them', async () => {
    const event = issuanceEvent();
    await notifier(script).send(event);
    expect(await readFile(join(dump, 'CERT_FILENAME'), 'utf8')).toBe(CERT_PEM);
    expect(await readFile(join(dump, 'TEXT_FILENAME'), 'utf8')).toBe(formatText(event));
    const json = JSON.parse(await readFile(join(dump, 'JSON_FILENAME'), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({
      // certspotter-script(8) "JSON FILE FORMAT" (0.16)
      tbs_sha256: TBS_SHA256,
      pubkey_sha256: SPKI_SHA256,
      dns_names: ['www.example.com', 'example.com'],
      ip_addresses: [],
      not_before: '2026-11-24T04:04:12Z',
      not_after: '2027-02-22T04:04:12Z',
      // fields later certspotter releases added
      cert_sha256: CERT_SHA256,
      subject_dn: 'CN=www.example.com',
      issuer_dn: ISSUER,
      serial: '3e8',
      log_uri: 'https://ct.example/2026h2/',
      entry_index: '6464843',
      watch_item: '.example.com',
    });
    expect(json.certvigil).toEqual(eventJson(event));
    expect(JSON.parse(await readFile(join(dump, 'CERTVIGIL_EVENT_FILENAME'), 'utf8'))).toEqual(
      eventJson(event),
    );
    expect(await readdir(hookTmp)).toEqual([]);
  });

  it('does not pass stale hook variables through from its own environment', async () => {
    const event = issuanceEvent();
    delete event.issuance.subject;
    delete event.issuance.certificateDerBase64;
    await notifier(script, undefined, {
      SUBJECT_DN: 'CN=stale',
      CERT_FILENAME: '/etc/passwd',
      KEEP_ME: 'yes',
    }).send(event);
    const env = await dumpedEnv();
    expect(env.has('SUBJECT_DN')).toBe(false);
    expect(env.has('CERT_FILENAME')).toBe(false);
    expect(env.get('KEEP_ME')).toBe('yes');
    // Without the DER, CERT_SHA256 is the first hash the monitor gave.
    expect(env.get('CERT_SHA256')).toBe(CERT_SHA256);
  });

  it('never lets certificate data reach the shell command line', async () => {
    const marker = join(work, 'pwned');
    const event = issuanceEvent();
    event.issuance.dnsNames = [`$(touch ${marker})`, `\`touch ${marker}\``];
    event.watchItems = [`;touch ${marker};`];
    await notifier(`printf '%s\\n' "$SUMMARY" "$WATCH_ITEM" > "$DUMP_DIR/out"`).send(event);
    expect(existsSync(marker)).toBe(false);
    const out = await readFile(join(dump, 'out'), 'utf8');
    expect(out).toContain(`for $(touch ${marker}) (+1 more)`);
    expect(out).toContain(`;touch ${marker};`);
  });

  it('reports unparseable validity and serial the way certspotter does', () => {
    const event = issuanceEvent();
    event.issuance.notBefore = 'garbage';
    event.issuance.serial = 'not hex';
    const env = hookEnvironment(event, {});
    expect(env.VALIDITY_PARSE_ERROR).toContain('garbage');
    expect(env.NOT_BEFORE).toBeUndefined();
    expect(env.NOT_AFTER_UNIXTIME).toBeUndefined();
    expect(env.SERIAL).toBeUndefined();
    expect(env.SERIAL_PARSE_ERROR).toContain('not hex');
  });
});

describe('exec notifier: other events', () => {
  it('gives malformed_cert its variables and the RFC 6962 entry file', async () => {
    const event = malformedEvent();
    await notifier(script).send(event);
    const env = await dumpedEnv();
    expect(
      Object.fromEntries([...env].filter(([k]) => !['PATH', 'DUMP_DIR', 'PWD', 'SHLVL', '_'].includes(k))),
    ).toEqual({
      EVENT: 'malformed_cert',
      SUMMARY: summaryLine(event),
      LOG_URI: 'https://ct.example/2026h2/',
      ENTRY_INDEX: '42',
      LEAF_HASH: 'q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=',
      PARSE_ERROR: 'x509: truncated TBSCertificate',
      CERT_PARSEABLE: 'no',
      ENTRY_FILENAME: expect.stringMatching(/\/entry\.json$/),
      TEXT_FILENAME: expect.stringMatching(/\/event\.txt$/),
      CERTVIGIL_EVENT_TYPE: 'malformed',
      CERTVIGIL_SEVERITY: 'warning',
      CERTVIGIL_ADVICE: advice(event),
      CERTVIGIL_EVENT_FILENAME: expect.stringMatching(/\/event\.json$/),
    });
    expect(JSON.parse(await readFile(join(dump, 'ENTRY_FILENAME'), 'utf8'))).toEqual({
      leaf_input: 'AAAB',
      extra_data: 'AAAC',
    });
    expect(await readFile(join(dump, 'TEXT_FILENAME'), 'utf8')).toBe(formatText(event));
  });

  it.each([
    [otherEvents[0] as MonitorEvent, 'error'],
    [otherEvents[1] as MonitorEvent, 'error'],
    [otherEvents[2] as MonitorEvent, 'test'],
  ])('maps %s to EVENT=%s with SUMMARY and TEXT_FILENAME', async (event, expected) => {
    await notifier(script).send(event);
    const env = await dumpedEnv();
    expect(env.get('EVENT')).toBe(expected);
    expect(env.get('SUMMARY')).toBe(summaryLine(event));
    expect(env.get('CERTVIGIL_MESSAGE')).toBe('message' in event ? event.message : undefined);
    expect(env.has('LOG_URI')).toBe(false);
    expect(await readFile(join(dump, 'TEXT_FILENAME'), 'utf8')).toBe(formatText(event));
  });
});

describe('exec notifier: failures', () => {
  it('fails on a non-zero exit, with the end of stderr, and removes the files', async () => {
    const err = await notifier(
      `echo "cannot reach pager" >&2; ls "$CERT_FILENAME" > "$DUMP_DIR/seen"; exit 3`,
    )
      .send(issuanceEvent())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOTIFY_FAILED', sink: 'exec', exitCode: 3 });
    expect((err as Error).message).toContain('exited with status 3: cannot reach pager');
    const seen = (await readFile(join(dump, 'seen'), 'utf8')).trim();
    expect(existsSync(seen)).toBe(false);
    expect(await readdir(hookTmp)).toEqual([]);
  });

  it('kills a hanging hook and its children at the timeout, and removes the files', async () => {
    const started = Date.now();
    const err = await notifier(`sleep 30 & echo $! > "$DUMP_DIR/child"; wait`, 300)
      .send(issuanceEvent())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOTIFY_TIMEOUT', sink: 'exec' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await readdir(hookTmp)).toEqual([]);
    const child = Number((await readFile(join(dump, 'child'), 'utf8')).trim());
    expect(isAlive(child)).toBe(false);
  });

  it('SIGKILLs a hook that ignores SIGTERM', async () => {
    const started = Date.now();
    const err = await notifier(`trap '' TERM; echo $$ > "$DUMP_DIR/pid"; while :; do sleep 0.05; done`, 300)
      .send(issuanceEvent())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOTIFY_TIMEOUT', signal: 'SIGKILL' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(isAlive(Number((await readFile(join(dump, 'pid'), 'utf8')).trim()))).toBe(false);
    expect(await readdir(hookTmp)).toEqual([]);
  });
});

/** Running, as opposed to gone or a zombie (an orphan waits to be reaped by PID 1, which may be slow). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('certspotter value formats', () => {
  it.each([
    ['03e8', '3e8'],
    ['ff', 'ff'],
    ['0', '0'],
    ['00', '0'],
    ['-01', '-1'],
    ['00C170FBF3', 'c170fbf3'],
    ['xyz', undefined],
    ['', undefined],
  ])('serial %j → %j, as Go formats a big.Int in hex', (input, expected) => {
    expect(goSerial(input)).toBe(expected);
  });

  it('prints times like Go', () => {
    // certspotter-script(8) example: NOT_AFTER='2024-01-26 03:47:26 +0000 UTC', NOT_AFTER_RFC3339=2024-01-26T03:47:26Z
    const d = new Date('2024-01-26T03:47:26Z');
    expect(goTimeString(d)).toBe('2024-01-26 03:47:26 +0000 UTC');
    expect(goRfc3339(d)).toBe('2024-01-26T03:47:26Z');
    expect(goTimeString(new Date('2024-01-26T03:47:26.5Z'))).toBe('2024-01-26 03:47:26.5 +0000 UTC');
  });

  it('hashes the DER it writes for CERT_SHA256', () => {
    const der = Buffer.from(CERT_DER_BASE64, 'base64');
    expect(createHash('sha256').update(der).digest('hex')).toBe(CERT_SHA256);
  });
});
