/**
 * @module probe/jarm/server-hello
 * Reads the server's reply to one JARM probe into jarm.py's per-probe string
 * `cipher|version|alpn|extensions` (jarm.py's `read_packet` and `extract_extension_info`).
 *
 * Why a byte-exact copy of jarm.py's reader rather than a ServerHello parser (RFC 5246 §7.4.1.3,
 * RFC 8446 §4.1.3): a JARM is only useful when it equals the hash other tools compute
 * (threat-intelligence feeds, Shodan, the jabber.ru write-ups all quote jarm.py hashes), so every
 * reply is read exactly as jarm.py reads it, including where jarm.py deviates from what a
 * ServerHello is. Each such quirk is listed at {@link parseJarmServerHello}. `src/probe/tls-hello/`
 * is the strict parser, for the SCT probe.
 */

/** jarm.py reads one `recv(1484)`: nothing past this many bytes can influence a probe's result. */
export const JARM_READ_LIMIT = 1484;
/** A probe that got no usable ServerHello. */
export const JARM_EMPTY_PROBE = '|||';
/** The pre-hash string of a scan where no probe got a usable ServerHello. */
export const JARM_EMPTY_RAW = Array.from({ length: 10 }, () => JARM_EMPTY_PROBE).join(',');

/**
 * Whether `bytes` (what the server sent so far) already decides the probe's result, so the reader
 * can stop: the first byte is not a handshake record (alert or garbage), the first handshake
 * message is not a ServerHello, the whole first record has arrived, or the read limit is reached.
 * jarm.py instead parses whatever its single recv() returned; on a network that delivers the first
 * record in one piece (every loopback or LAN case) that is the same input.
 */
export function jarmReplyDecided(bytes: Uint8Array): boolean {
  if (bytes.length >= JARM_READ_LIMIT) return true;
  if (bytes.length === 0) return false;
  if (bytes[0] !== 22) return true;
  if (bytes.length < 6) return false;
  if (bytes[5] !== 2) return true;
  const recordEnd = 5 + (((bytes[3] ?? 0) << 8) | (bytes[4] ?? 0));
  return bytes.length >= recordEnd;
}

/*
 * jarm.py's results depend on WHICH Python exception its offset arithmetic raises, so the reader
 * mirrors them with two classes. They are control flow inside this file only, never errors of
 * certvigil: `readExtensions` catches PyIndexError, and `parseJarmServerHello` catches everything
 * (jarm.py's catch-all), so neither (nor any other throw) leaves this module — which is why they
 * extend plain Error and not CertvigilError, and are not exported.
 */
/** Python's IndexError: caught by the extension reader (→ "|") and by the reply reader (→ "|||"). */
class PyIndexError extends Error {}
/** Any other Python exception (ValueError, AttributeError, UnicodeDecodeError): only "|||" catches it. */
class PyOtherError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/**
 * Reads the reply to one probe into jarm.py's per-probe string `cipher|version|alpn|extensions`
 * (e.g. `c02f|0303|h2|ff01-0000-0010-0017`), or `|||` when there is nothing to read. `null` stands
 * for "no reply at all" (connection refused or reset). Never throws.
 *
 * This mirrors jarm.py's `read_packet` and `extract_extension_info` offset for offset, with Python's
 * semantics: an index past the end raises IndexError, a slice past the end is silently short. The
 * QUIRKs it replicates (all deliberate, so hashes match jarm.py's):
 *
 * 1. No record-layer parsing: byte 0 = 21 (alert) gives `|||`; byte 0 = 22 and byte 5 = 2 (first
 *    handshake message type ServerHello) is parsed at fixed offsets assuming a 5-byte record header
 *    and a 4-byte handshake header; anything else (garbage, another handshake type) is `|||`.
 * 2. HelloRetryRequest (RFC 8446 §4.1.3) is a ServerHello with a special random, and jarm.py does
 *    not look at the random: an HRR is read like any ServerHello (its cipher, 0303 and its
 *    extension types, typically `002b-0033`), it is NOT `|||`.
 * 3. The version field is the ServerHello's legacy_version (bytes 9–10), so TLS 1.3 shows as 0303;
 *    the chosen TLS 1.3 version is visible only through the `002b` extension in the list.
 * 4. Short data: a reply shorter than 44 bytes (session-id length missing) is `|||`; a reply that
 *    stops inside the cipher or version field yields a shortened hex field (1 byte → 2 digits,
 *    none → empty) because Python slices do not raise.
 * 5. Extensions, read at fixed offsets after the session id:
 *    - byte (sid+47), the high byte of the extensions length, missing → `cipher|version||`;
 *    - that byte = 11 (heuristic: a Certificate message follows a ServerHello without extensions)
 *      → `cipher|version||`;
 *    - bytes (sid+50..52) = 0e ac 0b, or absolute bytes 82..84 = 0f f0 0b → `cipher|version||`
 *      (heuristics for ServerHelloDone/CertificateVerify lookalikes, absolute offset included);
 *    - sid+42 >= the record length (no room for extensions) → `cipher|version||`;
 *    - the extensions length is read from 2 bytes, or from 1 if only 1 is there; 0 present → `|||`
 *      (Python's int('') raises ValueError, which only the outer handler catches);
 *    - the walk stops at (start + length − 1), one byte early; each extension's 2-byte type is
 *      taken even if cut short; a missing length field → `|||`; a cut-short value is kept short;
 * 6. ALPN: the first extension of type 0x0010; its value minus 3 bytes (list length and the first
 *    name's length byte), decoded as strict UTF-8 — so a second name would appear with its length
 *    byte. An ALPN extension with an empty value → `|||` (jarm.py stores "" and calls .decode() on
 *    a str: AttributeError); invalid UTF-8 → `|||` (UnicodeDecodeError).
 * 7. Extension types are listed in the order sent, hex, joined with "-"; duplicates are kept.
 */
export function parseJarmServerHello(bytes: Uint8Array | null): string {
  if (bytes === null) return JARM_EMPTY_PROBE;
  const data = bytes.subarray(0, JARM_READ_LIMIT);
  try {
    return readServerHello(data);
  } catch {
    // read_packet's catch-all: IndexError, ValueError, AttributeError, UnicodeDecodeError …
    return JARM_EMPTY_PROBE;
  }
}

function byteAt(data: Uint8Array, i: number): number {
  const b = data[i];
  if (b === undefined) throw new PyIndexError(`index ${i}`);
  return b;
}

/** Python's int(codecs.encode(slice, 'hex'), 16): big-endian value; an empty slice raises. */
function intOfSlice(slice: Uint8Array): number {
  if (slice.length === 0) throw new PyOtherError("int('', 16)");
  let v = 0;
  for (const b of slice) v = v * 256 + b;
  return v;
}

function readServerHello(data: Uint8Array): string {
  const first = byteAt(data, 0);
  if (first === 21) return JARM_EMPTY_PROBE;
  if (first !== 22 || byteAt(data, 5) !== 2) return JARM_EMPTY_PROBE;
  const recordLength = intOrZero(data.subarray(3, 5));
  const sid = byteAt(data, 43);
  const cipher = hex(data.subarray(sid + 44, sid + 46));
  const version = hex(data.subarray(9, 11));
  return `${cipher}|${version}|${readExtensions(data, sid, recordLength)}`;
}

/** Python's int.from_bytes(slice, 'big'): 0 for an empty slice. */
function intOrZero(slice: Uint8Array): number {
  return slice.length === 0 ? 0 : intOfSlice(slice);
}

function readExtensions(data: Uint8Array, sid: number, recordLength: number): string {
  const eq = (from: number, expected: readonly number[]): boolean => {
    const s = data.subarray(from, from + expected.length);
    return s.length === expected.length && expected.every((b, i) => s[i] === b);
  };
  try {
    if (byteAt(data, sid + 47) === 11) return '|';
    if (eq(sid + 50, [0x0e, 0xac, 0x0b]) || eq(82, [0x0f, 0xf0, 0x0b])) return '|';
    if (sid + 42 >= recordLength) return '|';
    let count = sid + 49;
    const length = intOfSlice(data.subarray(sid + 47, sid + 49));
    const maximum = length + (count - 1);
    const types: Uint8Array[] = [];
    const values: (Uint8Array | 'empty')[] = [];
    while (count < maximum) {
      types.push(data.subarray(count, count + 2));
      const extLength = intOfSlice(data.subarray(count + 2, count + 4));
      if (extLength === 0) {
        count += 4;
        values.push('empty');
      } else {
        values.push(data.subarray(count + 4, count + 4 + extLength));
        count += extLength + 4;
      }
    }
    let alpn = '';
    const at = types.findIndex((t) => t.length === 2 && t[0] === 0x00 && t[1] === 0x10);
    if (at >= 0) {
      const value = values[at];
      // jarm.py keeps "" (a str) for an empty extension; str has no .decode(): AttributeError.
      if (value === undefined || value === 'empty') throw new PyOtherError('str.decode');
      try {
        alpn = utf8.decode(value.subarray(3));
      } catch {
        throw new PyOtherError('UnicodeDecodeError');
      }
    }
    return `${alpn}|${types.map(hex).join('-')}`;
  } catch (err) {
    if (err instanceof PyIndexError) return '|';
    throw err;
  }
}
