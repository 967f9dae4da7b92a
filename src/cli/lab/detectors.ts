/**
 * @module cli/lab/detectors
 * The lab's verdicts: for each detector, whether it fired on the replayed attack, decided from what
 * the real certvigil commands printed (their exit status and `--json` output). Pure: no I/O, so
 * each rule is tested on its own with recorded outputs.
 */
import { sanitizeText } from '../../sanitize.js';
import { jsonLinesOf } from './run-certvigil.js';
import type { CommandRun } from './run-certvigil.js';

/** The detectors of issue 17's CONTRACT, in the order the lab reports them. */
export const DETECTORS = [
  'caa-accounturi-refusal',
  'iodef-report-received',
  'ct-internal-check',
  'external-check-pin',
  'external-check-other-ports-ok',
  'jarm-change',
  'last-hop-change',
] as const;
export type DetectorId = (typeof DETECTORS)[number];

/** One line of `certvigil lab --json`: exactly these four keys (the CONTRACT's shape). */
export interface DetectorLine {
  detector: DetectorId;
  fired: boolean;
  expected: boolean;
  detail: string;
}

/** A verdict plus the commands that reproduce it (for the summary table, not the JSON line). */
export interface DetectorResult extends DetectorLine {
  commands: string[];
}

const text = (s: string): string => sanitizeText(s.replace(/\s+/g, ' ').trim(), { maxLength: 600 });

export function result(
  detector: DetectorId,
  fired: boolean,
  expected: boolean,
  detail: string,
  commands: readonly CommandRun[] = [],
): DetectorResult {
  return { detector, fired, expected, detail: text(detail), commands: commands.map((c) => c.display) };
}

/** The JSON line of a result: the four CONTRACT keys only. */
export function lineOf(r: DetectorResult): DetectorLine {
  return { detector: r.detector, fired: r.fired, expected: r.expected, detail: r.detail };
}

/** Whether the whole lab passed: every detector did what it was expected to do. */
export function allAsExpected(results: readonly DetectorResult[]): boolean {
  return results.every((r) => r.fired === r.expected);
}

function exitText(run: CommandRun): string {
  return run.code === null ? 'was killed (time-out)' : `exited ${run.code}`;
}

/** The first line a command printed on stderr (its one-line error), for details. */
function firstError(run: CommandRun): string {
  const line = run.stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  return line === '' ? '' : `: ${line}`;
}

// ---------------------------------------------------------------------------------------------
// caa-accounturi-refusal

/** What the lab CA decided about the attacker's order while the RFC 8657 records were published. */
export interface RefusalFacts {
  refused: boolean;
  stage: 'validation' | 'caa' | null;
  reason: string;
  validationSucceeded: boolean;
  accountUri: string;
}

/**
 * Fired when the CA refused the attacker's order at the CAA stage although domain validation had
 * succeeded (the jabber.ru situation: validation alone passes from the interception point), and
 * `certvigil caa check` with the attacker's account agrees (exit 1: denied).
 */
export function decideCaaRefusal(ca: RefusalFacts, caaCheck: CommandRun): DetectorResult {
  const denied = caaCheck.code === 1;
  const fired = ca.refused && ca.stage === 'caa' && ca.validationSucceeded && denied;
  const caPart = ca.refused
    ? `the lab CA refused the attacker's account ${ca.accountUri} at the ${ca.stage ?? '?'} stage` +
      `${ca.validationSucceeded ? ' after http-01 validation had succeeded' : ''}: ${ca.reason.replace(/\.\s*$/, '')}`
    : `the lab CA did NOT refuse the attacker's account ${ca.accountUri}`;
  const checkPart = denied
    ? 'caa check with that account: denied'
    : `caa check with that account ${exitText(caaCheck)}${firstError(caaCheck)}`;
  return result('caa-accounturi-refusal', fired, true, `${caPart}; ${checkPart}`, [caaCheck]);
}

// ---------------------------------------------------------------------------------------------
// iodef-report-received

interface ReceivedReport {
  line?: string;
  channel?: string;
  summary?: { names?: unknown[] };
}

/** DNS names compare without case and without the root's trailing dot (RFC 4343 §3). */
const sameName = (a: string, b: string): boolean =>
  a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

/**
 * Fired when the owner's receiver (`certvigil iodef serve`) stored a report about NAME, read back
 * with `certvigil iodef list --json`; `send` is the CA-side reporter's run (`iodef send`). The
 * report's parsed names must hold NAME itself: a substring of the human line would also match a
 * report about `xjabber.lab` or `jabber.lab.evil`.
 */
export function decideIodef(name: string, send: CommandRun, list: CommandRun): DetectorResult {
  const reports = jsonLinesOf(list.stdout) as ReceivedReport[];
  const about = reports.filter((r) =>
    (Array.isArray(r.summary?.names) ? r.summary.names : []).some(
      (n) => typeof n === 'string' && sameName(n, name),
    ),
  );
  const fired = list.code === 0 && about.length > 0;
  const detail = fired
    ? `the receiver stored ${about.length} report(s) about ${name}: ${about[0]?.line ?? ''}`
    : `no report about ${name} reached the receiver (iodef send ${exitText(send)}${firstError(send)}; iodef list ${exitText(list)}${firstError(list)})`;
  return result('iodef-report-received', fired, true, detail, [send, list]);
}

// ---------------------------------------------------------------------------------------------
// ct-internal-check

/** One event of the monitor's stdout sink (`eventJson`, src/notify/format.ts). */
interface AlertLine {
  type?: string;
  summary?: string;
  issuance?: { spkiSha256?: string };
}

interface IssuanceLine {
  spkiSha256?: string;
  serial?: string;
  known?: boolean;
  reasons?: { code?: string; message?: string }[];
}

/**
 * Fired when the monitor, catching up on the lab's CT log, recorded the attacker's certificate as
 * not ours with reasons (`certs list --unknown --json`), and none of the victim's own certificates.
 */
export function decideInternalCheck(
  attackerSpkiSha256: string,
  monitor: CommandRun,
  unknown: CommandRun,
): DetectorResult {
  const issuances = jsonLinesOf(unknown.stdout) as IssuanceLine[];
  const attacker = issuances.filter((i) => i.spkiSha256 === attackerSpkiSha256 && i.known === false);
  const others = issuances.filter((i) => i.spkiSha256 !== attackerSpkiSha256);
  const codes = [...new Set(attacker.flatMap((i) => (i.reasons ?? []).map((r) => r.code ?? '?')))];
  // The alert is the detection: the monitor's stdout sink printed one event per alert it sent.
  const alerts = (jsonLinesOf(monitor.stdout) as AlertLine[]).filter(
    (e) => e.type === 'issuance' && e.issuance?.spkiSha256 === attackerSpkiSha256,
  );
  // A monitor that also flags the victim's own certificates raises false alarms: that is no detection.
  const fired =
    monitor.code === 0 &&
    unknown.code === 0 &&
    alerts.length > 0 &&
    attacker.length > 0 &&
    codes.length > 0 &&
    others.length === 0;
  let detail: string;
  if (fired)
    detail =
      `the monitor alerted on the attacker's certificate (serial ${attacker[0]?.serial ?? '?'}) as not ours: ${codes.join(', ')}` +
      (alerts[0]?.summary ? ` — "${alerts[0].summary}"` : '');
  else if (attacker.length > 0 && codes.length > 0 && others.length > 0)
    detail =
      `the monitor flagged the attacker's certificate (${codes.join(', ')}) but also ${others.length} other ` +
      `issuance(s) that are not the attacker's (false alarms; monitor ${exitText(monitor)}, certs list ${exitText(unknown)})`;
  else if (attacker.length > 0 && alerts.length === 0)
    detail = `the attacker's certificate is recorded as not ours (${codes.join(', ')}), but the monitor sent no alert for it (monitor ${exitText(monitor)}${firstError(monitor)})`;
  else
    detail =
      `the attacker's certificate was not flagged (monitor ${exitText(monitor)}${firstError(monitor)}; ` +
      `certs list ${exitText(unknown)}: ${issuances.length} unknown issuance(s))`;
  return result('ct-internal-check', fired, true, detail, [monitor, unknown]);
}

// ---------------------------------------------------------------------------------------------
// external-check-pin, external-check-other-ports-ok

interface EndpointJson {
  status?: string;
  summary?: string;
  findings?: { id?: string; severity?: string; message?: string }[];
  addresses?: { findings?: { id?: string; severity?: string; message?: string }[] }[];
}

function endpointOf(run: CommandRun): EndpointJson {
  return (jsonLinesOf(run.stdout)[0] ?? {}) as EndpointJson;
}

function allFindings(e: EndpointJson): { id?: string; severity?: string; message?: string }[] {
  return [...(e.findings ?? []), ...(e.addresses ?? []).flatMap((a) => a.findings ?? [])];
}

/**
 * One verdict over `check endpoint` runs on several ports: fired when every port meets `expect`
 * (which also names what it saw there), with one detail part per port.
 */
function perPortEndpointVerdict(
  detector: 'external-check-pin' | 'external-check-other-ports-ok',
  ports: readonly { label: string; run: CommandRun }[],
  expect: (run: CommandRun, e: EndpointJson) => string | null,
): DetectorResult {
  const parts: string[] = [];
  let fired = ports.length > 0;
  for (const { label, run } of ports) {
    const e = endpointOf(run);
    const seen = expect(run, e);
    fired &&= seen !== null;
    const what = seen ?? `${exitText(run)} (${e.status ?? 'no result'})`;
    parts.push(`${label}: ${what}${e.summary ? ` — ${e.summary}` : firstError(run)}`);
  }
  return result(
    detector,
    fired,
    true,
    parts.join('; '),
    ports.map((p) => p.run),
  );
}

/** Fired when `check endpoint --pin` is CRITICAL with a pin mismatch on every intercepted port. */
export function decidePin(intercepted: readonly { label: string; run: CommandRun }[]): DetectorResult {
  return perPortEndpointVerdict('external-check-pin', intercepted, (run, e) =>
    run.code === 2 && allFindings(e).some((f) => f.id === 'pin-mismatch') ? 'CRITICAL, pin mismatch' : null,
  );
}

/** Fired (as it should be) when `check endpoint --pin` stays OK on the port nobody intercepted. */
export function decideOtherPortsOk(untouched: readonly { label: string; run: CommandRun }[]): DetectorResult {
  return perPortEndpointVerdict('external-check-other-ports-ok', untouched, (run, e) =>
    run.code === 0 && e.status === 'OK' ? 'OK' : null,
  );
}

// ---------------------------------------------------------------------------------------------
// jarm-change, last-hop-change

interface MitmJson {
  findings?: { id?: string; severity?: string; address?: string; message?: string }[];
}

/**
 * Fired when `check mitm` is CRITICAL with finding `findingId` on exactly the intercepted ports:
 * a change on some ports only is the signature of an interception in front of those ports.
 */
export function decidePerPortChange(
  detector: 'jarm-change' | 'last-hop-change',
  findingId: 'jarm-changed' | 'path-changed',
  intercepted: readonly number[],
  check: CommandRun,
  learn: CommandRun,
): DetectorResult {
  const out = (jsonLinesOf(check.stdout)[0] ?? {}) as MitmJson;
  const changed = (out.findings ?? [])
    .filter((f) => f.id === findingId && f.severity === 'critical')
    .map((f) => Number((f.address ?? '').split(':').pop()));
  const ports = [...new Set(changed)].sort((a, b) => a - b);
  const want = [...intercepted].sort((a, b) => a - b);
  const fired = learn.code === 0 && check.code === 2 && ports.join(',') === want.join(',');
  const first = (out.findings ?? []).find((f) => f.id === findingId)?.message ?? '';
  const detail =
    learn.code !== 0
      ? `mitm learn ${exitText(learn)}${firstError(learn)}`
      : fired
        ? `CRITICAL on port(s) ${ports.join(', ')} only: ${first}`
        : `check mitm ${exitText(check)}; ${findingId} on port(s) [${ports.join(', ')}], expected [${want.join(', ')}]${firstError(check)}`;
  return result(detector, fired, true, detail, [learn, check]);
}

/** The last-hop detector where it cannot run (not root, no `ip`, no `traceroute`): not expected. */
export function lastHopNotRun(reason: string): DetectorResult {
  return result('last-hop-change', false, false, `not run: ${reason}`);
}

/** A detector whose step did not run or broke before it could decide. */
export function notRun(detector: DetectorId, reason: string, expected = true): DetectorResult {
  return result(detector, false, expected, `not run: ${reason}`);
}
