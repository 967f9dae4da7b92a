/**
 * @module
 * Test material for the revocation unit tests, made by the openssl CLI (so our parser and verifier
 * are tested against bytes they did not write): a CA with an `openssl ca` database, two leaves
 * (one revoked), a delegated OCSP responder certificate (id-kp-OCSPSigning, RFC 6960 §4.2.2.2), one
 * without that EKU, a rogue CA with its own "responder", OCSP responses from `openssl ocsp -reqin`
 * and CRLs from `openssl ca -gencrl`. Synchronous: built once per test file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CA_CNF = `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
default_md = sha256
default_days = 30
default_crl_days = 1
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
`;

export interface Signer {
  cert: string;
  key: string;
}

export class OpensslPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'certvigil-revocation-unit-'));

  constructor() {
    for (const ca of ['ca', 'rogue']) {
      const d = join(this.dir, ca);
      mkdirSync(d);
      writeFileSync(join(d, 'index.txt'), '');
      writeFileSync(join(d, 'serial'), '1001\n');
      writeFileSync(join(d, 'crlnumber'), '01\n');
      writeFileSync(join(d, 'ca.cnf'), CA_CNF);
      this.openssl(
        d,
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '30',
        '-subj',
        `/CN=certvigil unit ${ca}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      );
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
    this.openssl(
      join(this.dir, 'ca'),
      'ca',
      '-config',
      'ca.cnf',
      '-keyfile',
      'ca.key',
      '-cert',
      'ca.pem',
      '-revoke',
      'revoked.pem',
      '-crl_reason',
      'keyCompromise',
    );
  }

  openssl(cwd: string, ...args: string[]): Buffer {
    return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  private issue(ca: string, name: string, ext: string[], subject = `/CN=${name}.example.test`): void {
    const d = join(this.dir, ca);
    writeFileSync(
      join(d, `${name}.ext`),
      ['[v3]', 'basicConstraints=critical,CA:FALSE', ...ext].join('\n') + '\n',
    );
    this.openssl(
      d,
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    );
    this.openssl(
      d,
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-keyfile',
      'ca.key',
      '-cert',
      'ca.pem',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
      '-extensions',
      'v3',
      '-notext',
    );
  }

  /** DER of a certificate: `ca/leaf`, `ca/ca`, `rogue/rogueresponder` … */
  der(path: string): Uint8Array {
    return new Uint8Array(this.openssl(this.dir, 'x509', '-in', `${path}.pem`, '-outform', 'DER'));
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
    this.openssl(
      this.dir,
      'ocsp',
      '-index',
      'ca/index.txt',
      '-CA',
      'ca/ca.pem',
      '-rsigner',
      signer.cert,
      '-rkey',
      signer.key,
      '-reqin',
      'req.der',
      '-respout',
      'resp.der',
      ...extra,
    );
    return new Uint8Array(readFileSync(join(this.dir, 'resp.der')));
  }

  /** A DER CRL of `ca` ("ca" or "rogue") from `openssl ca -gencrl` (nextUpdate in `hours`). */
  crl(ca = 'ca', hours = 24): Uint8Array {
    const d = join(this.dir, ca);
    this.openssl(
      d,
      'ca',
      '-gencrl',
      '-config',
      'ca.cnf',
      '-keyfile',
      'ca.key',
      '-cert',
      'ca.pem',
      '-crlhours',
      String(hours),
      '-out',
      'crl.pem',
    );
    return new Uint8Array(this.openssl(d, 'crl', '-in', 'crl.pem', '-outform', 'DER'));
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
