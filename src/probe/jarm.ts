/**
 * @module probe/jarm
 * The pure half of JARM, the active TLS server fingerprint of salesforce/jarm (jarm.py, "Version
 * 1.0", the current upstream revision): the ten ClientHello probes, the parse of each reply into a
 * `cipher|version|alpn|extensions` string, and the fuzzy hash of the ten strings. This file keeps
 * the import path its callers use; the work is in `jarm/`, one file per step:
 * - `jarm/probes.ts`: the ten probe specs, jarm.py's cipher and ALPN lists, GREASE, `reorder`;
 * - `jarm/template.ts`: a probe's ClientHello layout, compiled once per spec;
 * - `jarm/client-hello.ts`: the probe bytes with server name and randomness (`buildJarmProbe(s)`);
 * - `jarm/server-hello.ts`: the reply → `cipher|version|alpn|extensions` (`parseJarmServerHello`);
 * - `jarm/hash.ts`: the ten strings → the 62-character JARM (`jarmHash`).
 *
 * Why a byte-exact re-implementation instead of "a JARM-like" fingerprint: a JARM is only useful
 * when it can be compared with fingerprints taken by other tools (threat-intelligence feeds,
 * Shodan, the jabber.ru write-ups all quote jarm.py hashes). So every probe is built exactly as
 * jarm.py builds it and every reply is read exactly as jarm.py reads it, including where jarm.py
 * deviates from what RFC 5246 / RFC 8446 say a ServerHello is. Each such quirk is marked QUIRK there.
 *
 * How JARM works: ten ClientHellos that differ in record/client version (TLS 1.1, 1.2, 1.3 as in
 * RFC 8446 §4.1.2 with a 1.2 legacy_version and a supported_versions extension), cipher-suite
 * order (forward, reverse, top half, bottom half, middle-out), GREASE (RFC 8701), the ALPN list
 * (RFC 7301) and the order of ALPN names and versions. Each server stack picks differently, so the
 * ten choices (cipher suite, version, ALPN and the list of extension types in the ServerHello)
 * characterise the TLS library and its configuration, not the certificate.
 *
 * The network half (connections, STARTTLS, timeouts) is src/probe/jarm-scan.ts.
 */
export type {
  JarmCipherList,
  JarmOrder,
  JarmProbeSpec,
  JarmSupportedVersions,
  JarmVersion,
} from './jarm/probes.js';
export { GREASE_VALUES, JARM_PROBES, reorder } from './jarm/probes.js';
export type { JarmRandomness } from './jarm/client-hello.js';
export { buildJarmProbe, buildJarmProbes, randomJarmRandomness } from './jarm/client-hello.js';
export {
  JARM_EMPTY_PROBE,
  JARM_EMPTY_RAW,
  JARM_READ_LIMIT,
  jarmReplyDecided,
  parseJarmServerHello,
} from './jarm/server-hello.js';
export { JARM_ZERO_HASH, jarmHash } from './jarm/hash.js';
