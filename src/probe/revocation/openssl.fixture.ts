/**
 * @module
 * Test material for the revocation unit tests, made by the openssl CLI (so our parser and verifier
 * are tested against bytes they did not write): a CA with an `openssl ca` database, two leaves
 * (one revoked), a delegated OCSP responder certificate (id-kp-OCSPSigning, RFC 6960 §4.2.2.2), one
 * without that EKU, a rogue CA with its own "responder", OCSP responses from `openssl ocsp -reqin`
 * and CRLs from `openssl ca -gencrl`. Synchronous: built once per test file. The CAs are
 * test/fixtures/tls/openssl-ca.ts, the builder shared with the end-to-end revocation PKI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpensslCa, openssl, pemToDer } from '../../../test/fixtures/tls/openssl-ca.js';

export interface Signer {
  cert: string;
  key: string;
}

export class OpensslPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'certvigil-revocation-unit-'));
  private readonly cas = new Map<string, OpensslCa>();

  constructor() {
    for (const name of ['ca', 'rogue']) {
      const ca = new OpensslCa(join(this.dir, name), { serial: '1001', crlDays: 1, newCertsDir: '.' });
      ca.selfSign(`/CN=certvigil unit ${name}`, 'keyCertSign,cRLSign,digitalSignature');
      this.cas.set(name, ca);
    }
    this.issue('ca', 'leaf', [
      'tlsfeature=status_request',
      'authorityInfoAccess=OCSP;URI:http://127.0.0.1:1/',
    ]);
    this.issue('ca', 'revoked', []);
    this.issue('ca', 'both', [
      'authorityInfoAccess=OCSP;URI:http://127.0.0.1:1/',
      'crlDistributionPoints=URI:http://127.0.0.1:1/ca.crl',
    ]);
    this.issue('ca', 'ldaponly', ['crlDistributionPoints=URI:ldap://ldap.example.test/cn=ca']);
    this.issue('ca', 'responder', ['extendedKeyUsage=OCSPSigning']);
    this.issue('ca', 'noeku', ['extendedKeyUsage=serverAuth']);
    this.issue('rogue', 'rogueresponder', ['extendedKeyUsage=OCSPSigning']);
    // A delegated responder with the CA's own name (a byName ResponderID then matches both).
    this.issue('ca', 'samename', ['extendedKeyUsage=OCSPSigning'], '/CN=certvigil unit ca');
    this.ca('ca').revoke('revoked.pem', 'keyCompromise');
  }

  openssl(cwd: string, ...args: string[]): Buffer {
    return openssl(cwd, args);
  }

  private ca(name: string): OpensslCa {
    const ca = this.cas.get(name);
    if (ca === undefined) throw new Error(`no CA ${name}`);
    return ca;
  }

  private issue(ca: string, name: string, ext: string[], subject = `/CN=${name}.example.test`): void {
    this.ca(ca).issue(name, subject, ['basicConstraints=critical,CA:FALSE', ...ext]);
  }

  /** DER of a certificate: `ca/leaf`, `ca/ca`, `rogue/rogueresponder` … */
  der(path: string): Uint8Array {
    return new Uint8Array(pemToDer(this.dir, `${path}.pem`));
  }

  /**
   * `openssl ocsp` answering the DER request `request` from the CA database, signed by `signer`
   * (paths relative to the work dir; default the CA itself), with extra flags (`-ndays 1` by default).
   */
  respond(
    request: Uint8Array,
    signer: Signer = { cert: 'ca/ca.pem', key: 'ca/ca.key' },
    extra = ['-ndays', '1'],
  ): Uint8Array {
    writeFileSync(join(this.dir, 'req.der'), request);
    this.ca('ca').respond(
      join(this.dir, 'req.der'),
      join(this.dir, 'resp.der'),
      { cert: join(this.dir, signer.cert), key: join(this.dir, signer.key) },
      extra,
    );
    return new Uint8Array(readFileSync(join(this.dir, 'resp.der')));
  }

  /** A DER CRL of `ca` ("ca" or "rogue") from `openssl ca -gencrl` (nextUpdate in `hours`). */
  crl(ca = 'ca', hours = 24): Uint8Array {
    return new Uint8Array(this.ca(ca).crl(hours));
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
