/**
 * @module probe/jarm/hash
 * The fuzzy hash of jarm.py (salesforce/jarm, "Version 1.0": `jarm_hash`, `cipher_bytes`,
 * `version_byte`): the ten per-probe strings of `server-hello.ts` → the 62-character JARM.
 *
 * Why its own cipher table: the hash codes a suite by its position in jarm.py's sorted list, not in
 * the (unsorted) list the probes send, so a fingerprint equals jarm.py's only with this exact table.
 */
import { createHash } from 'node:crypto';
import { JARM_EMPTY_RAW } from './server-hello.js';

export const JARM_ZERO_HASH = '0'.repeat(62);

/**
 * The hash's cipher table: a suite's code is its 1-based position here in two hex digits; a suite
 * not listed gets one past the end (0x46), no suite at all gets "00". Sorted, unlike CIPHERS_ALL.
 */
const HASH_CIPHER_ORDER: readonly number[] = [
  0x0004, 0x0005, 0x0007, 0x000a, 0x0016, 0x002f, 0x0033, 0x0035, 0x0039, 0x003c, 0x003d, 0x0041, 0x0045,
  0x0067, 0x006b, 0x0084, 0x0088, 0x009a, 0x009c, 0x009d, 0x009e, 0x009f, 0x00ba, 0x00be, 0x00c0, 0x00c4,
  0xc007, 0xc008, 0xc009, 0xc00a, 0xc011, 0xc012, 0xc013, 0xc014, 0xc023, 0xc024, 0xc027, 0xc028, 0xc02b,
  0xc02c, 0xc02f, 0xc030, 0xc060, 0xc061, 0xc072, 0xc073, 0xc076, 0xc077, 0xc09c, 0xc09d, 0xc09e, 0xc09f,
  0xc0a0, 0xc0a1, 0xc0a2, 0xc0a3, 0xc0ac, 0xc0ad, 0xc0ae, 0xc0af, 0xcc13, 0xcc14, 0xcca8, 0xcca9, 0x1301,
  0x1302, 0x1303, 0x1304, 0x1305,
];

/**
 * The 62-character JARM: for each of the ten probes, 2 hex digits for the chosen cipher suite (its
 * position in jarm.py's table) and 1 character for the version (a–f for the last digit 0–5 of the
 * legacy_version hex, "0" when empty) — 30 characters — then the first 32 hex digits of the SHA-256
 * of all ALPN and extension fields concatenated (UTF-8). All ten probes empty → 62 zeros.
 *
 * Where jarm.py itself would crash (a raw string that does not split into `a|b|c|d` parts, or a
 * version field whose 4th character is not a digit 0–5: only possible for replies cut inside the
 * version or non-TLS version bytes) there is no reference value; this function then treats a
 * missing part as empty and such a version as "0" rather than failing the whole scan.
 */
export function jarmHash(raw: string): string {
  if (raw === JARM_EMPTY_RAW) return JARM_ZERO_HASH;
  let fuzzy = '';
  let alpnsAndExtensions = '';
  for (const handshake of raw.split(',')) {
    const [cipher = '', version = '', alpn = '', exts = ''] = handshake.split('|');
    fuzzy += cipherCode(cipher) + versionCode(version);
    alpnsAndExtensions += alpn + exts;
  }
  return fuzzy + createHash('sha256').update(alpnsAndExtensions, 'utf8').digest('hex').slice(0, 32);
}

function cipherCode(cipher: string): string {
  if (cipher === '') return '00';
  let index = HASH_CIPHER_ORDER.findIndex((c) => c.toString(16).padStart(4, '0') === cipher);
  if (index < 0) index = HASH_CIPHER_ORDER.length;
  return (index + 1).toString(16).padStart(2, '0');
}

function versionCode(version: string): string {
  if (version === '') return '0';
  const digit = version.slice(3, 4);
  return /^[0-5]$/.test(digit) ? ('abcdef'[Number(digit)] ?? '0') : '0';
}
