/**
 * @module probe/tls-suites
 * The TLS cipher suites the protocol-policy probes offer, by IANA name (IANA "TLS Cipher Suites"
 * registry), and why a suite is weak. Data only.
 *
 * Weakness classes, worst first:
 * - `null`: no encryption at all (…_WITH_NULL_…): the traffic is readable.
 * - `anonymous`: no server authentication (DH_anon, ECDH_anon): anyone in the path can intercept.
 * - `export`: 40/56-bit export-grade keys (FREAK, Logjam): broken in hours.
 * - `rc4`: RFC 7465 §2: "TLS clients MUST NOT include RC4 cipher suites … TLS servers MUST NOT
 *   select an RC4 cipher suite".
 * - `des`: single DES, 56-bit keys (RFC 5469 removed it from TLS).
 * - `64-bit-block`: 3DES and IDEA, 64-bit blocks, SWEET32 (CVE-2016-2183); NIST SP 800-131A r2 no
 *   longer allows 3DES for new encryption.
 * The first three defeat TLS outright and are CRITICAL whatever `--weak-ciphers` says; the others
 * need a lot of traffic or a lot of work and follow `--weak-ciphers` (WARNING by default).
 *
 * Not flagged: CBC suites under TLS 1.0 (BEAST is mitigated in every client by 1/n-1 record
 * splitting; TLS 1.0 itself is what `--require-no-tls1` / `--min-tls` are for), and static-RSA key
 * exchange (no forward secrecy, but not breakable by an eavesdropper alone).
 */

export type WeaknessClass = 'null' | 'anonymous' | 'export' | 'rc4' | 'des' | '64-bit-block';

/** Classes that defeat TLS on their own: CRITICAL regardless of `--weak-ciphers`. */
export const BROKEN_CLASSES: ReadonlySet<WeaknessClass> = new Set(['null', 'anonymous', 'export']);

export const WEAKNESS_TEXT: Record<WeaknessClass, string> = {
  null: 'no encryption',
  anonymous: 'no server authentication',
  export: 'export-grade keys',
  rc4: 'RC4, prohibited by RFC 7465',
  des: 'single DES, 56-bit keys',
  '64-bit-block': '64-bit block cipher, SWEET32',
};

/** Weak suites (IANA code → name, class); the weak-cipher probe offers all of them. */
export const WEAK_SUITES: ReadonlyMap<number, { name: string; weakness: WeaknessClass }> = new Map(
  (
    [
      // NULL encryption
      [0x0001, 'TLS_RSA_WITH_NULL_MD5', 'null'],
      [0x0002, 'TLS_RSA_WITH_NULL_SHA', 'null'],
      [0x003b, 'TLS_RSA_WITH_NULL_SHA256', 'null'],
      [0xc001, 'TLS_ECDH_ECDSA_WITH_NULL_SHA', 'null'],
      [0xc006, 'TLS_ECDHE_ECDSA_WITH_NULL_SHA', 'null'],
      [0xc00b, 'TLS_ECDH_RSA_WITH_NULL_SHA', 'null'],
      [0xc010, 'TLS_ECDHE_RSA_WITH_NULL_SHA', 'null'],
      [0xc015, 'TLS_ECDH_anon_WITH_NULL_SHA', 'null'],
      // Anonymous key exchange
      [0x0018, 'TLS_DH_anon_WITH_RC4_128_MD5', 'anonymous'],
      [0x001b, 'TLS_DH_anon_WITH_3DES_EDE_CBC_SHA', 'anonymous'],
      [0x0034, 'TLS_DH_anon_WITH_AES_128_CBC_SHA', 'anonymous'],
      [0x003a, 'TLS_DH_anon_WITH_AES_256_CBC_SHA', 'anonymous'],
      [0x0046, 'TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA', 'anonymous'],
      [0x006c, 'TLS_DH_anon_WITH_AES_128_CBC_SHA256', 'anonymous'],
      [0x006d, 'TLS_DH_anon_WITH_AES_256_CBC_SHA256', 'anonymous'],
      [0x0089, 'TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA', 'anonymous'],
      [0x00a6, 'TLS_DH_anon_WITH_AES_128_GCM_SHA256', 'anonymous'],
      [0x00a7, 'TLS_DH_anon_WITH_AES_256_GCM_SHA384', 'anonymous'],
      [0x00bf, 'TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256', 'anonymous'],
      [0x00c5, 'TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256', 'anonymous'],
      [0xc016, 'TLS_ECDH_anon_WITH_RC4_128_SHA', 'anonymous'],
      [0xc017, 'TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA', 'anonymous'],
      [0xc018, 'TLS_ECDH_anon_WITH_AES_128_CBC_SHA', 'anonymous'],
      [0xc019, 'TLS_ECDH_anon_WITH_AES_256_CBC_SHA', 'anonymous'],
      // Export grade
      [0x0003, 'TLS_RSA_EXPORT_WITH_RC4_40_MD5', 'export'],
      [0x0006, 'TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5', 'export'],
      [0x0008, 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA', 'export'],
      [0x000b, 'TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA', 'export'],
      [0x000e, 'TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA', 'export'],
      [0x0011, 'TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA', 'export'],
      [0x0014, 'TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA', 'export'],
      [0x0017, 'TLS_DH_anon_EXPORT_WITH_RC4_40_MD5', 'export'],
      [0x0019, 'TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA', 'export'],
      // RC4
      [0x0004, 'TLS_RSA_WITH_RC4_128_MD5', 'rc4'],
      [0x0005, 'TLS_RSA_WITH_RC4_128_SHA', 'rc4'],
      [0xc002, 'TLS_ECDH_ECDSA_WITH_RC4_128_SHA', 'rc4'],
      [0xc007, 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'rc4'],
      [0xc00c, 'TLS_ECDH_RSA_WITH_RC4_128_SHA', 'rc4'],
      [0xc011, 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'rc4'],
      // Single DES
      [0x0009, 'TLS_RSA_WITH_DES_CBC_SHA', 'des'],
      [0x000c, 'TLS_DH_DSS_WITH_DES_CBC_SHA', 'des'],
      [0x000f, 'TLS_DH_RSA_WITH_DES_CBC_SHA', 'des'],
      [0x0012, 'TLS_DHE_DSS_WITH_DES_CBC_SHA', 'des'],
      [0x0015, 'TLS_DHE_RSA_WITH_DES_CBC_SHA', 'des'],
      // 64-bit blocks: 3DES, IDEA
      [0x0007, 'TLS_RSA_WITH_IDEA_CBC_SHA', '64-bit-block'],
      [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0x000d, 'TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0x0010, 'TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0x0013, 'TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0x0016, 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0xc003, 'TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0xc008, 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0xc00d, 'TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
      [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', '64-bit-block'],
    ] as const
  ).map(([code, name, weakness]) => [code, { name, weakness }]),
);

/** Names of the acceptable suites the version probes offer (besides the weak ones above). */
const GOOD_SUITE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x1301, 'TLS_AES_128_GCM_SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'],
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA'],
]);

/** The IANA name of a suite, or its code point in hex when we do not know it. */
export function suiteName(code: number): string {
  return (
    WEAK_SUITES.get(code)?.name ?? GOOD_SUITE_NAMES.get(code) ?? `0x${code.toString(16).padStart(4, '0')}`
  );
}

/**
 * What a version probe offers: every strong suite a server of that version could pick (AEAD suites
 * are TLS 1.2-only and ignored below), then the classic CBC ones, then 3DES and RC4, so a server that
 * speaks the version at all finds a suite in common and answers with a ServerHello. Whatever it
 * picks is judged too: an old-version server that chooses 3DES gets a `weak-cipher` finding.
 */
export const VERSION_PROBE_SUITES: readonly number[] = [
  ...[...GOOD_SUITE_NAMES.keys()].filter((c) => c >> 8 !== 0x13),
  0x000a, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
  0xc012, // TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
  0x0005, // TLS_RSA_WITH_RC4_128_SHA
  0xc011, // TLS_ECDHE_RSA_WITH_RC4_128_SHA
];

/** RFC 8446 §B.4: the TLS 1.3 suites. */
export const TLS13_SUITES: readonly number[] = [0x1301, 0x1302, 0x1303];
