/**
 * @module probe/starttls/ldap
 * LDAP StartTLS: RFC 4511 §4.12 and §4.14 (extended operation), X.690 BER (port 389).
 */
import type { Conversation } from './conversation.js';
import { MAX_REPLY_BYTES, hex, quote } from './conversation.js';

/**
 * RFC 4511 §4.14.1: LDAPMessage { messageID 1, ExtendedRequest [APPLICATION 23] { requestName [0]
 * "1.3.6.1.4.1.1466.20037" } }, in BER (X.690 §8), fixed so written out by hand.
 */
const LDAP_STARTTLS_OID = '1.3.6.1.4.1.1466.20037';
export const LDAP_STARTTLS_REQUEST = Buffer.concat([
  Buffer.from([0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16]),
  Buffer.from(LDAP_STARTTLS_OID, 'latin1'),
]);

/** RFC 4511 §4.1.9 result codes a StartTLS response is likely to carry. */
const LDAP_RESULTS: Record<number, string> = {
  0: 'success',
  1: 'operationsError',
  2: 'protocolError',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

/** A minimal BER reader over one complete LDAPMessage (definite lengths only, as LDAP requires). */
class Ber {
  private offset = 0;
  constructor(
    private readonly data: Buffer,
    private readonly fail: (why: string) => Error,
  ) {}

  get done(): boolean {
    return this.offset >= this.data.length;
  }

  /** Reads a tag and length; returns the tag and the contents. */
  element(): { tag: number; contents: Buffer } {
    const tag = this.byte();
    const length = berLength(this.data, this.offset, (n) => (this.offset += n));
    if (length === undefined) throw this.fail('bad BER length');
    if (this.offset + length > this.data.length) throw this.fail('BER element overruns the message');
    const contents = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return { tag, contents };
  }

  private byte(): number {
    const value = this.data[this.offset];
    if (value === undefined) throw this.fail('truncated BER');
    this.offset++;
    return value;
  }
}

/**
 * Decodes a BER definite length at `data[at]`; calls `advance` with the bytes it used. Undefined
 * when the bytes are not (yet) a valid length of at most 4 bytes.
 */
function berLength(data: Buffer, at: number, advance: (n: number) => void): number | undefined {
  const first = data[at];
  if (first === undefined) return undefined;
  if (first < 0x80) {
    advance(1);
    return first;
  }
  const count = first & 0x7f;
  if (count === 0 || count > 4 || at + 1 + count > data.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (data[at + 1 + i] ?? 0);
  advance(1 + count);
  return length;
}

function berInteger(contents: Buffer): number {
  let value = contents[0] !== undefined && contents[0] >= 0x80 ? -1 : 0;
  for (const byte of contents.subarray(0, 6)) value = value * 256 + byte;
  return value;
}

/** RFC 4511 §4.14.2: the ExtendedResponse [APPLICATION 24] must carry resultCode success (0). */
export async function ldap(c: Conversation): Promise<void> {
  c.write(LDAP_STARTTLS_REQUEST);
  const head = await c.readBytes(2);
  if (head[0] !== 0x30)
    throw c.error(`sent a reply that is not an LDAPMessage (first byte 0x${hex(head[0])})`);
  let header = head;
  let length: number | undefined;
  let used = 0;
  for (;;) {
    length = berLength(header, 1, (n) => (used = n));
    if (length !== undefined) break;
    const count = (header[1] ?? 0) & 0x7f;
    if (count === 0 || count > 4 || header.length >= 2 + count)
      throw c.error(`sent an LDAPMessage with an unsupported BER length (0x${hex(header[1])})`);
    header = Buffer.concat([header, await c.readBytes(2 + count - header.length)]);
  }
  if (length > MAX_REPLY_BYTES) throw c.error(`sent an LDAPMessage of ${length} bytes`);
  const body = await c.readBytes(length - (header.length - 1 - used));
  const message = Buffer.concat([header.subarray(1 + used), body]);
  const ber = new Ber(message, (why) => c.error(`sent a malformed LDAP response: ${why}`));
  const id = ber.element();
  if (id.tag !== 0x02) throw c.error('sent an LDAP response without a messageID');
  const op = ber.element();
  const messageId = berInteger(id.contents);
  if (op.tag !== 0x78) {
    throw c.error(`answered StartTLS with LDAP protocolOp 0x${hex(op.tag)} instead of an ExtendedResponse`);
  }
  const fields = new Ber(op.contents, (why) => c.error(`sent a malformed LDAP ExtendedResponse: ${why}`));
  const result = fields.element();
  const matchedDn = fields.element();
  const diagnostic = fields.element();
  let responseName = '';
  while (!fields.done) {
    const extra = fields.element();
    if (extra.tag === 0x8a) responseName = extra.contents.toString('latin1');
  }
  if (result.tag !== 0x0a || matchedDn.tag !== 0x04 || diagnostic.tag !== 0x04)
    throw c.error('sent a malformed LDAP ExtendedResponse (LDAPResult fields)');
  const code = berInteger(result.contents);
  const text = diagnostic.contents.toString('utf8');
  c.record(
    `messageID=${messageId} resultCode=${code} (${LDAP_RESULTS[code] ?? 'see RFC 4511 §4.1.9'})` +
      (text === '' ? '' : ` diagnosticMessage=${quote(text)}`) +
      (responseName === '' ? '' : ` responseName=${responseName}`),
  );
  // messageID 0 is an unsolicited notification (RFC 4511 §4.4), e.g. a Notice of Disconnection.
  if (messageId !== 1)
    throw c.error(`sent an unsolicited LDAP notification (resultCode ${code}): ${quote(text)}`);
  if (code !== 0)
    throw c.error(
      `refused StartTLS (resultCode ${code} ${LDAP_RESULTS[code] ?? ''}${text === '' ? '' : `: ${quote(text)}`})`,
    );
}
