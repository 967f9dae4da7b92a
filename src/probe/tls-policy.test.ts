import { describe, expect, it } from 'vitest';
import { decideTlsPolicy, forbiddenVersions, planTlsProbes, versionName } from './tls-policy.js';
import type { TlsPolicySettings, TlsProbe, TlsProbeAnswer, TlsProbeOutcome } from './tls-policy.js';
import { VERSION_PROBE_SUITES, WEAK_SUITES, suiteName } from './tls-suites.js';

const WEAK = [...WEAK_SUITES.keys()];
const versionProbe = (version: number): TlsProbe => ({
  kind: 'version',
  version,
  suites: VERSION_PROBE_SUITES,
});
const weakProbe: TlsProbe = { kind: 'weak-ciphers', version: 0x0303, suites: WEAK };
const hello = (version: number, cipherSuite = 0xc013): TlsProbeAnswer => ({
  kind: 'hello',
  version,
  cipherSuite,
});
const refused: TlsProbeAnswer = { kind: 'refused', detail: 'alert protocol_version' };
const failed: TlsProbeAnswer = { kind: 'failed', detail: 'no complete server flight within 100 ms' };
const out = (probe: TlsProbe, answer: TlsProbeAnswer): TlsProbeOutcome => ({ probe, answer });

/** "severity id" of every finding, and the messages, for compact tables. */
function decide(
  outcomes: TlsProbeOutcome[],
  settings: TlsPolicySettings,
  negotiated: string | null = 'TLSv1.3',
) {
  const findings = decideTlsPolicy(outcomes, settings, '192.0.2.1', negotiated);
  for (const f of findings) expect(f.address).toBe('192.0.2.1');
  return {
    ids: findings.map((f) => `${f.severity} ${f.id}`),
    text: findings.map((f) => f.message).join('\n'),
  };
}

describe('planTlsProbes: one connection per question, none unless asked', () => {
  it.each<[string, TlsPolicySettings, string[]]>([
    ['nothing asked', {}, []],
    ['weak ciphers off', { weakCiphers: 'off' }, []],
    ['--require-no-tls1', { requireNoTls1: true }, ['version 0x0301']],
    ['--require-no-tls1_1', { requireNoTls1_1: true }, ['version 0x0302']],
    ['--min-tls 1.0', { minTls: '1.0' }, []],
    ['--min-tls 1.1', { minTls: '1.1' }, ['version 0x0301']],
    ['--min-tls 1.2', { minTls: '1.2' }, ['version 0x0301', 'version 0x0302']],
    ['--min-tls 1.3', { minTls: '1.3' }, ['version 0x0301', 'version 0x0302', 'version 0x0303']],
    [
      '--min-tls 1.2 and both require flags: no duplicate',
      { minTls: '1.2', requireNoTls1: true, requireNoTls1_1: true },
      ['version 0x0301', 'version 0x0302'],
    ],
    ['--weak-ciphers warning', { weakCiphers: 'warning' }, ['weak-ciphers 0x0303']],
    [
      '--weak-ciphers critical with --require-no-tls1',
      { weakCiphers: 'critical', requireNoTls1: true },
      ['version 0x0301', 'weak-ciphers 0x0303'],
    ],
  ])('%s', (_name, settings, expected) => {
    const plan = planTlsProbes(settings);
    expect(plan.map((p) => `${p.kind} 0x${p.version.toString(16).padStart(4, '0')}`)).toEqual(expected);
    for (const p of plan) expect(p.suites.length).toBeGreaterThan(0);
  });

  it('the weak probe offers only weak suites; the version probes offer no NULL, anonymous or EXPORT suite', () => {
    const weak = planTlsProbes({ weakCiphers: 'warning' })[0];
    expect(weak?.suites.every((s) => WEAK_SUITES.has(s))).toBe(true);
    for (const s of VERSION_PROBE_SUITES)
      expect(['null', 'anonymous', 'export']).not.toContain(WEAK_SUITES.get(s)?.weakness);
  });

  it('forbiddenVersions', () => {
    expect(forbiddenVersions({ minTls: '1.3', requireNoTls1: true })).toEqual([0x0301, 0x0302, 0x0303]);
  });
});

describe('decideTlsPolicy', () => {
  it.each<[string, TlsProbeOutcome[], TlsPolicySettings, string[], RegExp[]]>([
    [
      'TLS 1.0 and 1.1 refused under --min-tls 1.2: only the INFO',
      [out(versionProbe(0x0301), refused), out(versionProbe(0x0302), refused)],
      { minTls: '1.2' },
      ['info tls-versions'],
      [/TLS 1\.0 refused, TLS 1\.1 refused; the main handshake negotiated TLS 1\.3/],
    ],
    [
      'TLS 1.0 accepted under --require-no-tls1: CRITICAL naming the version and RFC 8996',
      [out(versionProbe(0x0301), hello(0x0301))],
      { requireNoTls1: true },
      ['critical tls-version-accepted', 'info tls-versions'],
      [/accepts TLS 1\.0 \(--require-no-tls1; RFC 8996/, /TLS 1\.0 accepted/],
    ],
    [
      'TLS 1.1 hello answered with TLS 1.0 (RFC 5246 E.1): 1.1 refused, 1.0 accepted, CRITICAL only if 1.0 is forbidden',
      [out(versionProbe(0x0302), hello(0x0301))],
      { requireNoTls1_1: true },
      ['info tls-versions'],
      [/TLS 1\.0 accepted, TLS 1\.1 refused/],
    ],
    [
      'same under --min-tls 1.2: TLS 1.0 accepted is CRITICAL',
      [out(versionProbe(0x0301), hello(0x0301)), out(versionProbe(0x0302), hello(0x0301))],
      { minTls: '1.2' },
      ['critical tls-version-accepted', 'info tls-versions'],
      [/accepts TLS 1\.0 \(--min-tls 1\.2/],
    ],
    [
      'TLS 1.2 accepted under --min-tls 1.3: CRITICAL without the RFC 8996 note',
      [
        out(versionProbe(0x0301), refused),
        out(versionProbe(0x0302), refused),
        out(versionProbe(0x0303), hello(0x0303, 0xc02f)),
      ],
      { minTls: '1.3' },
      ['critical tls-version-accepted', 'info tls-versions'],
      [/accepts TLS 1\.2 \(--min-tls 1\.3\)\n/],
    ],
    [
      'SSL 3.0 answer to a TLS 1.0 hello: CRITICAL (RFC 7568)',
      [out(versionProbe(0x0301), hello(0x0300, 0x002f))],
      { requireNoTls1: true },
      ['critical tls-version-accepted', 'info tls-versions'],
      [/SSL 3\.0 \(prohibited by RFC 7568\)/, /SSL 3\.0 accepted, TLS 1\.0 refused/],
    ],
    [
      'hostile: a version we did not offer (TLS 1.2 to a TLS 1.0 hello) is an anomaly, not acceptance',
      [out(versionProbe(0x0301), hello(0x0303))],
      { requireNoTls1: true },
      ['warning tls-probe-anomaly', 'unknown tls-probe-failed', 'info tls-versions'],
      [/answered a TLS 1\.0 hello with TLS 1\.2, which was not offered/, /TLS 1\.0 not determined/],
    ],
    [
      'hostile: a nonsense version (0x0200)',
      [out(versionProbe(0x0301), hello(0x0200))],
      { requireNoTls1: true },
      ['warning tls-probe-anomaly', 'unknown tls-probe-failed', 'info tls-versions'],
      [/version 0x0200, which was not offered/],
    ],
    [
      'hostile: a suite we did not offer is an anomaly, not acceptance',
      [out(versionProbe(0x0301), hello(0x0301, 0x1301))],
      { requireNoTls1: true },
      ['warning tls-probe-anomaly', 'unknown tls-probe-failed', 'info tls-versions'],
      [/cipher suite TLS_AES_128_GCM_SHA256, which was not offered/],
    ],
    [
      'hostile: an unknown suite code point is named in hex',
      [out(weakProbe, hello(0x0303, 0xfafa))],
      { weakCiphers: 'warning' },
      ['warning tls-probe-anomaly'],
      [/cipher suite 0xfafa, which was not offered/],
    ],
    [
      'a forbidden version probe that failed: UNKNOWN (cannot tell), never OK',
      [out(versionProbe(0x0301), failed)],
      { requireNoTls1: true },
      ['unknown tls-probe-failed', 'info tls-versions'],
      [/cannot tell whether the server accepts TLS 1\.0: no complete server flight/],
    ],
    ['weak probe refused: nothing at all', [out(weakProbe, refused)], { weakCiphers: 'warning' }, [], []],
    [
      'weak probe failed: INFO only',
      [out(weakProbe, failed)],
      { weakCiphers: 'critical' },
      ['info tls-probe-failed'],
      [/weak ciphers not checked/],
    ],
    [
      '3DES (SWEET32) under warning: WARNING with the IANA name',
      [out(weakProbe, hello(0x0303, 0x000a))],
      { weakCiphers: 'warning' },
      ['warning weak-cipher'],
      [/agreed to TLS_RSA_WITH_3DES_EDE_CBC_SHA with TLS 1\.2 \(64-bit block cipher, SWEET32\)/],
    ],
    [
      'RC4 under critical: CRITICAL citing RFC 7465',
      [out(weakProbe, hello(0x0301, 0xc011))],
      { weakCiphers: 'critical' },
      ['critical weak-cipher'],
      [/TLS_ECDHE_RSA_WITH_RC4_128_SHA with TLS 1\.0 \(RC4, prohibited by RFC 7465\)/],
    ],
    [
      'NULL encryption is CRITICAL even under warning',
      [out(weakProbe, hello(0x0303, 0x003b))],
      { weakCiphers: 'warning' },
      ['critical weak-cipher'],
      [/TLS_RSA_WITH_NULL_SHA256 .*no encryption/],
    ],
    [
      'anonymous is CRITICAL even under warning',
      [out(weakProbe, hello(0x0303, 0xc018))],
      { weakCiphers: 'warning' },
      ['critical weak-cipher'],
      [/TLS_ECDH_anon_WITH_AES_128_CBC_SHA .*no server authentication/],
    ],
    [
      'a version probe that picked 3DES is judged too (weak check on), and reported once',
      [out(versionProbe(0x0301), hello(0x0301, 0x000a)), out(weakProbe, hello(0x0303, 0x000a))],
      { requireNoTls1: true, weakCiphers: 'warning' },
      ['critical tls-version-accepted', 'warning weak-cipher', 'info tls-versions'],
      [/TLS_RSA_WITH_3DES_EDE_CBC_SHA with TLS 1\.0/],
    ],
    [
      'weak check off: a version probe that picked RC4 is not a finding',
      [out(versionProbe(0x0301), refused), out(versionProbe(0x0302), hello(0x0302, 0x0005))],
      { minTls: '1.1' },
      ['info tls-versions'],
      [/TLS 1\.0 refused, TLS 1\.1 accepted/],
    ],
  ])('%s', (_name, outcomes, settings, ids, patterns) => {
    const got = decide(outcomes, settings);
    expect(got.ids).toEqual(ids);
    for (const p of patterns) expect(got.text).toMatch(p);
  });

  it('a failure detail quoting the server is sanitised and bounded', () => {
    const got = decide(
      [
        out(versionProbe(0x0301), {
          kind: 'failed',
          detail: `not a TLS server: \u001b[2J\u202e${'x'.repeat(400)}`,
        }),
      ],
      { requireNoTls1: true },
    );
    expect(got.text).toMatch(/\\x1B\[2J\\u202E/);
    expect(got.text.includes('\u001b') || got.text.includes('\u202e')).toBe(false);
    expect(got.text.length).toBeLessThan(400);
  });

  it('without a main handshake (TLS 1.0-only server) the INFO leaves the negotiated version out', () => {
    const got = decide([out(versionProbe(0x0301), hello(0x0301))], { requireNoTls1: true }, null);
    expect(got.text).not.toMatch(/negotiated/);
  });

  it.each([
    [0x0300, 'SSL 3.0'],
    [0x0301, 'TLS 1.0'],
    [0x0304, 'TLS 1.3'],
    [0x7f1c, 'version 0x7f1c'],
  ])('versionName(0x%s) = %s', (v, name) => {
    expect(versionName(v)).toBe(name);
  });

  it('suiteName', () => {
    expect(suiteName(0x000a)).toBe('TLS_RSA_WITH_3DES_EDE_CBC_SHA');
    expect(suiteName(0xc02f)).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(suiteName(0x00ff)).toBe('0x00ff');
  });
});
