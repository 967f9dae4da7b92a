/**
 * @module probe/tls-policy
 * TLS protocol policy of `check endpoint`: which protocol versions the server still accepts
 * (`--require-no-tls1`, `--require-no-tls1_1`, `--min-tls`) and whether it agrees to a weak cipher
 * suite (`--weak-ciphers`). Pure: {@link planTlsProbes} says which raw hellos to send (one
 * connection each), {@link decideTlsPolicy} turns their answers into findings. The sockets are in
 * `tls-policy-probe.ts`.
 *
 * A version V is "accepted" when a ClientHello whose highest version is V gets a ServerHello for
 * V. A ServerHello for a lower version W means the server does not speak V but speaks W (RFC 5246
 * Appendix E.1: the server answers with the highest version both support). A ServerHello for a
 * version or a cipher suite we did not offer breaks RFC 5246 §7.4.1.3; it is a finding
 * (`tls-probe-anomaly`), never a crash, and proves nothing about what the server accepts.
 */
import { TLS_1_2, TLS_1_3 } from './tls-hello.js';
import { BROKEN_CLASSES, VERSION_PROBE_SUITES, WEAK_SUITES, WEAKNESS_TEXT, suiteName } from './tls-suites.js';
import type { Finding, FindingSeverity } from './types.js';
import { sanitizeText } from '../sanitize.js';

export const SSL_3_0 = 0x0300;
export const TLS_1_0 = 0x0301;
export const TLS_1_1 = 0x0302;

export const MIN_TLS_VALUES = ['1.0', '1.1', '1.2', '1.3'] as const;
export type MinTls = (typeof MIN_TLS_VALUES)[number];
export const WEAK_CIPHER_MODES = ['warning', 'critical', 'off'] as const;
export type WeakCipherMode = (typeof WEAK_CIPHER_MODES)[number];

export interface TlsPolicySettings {
  /** `--require-no-tls1`: TLS 1.0 accepted → CRITICAL. */
  requireNoTls1?: boolean;
  /** `--require-no-tls1_1`: TLS 1.1 accepted → CRITICAL. */
  requireNoTls1_1?: boolean;
  /** `--min-tls`: every version below is refused, else CRITICAL. */
  minTls?: MinTls;
  /**
   * `--weak-ciphers`: severity of the RC4/DES/3DES class (NULL, anonymous and EXPORT suites are
   * always CRITICAL). Default `off`: no weak-cipher probe, so no extra connection.
   */
  weakCiphers?: WeakCipherMode;
}

const MIN_TLS_WIRE: Record<MinTls, number> = {
  '1.0': TLS_1_0,
  '1.1': TLS_1_1,
  '1.2': TLS_1_2,
  '1.3': TLS_1_3,
};

/** "TLS 1.2" for 0x0303. */
export function versionName(v: number): string {
  if (v === SSL_3_0) return 'SSL 3.0';
  if (v >= TLS_1_0 && v <= TLS_1_3) return `TLS 1.${v - TLS_1_0}`;
  return `version 0x${v.toString(16).padStart(4, '0')}`;
}

/** One raw hello = one connection. */
export type TlsProbe =
  | { kind: 'version'; version: number; suites: readonly number[] }
  | { kind: 'weak-ciphers'; version: number; suites: readonly number[] };

/** What the server answered to one probe. */
export type TlsProbeAnswer =
  /** A ServerHello (the version is the negotiated one, RFC 8446 §4.2.1 supported_versions included). */
  | {
      kind: 'hello';
      version: number;
      cipherSuite: number;
      /** The ServerHello broke the protocol in a way that makes its version untrustworthy. */
      anomaly?: string;
    }
  /** An alert, or the connection closed or reset before any ServerHello: the hello was refused. */
  | { kind: 'refused'; detail: string }
  /** No answer we can read (timeout, garbage, malformed ServerHello): the question stays open. */
  | { kind: 'failed'; detail: string };

export interface TlsProbeOutcome {
  probe: TlsProbe;
  answer: TlsProbeAnswer;
}

/** Versions whose acceptance is CRITICAL under these settings. */
export function forbiddenVersions(settings: TlsPolicySettings): number[] {
  const out = new Set<number>();
  if (settings.requireNoTls1) out.add(TLS_1_0);
  if (settings.requireNoTls1_1) out.add(TLS_1_1);
  if (settings.minTls !== undefined)
    for (const v of [TLS_1_0, TLS_1_1, TLS_1_2]) if (v < MIN_TLS_WIRE[settings.minTls]) out.add(v);
  return [...out].sort((a, b) => a - b);
}

/**
 * The hellos to send: one per forbidden version, plus one offering only weak suites with
 * `--weak-ciphers` (a check without these flags sends none). SSL 3.0 is
 * not probed on its own (RFC 7568; no maintained server still speaks it), but a server that answers
 * the TLS 1.0 hello with SSL 3.0 is caught.
 */
export function planTlsProbes(settings: TlsPolicySettings): TlsProbe[] {
  const probes: TlsProbe[] = forbiddenVersions(settings).map((version) => ({
    kind: 'version',
    version,
    suites: VERSION_PROBE_SUITES,
  }));
  if ((settings.weakCiphers ?? 'off') !== 'off')
    probes.push({ kind: 'weak-ciphers', version: TLS_1_2, suites: [...WEAK_SUITES.keys()] });
  return probes;
}

/**
 * Findings from the probes' answers. `negotiated` is the protocol the main handshake agreed on
 * (Node's name, e.g. "TLSv1.3"), shown in the `tls-versions` line.
 */
export function decideTlsPolicy(
  outcomes: readonly TlsProbeOutcome[],
  settings: TlsPolicySettings,
  address: string,
  negotiated: string | null,
): Finding[] {
  const findings: Finding[] = [];
  const add = (id: string, severity: FindingSeverity, message: string): void => {
    findings.push({ id, severity, message, address });
  };
  const accepted = new Set<number>();
  const refused = new Set<number>();
  const undetermined = new Map<number, string>();
  const weak = new Map<number, number>(); // suite → version it was chosen with
  const forbidden = forbiddenVersions(settings);

  for (const { probe, answer } of outcomes) {
    const what = probe.kind === 'version' ? `${versionName(probe.version)} hello` : 'weak-cipher hello';
    if (answer.kind === 'failed') {
      // The detail may quote what the server sent (tls-hello.ts describeStart): outside text.
      const detail = sanitizeText(answer.detail, { maxLength: 200 });
      if (probe.kind === 'version') undetermined.set(probe.version, detail);
      else add('tls-probe-failed', 'info', `weak ciphers not checked: ${detail}`);
      continue;
    }
    if (answer.kind === 'refused') {
      if (probe.kind === 'version') refused.add(probe.version);
      continue;
    }
    if (answer.anomaly !== undefined) {
      add('tls-probe-anomaly', 'warning', `the server answered a ${what} with ${answer.anomaly}`);
      if (probe.kind === 'version') undetermined.set(probe.version, 'the answer broke the protocol');
      continue;
    }
    // RFC 5246 §7.4.1.3: server_version is at most the client's, and cipher_suite is "selected
    // by the server from the list in ClientHello.cipher_suites".
    if (answer.version > probe.version || answer.version < SSL_3_0) {
      add(
        'tls-probe-anomaly',
        'warning',
        `the server answered a ${what} with ${versionName(answer.version)}, which was not offered`,
      );
      if (probe.kind === 'version') undetermined.set(probe.version, 'the answer broke the protocol');
      continue;
    }
    if (!probe.suites.includes(answer.cipherSuite)) {
      add(
        'tls-probe-anomaly',
        'warning',
        `the server answered a ${what} with cipher suite ${suiteName(answer.cipherSuite)}, which was not offered`,
      );
      if (probe.kind === 'version') undetermined.set(probe.version, 'the answer broke the protocol');
      continue;
    }
    accepted.add(answer.version);
    if (probe.kind === 'version' && answer.version < probe.version) refused.add(probe.version);
    if (WEAK_SUITES.has(answer.cipherSuite) && !weak.has(answer.cipherSuite))
      weak.set(answer.cipherSuite, answer.version);
  }

  for (const v of [...accepted].sort((a, b) => a - b)) {
    // RFC 7568 §2: SSL 3.0 MUST NOT be used; RFC 8996 §2-§3: TLS 1.0 and 1.1 MUST NOT be used.
    if (v === SSL_3_0)
      add('tls-version-accepted', 'critical', 'the server accepts SSL 3.0 (prohibited by RFC 7568)');
    else if (forbidden.includes(v))
      add(
        'tls-version-accepted',
        'critical',
        `the server accepts ${versionName(v)} (${why(v, settings)}${v <= TLS_1_1 ? '; RFC 8996 deprecates TLS 1.0 and 1.1' : ''})`,
      );
  }
  for (const [v, detail] of undetermined)
    if (forbidden.includes(v) && !accepted.has(v))
      add(
        'tls-probe-failed',
        'unknown',
        `cannot tell whether the server accepts ${versionName(v)}: ${detail}`,
      );

  const mode = settings.weakCiphers ?? 'off';
  if (mode !== 'off')
    for (const [suite, version] of weak) {
      const info = WEAK_SUITES.get(suite);
      if (!info) continue;
      const broken = BROKEN_CLASSES.has(info.weakness);
      add(
        'weak-cipher',
        broken || mode === 'critical' ? 'critical' : 'warning',
        `the server agreed to ${info.name} with ${versionName(version)} (${WEAKNESS_TEXT[info.weakness]})`,
      );
    }

  const probedVersions = outcomes.some((o) => o.probe.kind === 'version');
  if (probedVersions) {
    const state = new Map<number, string>();
    for (const v of refused) state.set(v, 'refused');
    for (const v of undetermined.keys()) if (!accepted.has(v)) state.set(v, 'not determined');
    for (const v of accepted) state.set(v, 'accepted');
    const list = [...state]
      .sort(([a], [b]) => a - b)
      .map(([v, s]) => `${versionName(v)} ${s}`)
      .join(', ');
    const tail = negotiated ? `; the main handshake negotiated ${negotiated.replace(/^TLSv/, 'TLS ')}` : '';
    add('tls-versions', 'info', `protocol versions: ${list}${tail}`);
  }
  return findings;
}

function why(v: number, settings: TlsPolicySettings): string {
  if (v === TLS_1_0 && settings.requireNoTls1) return '--require-no-tls1';
  if (v === TLS_1_1 && settings.requireNoTls1_1) return '--require-no-tls1_1';
  return `--min-tls ${settings.minTls ?? ''}`;
}
