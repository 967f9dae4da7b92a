/**
 * @module x509/ct-vectors.fixture
 * Test-only loaders for the CT vectors in test/vectors/ct (see its README): PEM files, the RFC 6962
 * get-entries responses of certificate-transparency-go, and the sunlight navigli2025h2 data and
 * names tiles. The TLS structures are decoded minimally, just far enough to reach the certificates.
 * Imported by the x509 tests only; nothing in the library imports it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePemCertificates } from './pem.js';

export const VECTORS = fileURLToPath(new URL('../../test/vectors/ct/', import.meta.url));

export function readVector(path: string): Buffer {
  return readFileSync(VECTORS + path);
}

export function pemVector(path: string): Uint8Array[] {
  return parsePemCertificates(readVector(path).toString('utf8'));
}

/** A bounds-checked TLS (RFC 8446 §3) reader over one buffer. */
class TlsReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`TLS data truncated at ${this.pos}`);
  }
  uint(bytes: number): number {
    this.need(bytes);
    let v = 0;
    for (let i = 0; i < bytes; i++) v = v * 256 + (this.buf[this.pos++] as number);
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** opaque<0..2^(8·lenBytes)-1> */
  vector(lenBytes: number): Uint8Array {
    return this.bytes(this.uint(lenBytes));
  }
  get done(): boolean {
    return this.pos === this.buf.length;
  }
}

/** One static-ct-api TileLeaf of navigli2025h2 plus its names-tile line. */
export interface NavigliEntry {
  index: number;
  timestamp: number;
  /** precert_entry TBSCertificate (poison removed by the log). */
  tbs: Uint8Array;
  issuerKeyHash: Uint8Array;
  preCertificate: Uint8Array;
  names: { Timestamp: number; Subject?: { CommonName?: string }; DNS?: string[] };
}

const NAVIGLI = 'sunlight/testdata/navigli2025h2/tile/';

/**
 * c2sp.org/static-ct-api TileLeaf: timestamp u64, entry_type u16, entry (x509: ASN.1Cert<1..2^24-1>;
 * precert: issuer_key_hash[32] + TBS<1..2^24-1>), extensions<0..2^16-1>, then for precerts the
 * pre_certificate<1..2^24-1>, then fingerprints<0..2^16-1>.
 */
export function navigliEntries(): NavigliEntry[] {
  const out: NavigliEntry[] = [];
  for (const tile of ['000', '001', '002', '003']) {
    const r = new TlsReader(readVector(`${NAVIGLI}data/${tile}`));
    const names = readVector(`${NAVIGLI}names/${tile}`).toString('utf8').trim().split('\n');
    for (let i = 0; i < 256; i++) {
      const timestamp = r.uint(8);
      const entryType = r.uint(2);
      if (entryType !== 1) throw new Error(`navigli entry ${out.length} is not a precert_entry`);
      const issuerKeyHash = r.bytes(32);
      const tbs = r.vector(3);
      r.vector(2); // extensions (leaf_index)
      const preCertificate = r.vector(3);
      r.vector(2); // chain fingerprints
      out.push({
        index: out.length,
        timestamp,
        tbs,
        issuerKeyHash,
        preCertificate,
        names: JSON.parse(names[i] as string) as NavigliEntry['names'],
      });
    }
    if (!r.done) throw new Error(`trailing bytes in navigli data tile ${tile}`);
  }
  return out;
}

/** An RFC 6962 get-entries entry decoded as far as the certificates. */
export interface RfcEntry {
  entryType: 'x509' | 'precert';
  timestamp: number;
  /** x509_entry: the certificate; precert_entry: the leaf's TBSCertificate. */
  leafCertOrTbs: Uint8Array;
  /** precert_entry only: extra_data's pre_certificate. */
  preCertificate: Uint8Array | null;
  chain: Uint8Array[];
}

/**
 * leaf_input = MerkleTreeLeaf: version(1) leaf_type(1) timestamp(8) entry_type(2) then
 * ASN.1Cert<1..2^24-1> (x509) or issuer_key_hash[32] + TBS<1..2^24-1> (precert), extensions<2>.
 * extra_data: x509 → chain<3> of ASN.1Cert<3>; precert → pre_certificate<3> then chain<3>.
 */
export function rfc6962Entries(path: string): RfcEntry[] {
  const json = JSON.parse(readVector(path).toString('utf8')) as {
    entries: { leaf_input: string; extra_data: string }[];
  };
  return json.entries.map((e) => {
    const leaf = new TlsReader(Buffer.from(e.leaf_input, 'base64'));
    leaf.uint(2); // version, leaf_type
    const timestamp = leaf.uint(8);
    const type = leaf.uint(2);
    if (type === 1) leaf.bytes(32);
    const leafCertOrTbs = leaf.vector(3);
    leaf.vector(2);
    const extra = new TlsReader(Buffer.from(e.extra_data, 'base64'));
    const preCertificate = type === 1 ? extra.vector(3) : null;
    const chainBytes = new TlsReader(extra.vector(3));
    const chain: Uint8Array[] = [];
    while (!chainBytes.done) chain.push(chainBytes.vector(3));
    return { entryType: type === 1 ? 'precert' : 'x509', timestamp, leafCertOrTbs, preCertificate, chain };
  });
}

/** Every certificate in the vectors, named by where it came from (for differential tests). */
export function allCertificates(): { name: string; der: Uint8Array }[] {
  const out: { name: string; der: Uint8Array }[] = [];
  const pemFiles = [
    ...readdirSync(VECTORS + 'ctgo/sct').filter((f) => f.endsWith('.pem') && !f.startsWith('LogPublic')),
    'ctgo/testdata/test-cert.pem',
    'ctgo/client/SubmissionCert.pem',
    ...readdirSync(VECTORS + 'ctgo/trillian-testdata').filter((f) => /\.(cert|chain)$/.test(f)),
    ...readdirSync(VECTORS + 'le-staging').filter((f) => f.endsWith('.pem')),
    'sunlight/extracted/example-cert-with-scts.pem',
  ].map((f) => (f.includes('/') ? f : pemDir(f) + f));
  for (const f of pemFiles) pemVector(f).forEach((der, i) => out.push({ name: `${f}#${i}`, der }));
  for (const f of ['ctgo/client/GetEntriesResp.json', 'ctgo/scanner/FourEntries.json']) {
    rfc6962Entries(f).forEach((e, i) => {
      if (e.entryType === 'x509') out.push({ name: `${f} entry ${i}`, der: e.leafCertOrTbs });
      if (e.preCertificate) out.push({ name: `${f} entry ${i} pre_certificate`, der: e.preCertificate });
      e.chain.forEach((der, j) => out.push({ name: `${f} entry ${i} chain[${j}]`, der }));
    });
  }
  const roots = JSON.parse(readVector('ctgo/client/GetRootsResp.json').toString('utf8')) as {
    certificates: string[];
  };
  roots.certificates.forEach((b64, i) =>
    out.push({ name: `ctgo/client/GetRootsResp.json#${i}`, der: Buffer.from(b64, 'base64') }),
  );
  for (const e of navigliEntries()) out.push({ name: `navigli #${e.index}`, der: e.preCertificate });
  return out;
}

function pemDir(file: string): string {
  if (file.endsWith('.cert') || file.endsWith('.chain')) return 'ctgo/trillian-testdata/';
  if (file.startsWith('Test') || file.startsWith('CACert')) return 'ctgo/sct/';
  return 'le-staging/';
}
