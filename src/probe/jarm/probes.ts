/**
 * @module probe/jarm/probes
 * What the ten JARM probes are, as data: jarm.py's `jarm_details` list (salesforce/jarm, "Version
 * 1.0"), its cipher-suite and ALPN lists, the GREASE values and `cipher_mung` (here `reorder`).
 *
 * Why data apart from bytes: the fingerprint is defined by these choices — record/client version
 * (RFC 5246 §6.2.1, §7.4.1.2; TLS 1.3 as in RFC 8446 §4.1.2), cipher-suite order, GREASE (RFC 8701),
 * the ALPN list (RFC 7301) and the order of ALPN names and versions — so they read best as one table
 * beside jarm.py's; `client-hello.ts` and `template.ts` only turn them into bytes.
 */

// ---------------------------------------------------------------------------------------------
// Probe definitions

/** The ClientHello version: record-layer and `client_version` bytes (RFC 5246 §6.2.1, §7.4.1.2). */
export type JarmVersion = 'SSLv3' | 'TLS_1' | 'TLS_1.1' | 'TLS_1.2' | 'TLS_1.3';
/** `ALL` includes the five TLS 1.3 suites (0x1301–0x1305); `NO1.3` leaves them out. */
export type JarmCipherList = 'ALL' | 'NO1.3';
/** How a list (cipher suites, ALPN names, versions) is reordered before it goes on the wire. */
export type JarmOrder = 'FORWARD' | 'REVERSE' | 'TOP_HALF' | 'BOTTOM_HALF' | 'MIDDLE_OUT';
/**
 * Whether a supported_versions extension (RFC 8446 §4.2.1) is sent: `1.2_SUPPORT` lists TLS 1.0–1.2,
 * `1.3_SUPPORT` TLS 1.0–1.3, `NO_SUPPORT` sends none (unless the version is TLS_1.3, which always
 * sends the 1.0–1.3 list).
 */
export type JarmSupportedVersions = '1.2_SUPPORT' | '1.3_SUPPORT' | 'NO_SUPPORT';

/** One of the ten probes, in jarm.py's own vocabulary (its `jarm_details` list, minus host/port). */
export interface JarmProbeSpec {
  /** jarm.py's variable name for the probe, for diagnostics. */
  name: string;
  version: JarmVersion;
  ciphers: JarmCipherList;
  cipherOrder: JarmOrder;
  /** GREASE (RFC 8701) in the cipher list, as the first extension, in key_share and supported_versions. */
  grease: boolean;
  /** `RARE_APLN`: the ALPN list without http/1.1 and h2. */
  rareAlpn: boolean;
  supportedVersions: JarmSupportedVersions;
  /** Order of the ALPN names and of the supported_versions list (only FORWARD and REVERSE are used). */
  extensionOrder: JarmOrder;
}

/** The ten probes in the order jarm.py sends them; the fingerprint keeps this order. */
export const JARM_PROBES: readonly JarmProbeSpec[] = [
  probe('tls1_2_forward', 'TLS_1.2', 'ALL', 'FORWARD', false, false, '1.2_SUPPORT', 'REVERSE'),
  probe('tls1_2_reverse', 'TLS_1.2', 'ALL', 'REVERSE', false, false, '1.2_SUPPORT', 'FORWARD'),
  probe('tls1_2_top_half', 'TLS_1.2', 'ALL', 'TOP_HALF', false, false, 'NO_SUPPORT', 'FORWARD'),
  probe('tls1_2_bottom_half', 'TLS_1.2', 'ALL', 'BOTTOM_HALF', false, true, 'NO_SUPPORT', 'FORWARD'),
  probe('tls1_2_middle_out', 'TLS_1.2', 'ALL', 'MIDDLE_OUT', true, true, 'NO_SUPPORT', 'REVERSE'),
  // QUIRK (naming): jarm.py calls this one "tls1_1_middle_out" but its cipher order is FORWARD.
  probe('tls1_1_middle_out', 'TLS_1.1', 'ALL', 'FORWARD', false, false, 'NO_SUPPORT', 'FORWARD'),
  probe('tls1_3_forward', 'TLS_1.3', 'ALL', 'FORWARD', false, false, '1.3_SUPPORT', 'REVERSE'),
  probe('tls1_3_reverse', 'TLS_1.3', 'ALL', 'REVERSE', false, false, '1.3_SUPPORT', 'FORWARD'),
  probe('tls1_3_invalid', 'TLS_1.3', 'NO1.3', 'FORWARD', false, false, '1.3_SUPPORT', 'FORWARD'),
  probe('tls1_3_middle_out', 'TLS_1.3', 'ALL', 'MIDDLE_OUT', true, false, '1.3_SUPPORT', 'REVERSE'),
];

function probe(
  name: string,
  version: JarmVersion,
  ciphers: JarmCipherList,
  cipherOrder: JarmOrder,
  grease: boolean,
  rareAlpn: boolean,
  supportedVersions: JarmSupportedVersions,
  extensionOrder: JarmOrder,
): JarmProbeSpec {
  return { name, version, ciphers, cipherOrder, grease, rareAlpn, supportedVersions, extensionOrder };
}

/**
 * jarm.py's cipher-suite list ("ALL"), in its order. The order is the fingerprint's input: a server
 * that honours the client's preference answers differently to each reordering.
 */
export const CIPHERS_ALL: readonly number[] = [
  0x0016, 0x0033, 0x0067, 0xc09e, 0xc0a2, 0x009e, 0x0039, 0x006b, 0xc09f, 0xc0a3, 0x009f, 0x0045, 0x00be,
  0x0088, 0x00c4, 0x009a, 0xc008, 0xc009, 0xc023, 0xc0ac, 0xc0ae, 0xc02b, 0xc00a, 0xc024, 0xc0ad, 0xc0af,
  0xc02c, 0xc072, 0xc073, 0xcca9, 0x1302, 0x1301, 0xcc14, 0xc007, 0xc012, 0xc013, 0xc027, 0xc02f, 0xc014,
  0xc028, 0xc030, 0xc060, 0xc061, 0xc076, 0xc077, 0xcca8, 0x1305, 0x1304, 0x1303, 0xcc13, 0xc011, 0x000a,
  0x002f, 0x003c, 0xc09c, 0xc0a0, 0x009c, 0x0035, 0x003d, 0xc09d, 0xc0a1, 0x009d, 0x0041, 0x00ba, 0x0084,
  0x00c0, 0x0007, 0x0004, 0x0005,
];

/** "NO1.3": the same list without the TLS 1.3 suites (RFC 8446 §B.4), for the `tls1_3_invalid` probe. */
export const CIPHERS_NO_TLS13: readonly number[] = CIPHERS_ALL.filter((c) => c >> 8 !== 0x13);

/** ALPN protocol names (RFC 7301 §3.1), "weakest to strongest" as jarm.py orders them. */
export const ALPN_ALL: readonly string[] = [
  'http/0.9',
  'http/1.0',
  'http/1.1',
  'spdy/1',
  'spdy/2',
  'spdy/3',
  'h2',
  'h2c',
  'hq',
];
/** `RARE_APLN`: without the two names nearly every server knows (http/1.1, h2). */
export const ALPN_RARE: readonly string[] = ALPN_ALL.filter((p) => p !== 'http/1.1' && p !== 'h2');

/** The 16 GREASE values of RFC 8701 §2 (0x0a0a, 0x1a1a, … 0xfafa). */
export const GREASE_VALUES: readonly number[] = Array.from(
  { length: 16 },
  (_, i) => ((i << 4) | 0xa) * 0x101,
);

/**
 * Reorders a list the way jarm.py's `cipher_mung` does (used for suites, ALPN names and versions):
 * - REVERSE: last to first;
 * - BOTTOM_HALF: the second half (for an odd length, without the middle element);
 * - TOP_HALF: the first half, reversed, led by the middle element when the length is odd;
 * - MIDDLE_OUT: from the middle outwards, alternating after-middle then before-middle
 *   (odd length: the middle element first).
 */
export function reorder<T>(list: readonly T[], order: JarmOrder): T[] {
  const n = list.length;
  const half = Math.floor(n / 2);
  const at = (i: number): T => list[i] as T;
  switch (order) {
    case 'FORWARD':
      return [...list];
    case 'REVERSE':
      return [...list].reverse();
    case 'BOTTOM_HALF':
      return list.slice(n % 2 === 1 ? half + 1 : half);
    case 'TOP_HALF': {
      const out = n % 2 === 1 ? [at(half)] : [];
      return out.concat(reorder(reorder(list, 'REVERSE'), 'BOTTOM_HALF'));
    }
    case 'MIDDLE_OUT': {
      const out: T[] = [];
      if (n % 2 === 1) {
        out.push(at(half));
        for (let i = 1; i <= half; i++) out.push(at(half + i), at(half - i));
      } else {
        for (let i = 1; i <= half; i++) out.push(at(half - 1 + i), at(half - i));
      }
      return out;
    }
  }
}
