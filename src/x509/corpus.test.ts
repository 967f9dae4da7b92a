/**
 * Differential test of the walker against a real third-party corpus: the certificates of Debian's
 * python3-cryptography-vectors (`x509/`, PKITS_data, custom/, …) and ca-certificates, as read by
 * OpenSSL and by Python `cryptography` (test/tools/x509-corpus.py emits their facts as JSON lines;
 * test/vectors/x509-corpus/README.md says where the corpus comes from and what is compared).
 *
 * Every certificate OpenSSL reads must be summarised — by `summarizeCertificate` and by the CT
 * path's `summarizeTbs` on its TBS — with the same serial, issuer, validity, SAN dNSNames and
 * iPAddresses, TBS SHA-256 and SPKI SHA-256. Legitimate differences are listed below (LEGITIMATE,
 * KNOWN_REFUSALS), each with its reason; anything else fails the test. Certificates OpenSSL refuses
 * are counted and reported, whichever way we decide on them.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeDirectoryString } from './name.js';
import { readTlv, newTlv } from './der.js';
import { locateCertificate, walkTbs } from './tbs.js';
import {
  certificateParts,
  parsePemCertificates,
  sctListsFromOcspResponse,
  summarizeCertificate,
  summarizeTbs,
  X509Error,
} from './index.js';
import type { CertSummary } from './index.js';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/tools/x509-corpus.py');

/**
 * Debian installs python3-cryptography for its own interpreter, /usr/bin/python3; a `python3`
 * earlier on PATH (pyenv, a venv) may have another `cryptography` or none. CERTVIGIL_PYTHON
 * overrides.
 */
const PYTHON =
  process.env.CERTVIGIL_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

interface OpensslFacts {
  ok: boolean;
  error?: string;
  trailingBytes?: number | null;
  reencoded?: boolean;
  serial?: string;
  issuerDerSha256?: string;
}

interface PycaFacts {
  ok: boolean;
  error?: string;
  tbsSha256?: string;
  notBefore?: string;
  notAfter?: string;
  serial?: string;
  issuer?: string;
  issuerError?: string;
  subject?: string;
  subjectError?: string;
  spkiSha256?: string;
  spkiSha256Error?: string;
  san?: { dns: string[]; ip: string[] };
  sanError?: string;
}

interface CorpusRecord {
  source: string;
  /** The file; a PEM file yields one record per CERTIFICATE block (`index`). */
  path: string;
  index: number;
  form: 'pem' | 'der';
  der: string | null;
  openssl: OpensslFacts;
  pyca: PycaFacts;
}

/** An OCSP response of the vectors and the SCTs cryptography finds in its SingleResponses. */
interface OcspRecord {
  ocspSource: string;
  der: string;
  scts?: { logId: string; timestamp: string }[];
  error?: string;
}

interface CorpusSummary {
  summary: true;
  counts: { certificates: number; openssl: number; pyca: number };
  skippedFiles: Record<string, number>;
  cryptography: string;
  openssl: string;
  roots: string[];
}

/**
 * Certificates OpenSSL reads and we refuse, on purpose. Keyed by source; the message must match.
 */
const KNOWN_REFUSALS: { source: string; message: RegExp; why: string }[] = [
  {
    source: 'cryptography-vectors:badasn1time.pem',
    message: /^notAfter: expected Z or a ±hhmm offset/,
    why:
      'notAfter is the UTCTime "19020701025736Z" (15 characters, RFC 5280 §4.1.2.5.1 allows 13): it has ' +
      'no value: OpenSSL reads the certificate without checking the time but prints "Bad time value" ' +
      'for it, and cryptography refuses the certificate. A summary cannot have a validity it cannot read.',
  },
];

/** Counters of the documented, legitimate differences (reported at the end). */
const LEGITIMATE = {
  /**
   * Our `dnsNames` ends with the subject CN when it is host-like and not in the SAN (the CT
   * monitor's CN fallback, summary.ts); OpenSSL and cryptography list only the SAN.
   */
  cnFallback: 0,
  /**
   * Our `tbsSha256` is the hash of the TBS without the RFC 6962 poison/SCT-list extensions (one
   * value for a precertificate and its certificate, tbs-rewrite.ts); cryptography hashes the TBS as
   * is. For these certificates the TBS bytes (`certificateParts`) are compared instead.
   */
  tbsWithoutCtExtensions: 0,
  /**
   * RFC 4514 §2.4: a value whose type is written as a dotted OID is "#" + the hex of its DER
   * ("MUST"), which we do for types we have no short name for; cryptography prints the string.
   * The attribute is compared by decoding our DER.
   */
  dnHexValue: 0,
  /**
   * We also escape C0/C1 controls, DEL, format characters and U+2028/2029 as UTF-8 hex pairs (RFC
   * 4514 §2.4 "may"; name.ts escapeValue); cryptography writes them raw (NUL aside). Compared after
   * unescaping.
   */
  dnExtraEscapes: 0,
  /**
   * cryptography writes a non-string value (x500UniqueIdentifier, a BIT STRING) as "#" and the hex
   * of its content octets; RFC 4514 §2.4 says the hex of its whole BER encoding, which is ours
   * (`#0309…` for `#00…`). Compared by the content of our DER.
   */
  pycaContentHex: 0,
};

/** Facts missing from both references, so a field could not be compared (counted, reported). */
const notCompared: Record<string, number> = {};
const countNotCompared = (what: string): void => {
  notCompared[what] = (notCompared[what] ?? 0) + 1;
};

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
const canonicalIp = (ip: string): string =>
  new net.SocketAddress({ address: ip, family: ip.includes(':') ? 'ipv6' : 'ipv4' }).address;

/** Splits an RFC 4514 string at unescaped `sep` characters. */
function splitUnescaped(text: string, seps: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + (text[i + 1] as string);
      i++;
    } else if (seps.includes(ch)) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** RFC 4514 §3 unescaping: `\X` for a special character, `\hh` hex pairs forming UTF-8. */
function unescape4514(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '\\' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch === '\\') {
      bytes.push(...Buffer.from(value[i + 1] as string, 'utf8'));
      i++;
    } else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Our `#hex` value (a whole DER element) decoded as the string it holds, or null. */
function hexValueString(hexValue: string): string | null {
  const der = Buffer.from(hexValue, 'hex');
  try {
    const t = readTlv(der, 0, der.length, newTlv(), 'value');
    return decodeDirectoryString(der, t.tag, t.contentStart, t.end);
  } catch {
    return null;
  }
}

/**
 * Compares our RFC 4514 issuer (or subject) with cryptography's (`rfc4514_string` with our short names), attribute
 * by attribute, allowing the documented differences. Returns a problem or null.
 */
function compareDn(ours: string, theirs: string): string | null {
  if (ours === theirs) return null;
  const a = splitUnescaped(ours, ',').map((rdn) => splitUnescaped(rdn, '+'));
  const b = splitUnescaped(theirs, ',').map((rdn) => splitUnescaped(rdn, '+'));
  if (a.length !== b.length || a.some((rdn, i) => rdn.length !== b[i]?.length)) {
    return `RDN structure differs: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`;
  }
  let hexValue = false;
  let extraEscapes = false;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < (a[i]?.length ?? 0); j++) {
      const [oursType, ...oursRest] = (a[i]?.[j] as string).split('=');
      const [theirsType, ...theirsRest] = (b[i]?.[j] as string).split('=');
      const oursValue = oursRest.join('=');
      const theirsValue = theirsRest.join('=');
      if (oursType !== theirsType) return `attribute type ${oursType} vs ${theirsType}`;
      if (oursValue === theirsValue) continue;
      const expected = unescape4514(theirsValue);
      if (oursValue.startsWith('#') && theirsValue.startsWith('#')) {
        const der = Buffer.from(oursValue.slice(1), 'hex');
        const t = readTlv(der, 0, der.length, newTlv(), 'value');
        if (der.subarray(t.contentStart).toString('hex') !== theirsValue.slice(1)) {
          return `${oursType}: ${oursValue} vs ${theirsValue}`;
        }
        LEGITIMATE.pycaContentHex++;
      } else if (/^\d+(\.\d+)+$/.test(oursType ?? '') && oursValue.startsWith('#')) {
        if (hexValueString(oursValue.slice(1)) !== expected) {
          return `${oursType}: ${oursValue} does not decode to ${JSON.stringify(expected)}`;
        }
        hexValue = true;
      } else if (unescape4514(oursValue) === expected) {
        extraEscapes = true;
      } else return `${oursType}: ${JSON.stringify(oursValue)} vs ${JSON.stringify(theirsValue)}`;
    }
  }
  if (hexValue) LEGITIMATE.dnHexValue++;
  if (extraEscapes) LEGITIMATE.dnExtraEscapes++;
  return null;
}

/** Node's subjectAltName text (OpenSSL's) as entries, honouring its JSON-quoted values. */
function nodeSan(der: Uint8Array): { dns: string[]; ip: string[] } | null {
  let text: string | undefined;
  try {
    text = new X509Certificate(der).subjectAltName;
  } catch {
    return null;
  }
  const dns: string[] = [];
  const ip: string[] = [];
  const re = /([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  for (let m = re.exec(text ?? ''); m !== null && m[0] !== ''; m = re.exec(text ?? '')) {
    const value = (m[2] as string).startsWith('"')
      ? (JSON.parse(m[2] as string) as string)
      : (m[2] as string);
    if (m[1] === 'DNS') dns.push(value);
    if (m[1] === 'IP Address') ip.push(value);
  }
  return { dns, ip };
}

function nodeSpkiSha256(der: Uint8Array): string | null {
  try {
    return sha256(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return null;
  }
}

function nodeTime(der: Uint8Array, which: 'validFrom' | 'validTo'): string | null {
  try {
    return new Date(new X509Certificate(der)[which]).toISOString().replace('.000Z', 'Z');
  } catch {
    return null;
  }
}

/** Every difference between our summary and the reference facts for one certificate. */
function differences(rec: CorpusRecord, der: Uint8Array, ours: CertSummary): string[] {
  const out: string[] = [];
  const py = rec.pyca;
  const check = (field: string, got: unknown, want: unknown): void => {
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      out.push(`${field}: ours ${JSON.stringify(got)}, reference ${JSON.stringify(want)}`);
    }
  };
  // Serial: OpenSSL's BN_bn2hex, lower-cased (summary.ts serialHex).
  check('serial', ours.serialHex, rec.openssl.serial);
  // Issuer: the raw DER OpenSSL keeps (i2d_X509_NAME returns the received encoding), then the text.
  const cert = locateCertificate(der);
  const layout = walkTbs(der, cert.tbsStart, cert.tbsEnd);
  check(
    'issuer DER',
    sha256(der.subarray(layout.issuerStart, layout.issuerEnd)),
    rec.openssl.issuerDerSha256,
  );
  if (py.issuer !== undefined) {
    const problem = compareDn(ours.issuer, py.issuer);
    if (problem !== null) out.push(`issuer: ${problem}`);
  } else countNotCompared(`issuer text (${py.error ?? py.issuerError ?? '?'})`);
  // The subject too (not asked for by the CT path, but the same decoding and escaping).
  if (py.subject !== undefined) {
    const problem = compareDn(ours.subject, py.subject);
    if (problem !== null) out.push(`subject: ${problem}`);
  } else countNotCompared(`subject text (${py.error ?? py.subjectError ?? '?'})`);
  // Validity: cryptography's datetimes; OpenSSL's (via Node) where cryptography refused.
  check('notBefore', ours.notBefore, py.notBefore ?? nodeTime(der, 'validFrom'));
  check('notAfter', ours.notAfter, py.notAfter ?? nodeTime(der, 'validTo'));
  // TBS: the bytes of the TBSCertificate element; our tbsSha256 also, unless CT extensions.
  const tbs = certificateParts(der).tbs;
  if (py.tbsSha256 !== undefined) {
    check('TBS bytes', sha256(tbs), py.tbsSha256);
    if (ours.isPrecertificate || ours.hasEmbeddedScts) LEGITIMATE.tbsWithoutCtExtensions++;
    else check('tbsSha256', ours.tbsSha256, py.tbsSha256);
  } else countNotCompared('TBS hash (cryptography refused the certificate)');
  // SPKI: OpenSSL's re-encoding of the key it loaded (Node's export; it keeps RSA-PSS parameters,
  // which cryptography 38 re-encodes as rsaEncryption), cryptography's where OpenSSL has none.
  const spki = nodeSpkiSha256(der) ?? py.spkiSha256 ?? null;
  if (spki !== null) check('spkiSha256', ours.spkiSha256, spki);
  else countNotCompared(`SPKI (${(py.spkiSha256Error ?? 'no key').slice(0, 60)})`);
  // SAN: cryptography's (content octets as hex), OpenSSL's text (Node) where cryptography could
  // not parse the extensions.
  let dns: string[] | null = null;
  let ips: string[] | null = null;
  if (py.san !== undefined) {
    dns = py.san.dns.map((h) => asciiLower(Buffer.from(h, 'hex').toString('latin1')));
    ips = py.san.ip;
  } else {
    const node = nodeSan(der);
    if (node !== null) {
      dns = node.dns.map(asciiLower);
      ips = node.ip;
    } else countNotCompared(`SAN (${py.sanError ?? py.error ?? '?'})`);
  }
  if (dns !== null && ips !== null) {
    let ourDns = ours.dnsNames;
    if (ourDns.length === dns.length + 1 && ourDns[dns.length] === ours.subjectCommonName?.toLowerCase()) {
      LEGITIMATE.cnFallback++;
      ourDns = ourDns.slice(0, dns.length);
    }
    check('SAN dNSNames', ourDns, dns);
    check('SAN iPAddresses', ours.ipAddresses.map(canonicalIp), ips.map(canonicalIp));
  }
  // The CT path summarises a precert entry's bare TBS: it must say the same.
  const viaTbs = summarizeTbs(tbs);
  check('summarizeTbs', viaTbs, ours);
  return out;
}

describe('x509 corpus: python3-cryptography-vectors and ca-certificates vs OpenSSL and cryptography', () => {
  const records: CorpusRecord[] = [];
  const ocspRecords: OcspRecord[] = [];
  let summary: CorpusSummary;

  beforeAll(async () => {
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)(PYTHON, [SCRIPT], {
        timeout: 60_000,
        maxBuffer: 256 * 2 ** 20,
      }));
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `the x509 corpus needs ${PYTHON} with Debian's python3-cryptography and python3-cryptography-vectors ` +
          `(CI installs them; set CERTVIGIL_PYTHON for another interpreter): ${e.stderr?.trim() || e.message}`,
      );
    }
    const lines = stdout.trim().split('\n');
    summary = JSON.parse(lines.pop() as string) as CorpusSummary;
    for (const line of lines) {
      const parsed = JSON.parse(line) as CorpusRecord | OcspRecord;
      if ('ocspSource' in parsed) ocspRecords.push(parsed);
      else records.push(parsed);
    }
  }, 90_000);

  it('finds the corpus (hundreds of certificates, most read by OpenSSL)', () => {
    expect(summary.summary).toBe(true);
    expect(summary.counts.certificates).toBe(records.length);
    // Debian 12: 668 certificates, 660 read by OpenSSL. A much smaller number means a broken walk.
    expect(summary.counts.openssl).toBeGreaterThan(500);
  });

  it('parsePemCertificates finds the same CERTIFICATE blocks as OpenSSL does in every PEM file', () => {
    const byPath = new Map<string, (string | null)[]>();
    for (const rec of records) {
      if (rec.form === 'pem') byPath.set(rec.path, [...(byPath.get(rec.path) ?? []), rec.der]);
    }
    const problems: string[] = [];
    for (const [file, blocks] of byPath) {
      try {
        const ours = parsePemCertificates(readFileSync(file, 'utf8')).map((d) =>
          Buffer.from(d).toString('base64'),
        );
        if (JSON.stringify(ours) !== JSON.stringify(blocks))
          problems.push(`${file}: ${ours.length} vs ${blocks.length} blocks`);
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
      }
    }
    expect(byPath.size).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('sctListsFromOcspResponse finds the SCTs cryptography finds in the OCSP responses', () => {
    const problems: string[] = [];
    let compared = 0;
    let scts = 0;
    for (const rec of ocspRecords) {
      if (rec.scts === undefined) continue; // cryptography cannot read it (reported below)
      compared++;
      const lists = sctListsFromOcspResponse(Buffer.from(rec.der, 'base64'));
      // RFC 6962 §3.3 SignedCertificateTimestampList: u16 length, then u16-prefixed SCTs, each
      // version (1), log id (32), timestamp (8, ms), … (RFC 6962 §3.2).
      const ours: { logId: string; timestamp: string }[] = [];
      for (const { sctList } of lists) {
        const b = Buffer.from(sctList);
        for (let p = 2; p < b.length; p += 2 + b.readUInt16BE(p)) {
          const ms = Number(b.readBigUInt64BE(p + 2 + 1 + 32));
          ours.push({
            logId: b.subarray(p + 3, p + 35).toString('hex'),
            timestamp: new Date(ms - (ms % 1000)).toISOString().replace('.000Z', 'Z'),
          });
        }
      }
      scts += ours.length;
      if (JSON.stringify(ours) !== JSON.stringify(rec.scts)) {
        problems.push(`${rec.ocspSource}: ${JSON.stringify(ours)} vs ${JSON.stringify(rec.scts)}`);
      }
    }
    console.log(
      `OCSP responses: ${ocspRecords.length}; compared ${compared} (${scts} SCTs); cryptography ` +
        `refused ${ocspRecords
          .filter((r) => r.error !== undefined)
          .map((r) => `${r.ocspSource} (${r.error})`)
          .join(', ')}`,
    );
    expect(scts).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('summarises every certificate OpenSSL reads, with the same facts', () => {
    const failures: string[] = [];
    const refusedByOpenssl: string[] = [];
    let summarised = 0;
    let knownRefusals = 0;
    let alsoRefused = 0;
    for (const rec of records) {
      const label = `${rec.source}#${rec.index}`;
      const der = rec.der === null ? null : new Uint8Array(Buffer.from(rec.der, 'base64'));
      let ours: CertSummary | null = null;
      let error: X509Error | null = null;
      if (der !== null) {
        try {
          ours = summarizeCertificate(der);
        } catch (err) {
          if (!(err instanceof X509Error)) throw err;
          error = err;
        }
      }
      if (!rec.openssl.ok) {
        refusedByOpenssl.push(
          `${label}: OpenSSL "${rec.openssl.error}"; ours ${error === null ? 'summarised it' : `"${error.message}"`}`,
        );
        if (error !== null || der === null) alsoRefused++;
        continue;
      }
      if (ours === null || der === null) {
        const known = KNOWN_REFUSALS.find(
          (k) => k.source === rec.source && k.message.test(error?.message ?? ''),
        );
        if (known !== undefined) knownRefusals++;
        else failures.push(`${label}: OpenSSL reads it, we refuse: ${error?.message ?? 'no DER'}`);
        continue;
      }
      summarised++;
      if (rec.openssl.trailingBytes !== 0)
        failures.push(`${label}: OpenSSL left ${rec.openssl.trailingBytes} bytes`);
      for (const d of differences(rec, der, ours)) failures.push(`${label}: ${d}`);
    }
    console.log(
      [
        `x509 corpus (${summary.cryptography === undefined ? '' : `cryptography ${summary.cryptography}, `}${summary.openssl}):`,
        `  ${summary.counts.certificates} certificates; OpenSSL reads ${summary.counts.openssl}, cryptography ${summary.counts.pyca}`,
        `  we summarise ${summarised} of OpenSSL's ${summary.counts.openssl} (${knownRefusals} documented refusals)`,
        `  OpenSSL refuses ${refusedByOpenssl.length} (we refuse ${alsoRefused} of them too):`,
        ...refusedByOpenssl.map((r) => `    ${r}`),
        `  legitimate differences: ${JSON.stringify(LEGITIMATE)}`,
        `  not compared (no reference value): ${JSON.stringify(notCompared)}`,
        `  skipped files: ${JSON.stringify(summary.skippedFiles)}`,
        `  differences: ${failures.length}`,
      ].join('\n'),
    );
    expect(failures).toEqual([]);
    expect(summarised + knownRefusals).toBe(summary.counts.openssl);
  });
});
