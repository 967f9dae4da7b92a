/**
 * The revocation orchestration with an injected transport: the staple is preferred, OCSP before
 * CRL, one fetch per certificate across addresses, the chain mode, the deadline and signal handed
 * down, and the failure paths (no issuer, nothing to ask, a transport that throws).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertvigilError } from '../../errors.js';
import { buildOcspRequest, parseRevocationCert } from './asn1.js';
import {
  CRL_MAX_BYTES,
  OCSP_MAX_BYTES,
  RevocationCache,
  checkRevocation,
  mayCarryRevocationInfo,
  revocationFindingsFor,
} from './index.js';
import type { RevocationFetch, RevocationInput, RevocationRequest } from './index.js';
import { OpensslPki } from './openssl.fixture.js';

let pki: OpensslPki;
let ca: Uint8Array;
beforeAll(() => {
  pki = new OpensslPki();
  ca = pki.der('ca/ca');
}, 60_000);
afterAll(() => pki.close());

/** A transport answering OCSP with `openssl ocsp` from the CA database and CRLs with its CRL. */
function transport(options: { ocspDown?: boolean } = {}): {
  fetch: RevocationFetch;
  calls: RevocationRequest[];
} {
  const calls: RevocationRequest[] = [];
  const fetch: RevocationFetch = (req) => {
    calls.push(req);
    if (req.method === 'POST') {
      if (options.ocspDown)
        return Promise.reject(new CertvigilError('REVOCATION_HTTP', 'connect ECONNREFUSED'));
      return Promise.resolve(pki.respond(req.body ?? new Uint8Array()));
    }
    return Promise.resolve(pki.crl());
  };
  return { fetch, calls };
}

const input = (chain: Uint8Array[], over: Partial<RevocationInput> = {}): RevocationInput => ({
  chain,
  staple: null,
  address: '127.0.0.1',
  settings: { mode: 'leaf', unreachable: 'warning' },
  deadline: Date.now() + 10_000,
  now: new Date(),
  ...over,
});
const ids = (f: { id: string; severity: string }[]): string[] => f.map((x) => `${x.id}:${x.severity}`);

describe('checkRevocation', () => {
  it('asks the AIA responder with a nonce, bounded by the deadline and the signal, through the proxy', async () => {
    const { fetch, calls } = transport();
    const signal = new AbortController().signal;
    const deadline = Date.now() + 5000;
    const proxy = { kind: 'socks5' as const, host: '127.0.0.1', port: 1080, remoteDns: true };
    const f = await checkRevocation(input([pki.der('ca/both'), ca], { fetch, signal, deadline, proxy }));
    expect(ids(f)).toEqual(['ocsp-good:info']);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      url: 'http://127.0.0.1:1/',
      method: 'POST',
      contentType: 'application/ocsp-request',
      maxBytes: OCSP_MAX_BYTES,
      deadline,
      signal,
      proxy,
    });
  });

  it('falls back to the CRL when the responder is down', async () => {
    const { fetch, calls } = transport({ ocspDown: true });
    const f = await checkRevocation(input([pki.der('ca/both'), ca], { fetch }));
    expect(ids(f)).toEqual(['crl-good:info']);
    expect(calls.map((c) => [c.method, c.maxBytes])).toEqual([
      ['POST', OCSP_MAX_BYTES],
      ['GET', CRL_MAX_BYTES],
    ]);
  });

  it('uses a valid staple and fetches nothing', async () => {
    const { fetch, calls } = transport();
    const leaf = pki.der('ca/leaf');
    const staple = pki.respond(buildOcspRequest(parseRevocationCert(leaf), parseRevocationCert(ca), null));
    const f = await checkRevocation(input([leaf, ca], { fetch, staple }));
    expect(ids(f)).toEqual(['ocsp-stapled:info', 'ocsp-good:info']);
    expect(calls).toHaveLength(0);
  });

  it('must-staple without a staple is critical even when the responder says good', async () => {
    const { fetch } = transport();
    const f = await checkRevocation(input([pki.der('ca/leaf'), ca], { fetch }));
    expect(ids(f)).toEqual(['must-staple-missing:critical', 'ocsp-good:info']);
  });

  it('fetches once per certificate for several addresses (shared cache)', async () => {
    const { fetch, calls } = transport();
    const cache = new RevocationCache();
    const chain = [pki.der('ca/both'), ca];
    const all = await Promise.all(
      ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((address) =>
        checkRevocation(input(chain, { fetch, cache, address })),
      ),
    );
    expect(all.map(ids)).toEqual([['ocsp-good:info'], ['ocsp-good:info'], ['ocsp-good:info']]);
    expect(all.map((f) => f[0]?.address)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(calls).toHaveLength(1);
  });

  it.each<[string, () => Uint8Array[], RevocationInput['settings'], string[]]>([
    [
      'off: nothing, not even must-staple',
      () => [pki.der('ca/leaf'), ca],
      { mode: 'off', unreachable: 'critical' },
      [],
    ],
    [
      'no issuer available: the configured severity',
      () => [pki.der('ca/both')],
      { mode: 'leaf', unreachable: 'critical' },
      ['revocation-unknown:critical'],
    ],
    [
      'nothing to ask: INFO',
      () => [pki.der('ca/revoked'), ca],
      { mode: 'leaf', unreachable: 'critical' },
      ['revocation-unknown:info'],
    ],
    [
      'only an ldap:// CRL: INFO, the URL skipped',
      () => [pki.der('ca/ldaponly'), ca],
      { mode: 'leaf', unreachable: 'critical' },
      ['revocation-unknown:info'],
    ],
    [
      'chain: the self-issued anchor is not asked',
      () => [pki.der('ca/both'), ca],
      { mode: 'chain', unreachable: 'warning' },
      ['ocsp-good:info'],
    ],
    [
      'garbage instead of a certificate',
      () => [new Uint8Array([1, 2, 3]), ca],
      { mode: 'leaf', unreachable: 'warning' },
      ['revocation-unknown:warning'],
    ],
  ])('%s', async (_n, chain, settings, expected) => {
    const { fetch, calls } = transport();
    const f = await checkRevocation(input(chain(), { fetch, settings }));
    expect(ids(f)).toEqual(expected);
    if (settings.mode === 'off') expect(calls).toHaveLength(0);
  });

  it('an intermediate is checked in chain mode (its issuer is the next certificate)', async () => {
    const { fetch } = transport();
    // ca/both stands in for an intermediate here: any non-self-issued certificate at index 1.
    const f = await checkRevocation(
      input([pki.der('ca/revoked'), pki.der('ca/both'), ca], {
        fetch,
        settings: { mode: 'chain', unreachable: 'warning' },
      }),
    );
    // The first certificate's issuer is not ca/both, so its response is no answer: only the second answers.
    expect(f.map((x) => x.id)).toContain('ocsp-good');
    expect(f.find((x) => x.id === 'ocsp-good')?.message).toMatch(
      /^OCSP .*: intermediate CN=both\.example\.test/,
    );
  });
});

describe('revocationFindingsFor (the light entry: pkijs only when there is something to check)', () => {
  it.each([
    ['ca/revoked', false], // basicConstraints only
    ['ca/ca', false],
    ['ca/both', true], // AIA + CRL DP
    ['ca/leaf', true], // AIA + TLS Feature
    ['ca/ldaponly', true], // CRL DP
  ])('mayCarryRevocationInfo(%s) → %s', (path, expected) => {
    expect(mayCarryRevocationInfo(pki.der(path))).toBe(expected);
  });

  it('a leaf with nothing to ask and no staple: INFO, nothing fetched', async () => {
    const { fetch, calls } = transport();
    const f = await revocationFindingsFor(
      input([pki.der('ca/revoked'), ca], { fetch, settings: { mode: 'leaf', unreachable: 'critical' } }),
    );
    expect(ids(f)).toEqual(['revocation-unknown:info']);
    expect(f[0]?.message).toMatch(
      /^revocation status of certificate CN=revoked\.example\.test \(serial [0-9a-f]+\) unknown: it names no OCSP/,
    );
    expect(calls).toHaveLength(0);
  });

  it('a leaf with an AIA goes to the full check', async () => {
    const { fetch, calls } = transport();
    expect(ids(await revocationFindingsFor(input([pki.der('ca/both'), ca], { fetch })))).toEqual([
      'ocsp-good:info',
    ]);
    expect(calls).toHaveLength(1);
  });

  it('off: nothing', async () => {
    const f = await revocationFindingsFor(
      input([pki.der('ca/leaf'), ca], { settings: { mode: 'off', unreachable: 'critical' } }),
    );
    expect(f).toEqual([]);
  });
});
