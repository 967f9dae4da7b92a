/**
 * Zone files for the DNS test stack, and their DNSSEC keys and signatures (ldns-keygen,
 * ldns-signzone from Debian's ldnsutils). Keys are made fresh for every stack: ECDSA P-256 keys
 * take milliseconds, and nothing secret or stateful is left in the repository.
 *
 * The tree (all served by Knot unless noted):
 *
 *   test.                       unsigned; delegates caa.test. (no DS: the chain of trust starts at
 *                               caa.test. itself, whose key is Unbound's trust anchor)
 *   caa.test.                   signed; the vector records + extra records; delegates:
 *     servfail.caa.test.        insecure; Knot is configured for it but its zone file is broken
 *     refused.caa.test.         insecure; served by NSD, which does not know the zone
 *     blackhole.caa.test.       insecure; "served" by a socket that never answers
 *     signed.caa.test.          secure (DS in caa.test.); delegates, each with a DS:
 *       ok.signed.caa.test.       validly signed, CAA 0 issue "letsencrypt.org"
 *       expired.signed.caa.test.  signed with signatures that expired in 2020
 *       missing.signed.caa.test.  served unsigned (bogus: the parent says it is signed)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './processes.js';

/** The one name server name every zone and delegation uses; Unbound never needs its address (stub-zones). */
export const NS_NAME = 'ns.test.';

export interface ZoneKeys {
  zone: string;
  /** Base names (K<zone>+013+<tag>, without extension) as ldns-signzone wants them, absolute paths. */
  kskBase: string;
  zskBase: string;
  /** DS record (SHA-256 digest) of the KSK, one zone-file line with an absolute owner name. */
  ds: string;
}

export interface SignatureWindow {
  inception: Date;
  expiration: Date;
}

/** A window that is valid now: back-dated a day (clock skew) and good for ten years. Ten, not more:
 * RRSIG times are compared with serial-number arithmetic (RFC 4034 §3.1.5), so a window must stay
 * well within 68 years of now. */
export function validWindow(now = new Date()): SignatureWindow {
  const day = 24 * 60 * 60 * 1000;
  return { inception: new Date(now.getTime() - day), expiration: new Date(now.getTime() + 3650 * day) };
}

/** Signatures valid only in January 2020: expired, but close enough to now for serial arithmetic. */
export const EXPIRED_WINDOW: SignatureWindow = {
  inception: new Date('2020-01-01T00:00:00Z'),
  expiration: new Date('2020-02-01T00:00:00Z'),
};

/** YYYYMMDDHHMMSS in UTC, the date format of ldns-signzone -i/-e. */
function ldnsTime(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, '')
    .replace(/[-T:]/g, '');
}

/**
 * Zone-file text: $ORIGIN, $TTL, SOA and apex NS, then `records` (owner names relative to the
 * origin, as in test/vectors/caa-cases.json). Short negative TTL (SOA minimum) so that a cached
 * NXDOMAIN/NODATA does not outlive much.
 */
export function zoneText(origin: string, records: readonly string[]): string {
  return [
    `$ORIGIN ${origin}`,
    '$TTL 300',
    `@ SOA ${NS_NAME} hostmaster.test. 1 3600 600 86400 5`,
    `@ NS ${NS_NAME}`,
    ...records,
    '',
  ].join('\n');
}

/** A delegation: NS, plus the child's DS when the child is meant to be signed. */
export function delegation(label: string, child?: ZoneKeys): string[] {
  const lines = [`${label} NS ${NS_NAME}`];
  if (child !== undefined) lines.push(child.ds);
  return lines;
}

/**
 * Generates a KSK and a ZSK (ECDSAP256SHA256, algorithm 13) for `zone` in `dir`. Each key gets a
 * directory of its own: ldns-keygen names files by key tag, and two keys of one zone could share a tag.
 */
export async function generateKeys(dir: string, zone: string): Promise<ZoneKeys> {
  const make = async (kind: 'ksk' | 'zsk'): Promise<string> => {
    const keyDir = join(dir, `${zone}${kind}`);
    await mkdir(keyDir, { recursive: true });
    const args = ['-a', 'ECDSAP256SHA256', ...(kind === 'ksk' ? ['-k'] : []), zone];
    const base = (await runTool('ldns-keygen', args, keyDir)).trim();
    if (!/^K[\w.-]+\+013\+\d+$/.test(base)) throw new Error(`unexpected ldns-keygen output: ${base}`);
    return join(keyDir, base);
  };
  const [kskBase, zskBase] = await Promise.all([make('ksk'), make('zsk')]);
  // ldns-keygen writes K....ds next to the key; make it explicitly with SHA-256 so we do not depend on that.
  const ds = (await runTool('ldns-key2ds', ['-n', '-2', `${kskBase}.key`], dir)).trim();
  if (!/\sDS\s/.test(ds)) throw new Error(`unexpected ldns-key2ds output: ${ds}`);
  return { zone, kskBase, zskBase, ds };
}

/**
 * Signs `zoneFile` (NSEC, KSK signs the DNSKEY RRset, ZSK everything else) and returns the path of
 * the signed file. ldns-signzone adds the DNSKEY records itself.
 */
export async function signZone(
  dir: string,
  zoneFile: string,
  keys: ZoneKeys,
  window: SignatureWindow,
): Promise<string> {
  const signedFile = `${zoneFile}.signed`;
  await runTool(
    'ldns-signzone',
    [
      '-o',
      keys.zone,
      '-f',
      signedFile,
      '-i',
      ldnsTime(window.inception),
      '-e',
      ldnsTime(window.expiration),
      zoneFile,
      keys.kskBase,
      keys.zskBase,
    ],
    dir,
  );
  return signedFile;
}

export interface ZoneFiles {
  /** zone name (absolute, lower case) → zone file Knot should load */
  knotZones: Map<string, string>;
  /** DS of the caa.test. KSK: Unbound's trust anchor */
  trustAnchor: string;
}

export const BROKEN_ZONE = 'servfail.caa.test.';

/**
 * Writes every zone of the tree above into `dir` (keys under `dir/keys`) and returns what Knot and
 * Unbound need. Children are signed first: their DS records go into the parent before it is signed.
 */
export async function buildZones(
  dir: string,
  caaRecords: readonly string[],
  extraRecords: readonly string[],
  insecureRecords: readonly string[] = [],
): Promise<ZoneFiles> {
  const keyDir = join(dir, 'keys');
  await mkdir(keyDir, { recursive: true });
  const write = async (zone: string, records: readonly string[]): Promise<string> => {
    const file = join(dir, `${zone}zone`);
    await writeFile(file, zoneText(zone, records));
    return file;
  };
  const valid = validWindow();

  const [caaKeys, signedKeys, okKeys, expiredKeys, missingKeys] = await Promise.all(
    [
      'caa.test.',
      'signed.caa.test.',
      'ok.signed.caa.test.',
      'expired.signed.caa.test.',
      'missing.signed.caa.test.',
    ].map((zone) => generateKeys(keyDir, zone)),
  );
  // TypeScript cannot see that the array has five elements.
  if (!caaKeys || !signedKeys || !okKeys || !expiredKeys || !missingKeys)
    throw new Error('key generation failed');

  const [okFile, expiredFile, missingFile, brokenFile, testFile] = await Promise.all([
    write('ok.signed.caa.test.', ['@ CAA 0 issue "letsencrypt.org"']).then((f) =>
      signZone(keyDir, f, okKeys, valid),
    ),
    // Expired signatures and no CAA: a validator must answer SERVFAIL, not "no CAA, anyone may issue".
    write('expired.signed.caa.test.', ['www A 192.0.2.1']).then((f) =>
      signZone(keyDir, f, expiredKeys, EXPIRED_WINDOW),
    ),
    // Deliberately not signed although signed.caa.test. publishes a DS for it (missingKeys.ds).
    write('missing.signed.caa.test.', ['www A 192.0.2.1']),
    // A zone file Knot cannot parse: Knot then answers SERVFAIL for the zone (checked in the test).
    writeFile(
      join(dir, `${BROKEN_ZONE}zone`),
      `$ORIGIN ${BROKEN_ZONE}\n@ SOA this is not a valid SOA record\n`,
    ).then(() => join(dir, `${BROKEN_ZONE}zone`)),
    write('test.', [
      `${NS_NAME} A 127.0.0.1`,
      // No DS: test. is unsigned and Unbound's trust anchor sits at caa.test. itself.
      ...delegation('caa'),
      ...insecureRecords,
    ]),
  ]);

  const signedFile = await signZone(
    keyDir,
    await write('signed.caa.test.', [
      ...delegation('ok', okKeys),
      ...delegation('expired', expiredKeys),
      ...delegation('missing', missingKeys),
    ]),
    signedKeys,
    valid,
  );

  const caaFile = await signZone(
    keyDir,
    await write('caa.test.', [
      ...caaRecords,
      ...extraRecords,
      // Insecure delegations (NS, no DS; the NSEC of the signed parent proves there is no DS).
      ...delegation('servfail'),
      ...delegation('refused'),
      ...delegation('blackhole'),
      ...delegation('signed', signedKeys),
    ]),
    caaKeys,
    valid,
  );

  return {
    knotZones: new Map([
      ['test.', testFile],
      ['caa.test.', caaFile],
      ['signed.caa.test.', signedFile],
      ['ok.signed.caa.test.', okFile],
      ['expired.signed.caa.test.', expiredFile],
      ['missing.signed.caa.test.', missingFile],
      [BROKEN_ZONE, brokenFile],
    ]),
    trustAnchor: caaKeys.ds,
  };
}

/** The `records` of test/vectors/caa-cases.json (owner names relative to caa.test.). */
export async function loadVectorRecords(vectorsFile: string): Promise<string[]> {
  const parsed: unknown = JSON.parse(await readFile(vectorsFile, 'utf8'));
  const records = (parsed as { records?: unknown }).records;
  if (!Array.isArray(records) || !records.every((r): r is string => typeof r === 'string')) {
    throw new Error(`${vectorsFile}: "records" is not an array of strings`);
  }
  return records;
}
