/**
 * @module probe/starttls/mysql
 * MySQL and MariaDB (port 3306): the server speaks first with its Initial Handshake packet
 * (Protocol::HandshakeV10); a client that wants TLS answers with an SSLRequest packet
 * (Protocol::SSLRequest: the first 32 bytes of a HandshakeResponse41, CLIENT_SSL set) and starts
 * the TLS handshake right after it, without waiting for an answer. References: the MySQL Client/
 * Server Protocol ("Connection Phase", "Protocol::Handshake", "Protocol::SSLRequest",
 * "Capabilities Flags", "ERR_Packet") and MariaDB's "Connection" page of its protocol docs.
 *
 * Every packet: int<3> payload length (little-endian), int<1> sequence id, payload.
 */
import type { Conversation } from './conversation.js';
import { hex, quote } from './conversation.js';

/** Capability flags (MySQL "Capabilities Flags"). */
export const CLIENT_LONG_PASSWORD = 0x0000_0001;
export const CLIENT_PROTOCOL_41 = 0x0000_0200;
export const CLIENT_SSL = 0x0000_0800;
export const CLIENT_SECURE_CONNECTION = 0x0000_8000;

/** A real Initial Handshake is ~100 bytes; anything near this is not one. */
export const MAX_MYSQL_HANDSHAKE_BYTES = 4096;
/** utf8_general_ci, when the server announces no character set. */
const DEFAULT_CHARSET = 33;

export type MysqlGreeting =
  | { kind: 'handshake'; serverVersion: string; capabilities: number; charset: number }
  | { kind: 'error'; code: number; message: string }
  | { kind: 'malformed'; why: string };

/**
 * Parses the payload of the server's first packet (pure). HandshakeV10: int<1> protocol version
 * (10), string<NUL> server version, int<4> thread id, string[8] auth-plugin-data part 1, int<1>
 * filler, int<2> capability flags (lower), then optionally int<1> character set, int<2> status
 * flags, int<2> capability flags (upper), …. An ERR_Packet (0xFF, int<2> code, optionally "#" and
 * a 5-character SQL state, message) is how a server refuses a client at once ("Host … is not
 * allowed to connect", "Too many connections").
 */
export function parseMysqlGreeting(payload: Buffer): MysqlGreeting {
  const first = payload[0];
  if (first === 0xff) {
    if (payload.length < 3) return { kind: 'malformed', why: 'a truncated error packet' };
    const code = payload.readUInt16LE(1);
    const text = payload.subarray(payload[3] === 0x23 ? 9 : 3).toString('utf8');
    return { kind: 'error', code, message: text };
  }
  if (first !== 10)
    return { kind: 'malformed', why: `protocol version ${first ?? 'none'}, not 10 (HandshakeV10)` };
  const nul = payload.indexOf(0, 1);
  if (nul < 0) return { kind: 'malformed', why: 'no end to the server version' };
  const serverVersion = payload.subarray(1, nul).toString('latin1');
  const capsAt = nul + 1 + 4 + 8 + 1;
  if (payload.length < capsAt + 2) return { kind: 'malformed', why: 'a truncated handshake' };
  let capabilities = payload.readUInt16LE(capsAt);
  let charset = DEFAULT_CHARSET;
  if (payload.length >= capsAt + 2 + 1 + 2 + 2) {
    charset = payload[capsAt + 2] || DEFAULT_CHARSET;
    capabilities |= payload.readUInt16LE(capsAt + 5) << 16;
    capabilities >>>= 0;
  }
  return { kind: 'handshake', serverVersion, capabilities, charset };
}

/**
 * Protocol::SSLRequest, sequence id 1: int<4> client capabilities (CLIENT_SSL and
 * CLIENT_PROTOCOL_41 set), int<4> max packet size, int<1> character set, string[23] zero filler
 * (MariaDB reads its extended capabilities from the last 4: none asked).
 */
export function mysqlSslRequest(charset: number): Buffer {
  const payload = Buffer.alloc(32);
  payload.writeUInt32LE(CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION, 0);
  payload.writeUInt32LE(16 * 1024 * 1024, 4);
  payload[8] = charset & 0xff;
  return Buffer.concat([Buffer.from([32, 0, 0, 1]), payload]);
}

export async function mysql(c: Conversation): Promise<void> {
  const head = await c.readBytes(4);
  const length = head.readUIntLE(0, 3);
  // A text protocol's greeting ("220 …", "* OK") read as a header gives a huge length.
  if (length === 0 || length > MAX_MYSQL_HANDSHAKE_BYTES || head[3] !== 0)
    throw c.error(
      `did not send a MySQL handshake packet (header ${[...head].map(hex).join(' ')}: ${quote(head.toString('latin1'))})`,
    );
  const greeting = parseMysqlGreeting(await c.readBytes(length));
  switch (greeting.kind) {
    case 'malformed':
      throw c.error(`sent a malformed MySQL handshake: ${greeting.why}`);
    case 'error':
      c.record(`ERR ${greeting.code} ${greeting.message}`);
      throw c.error(`refused the connection (error ${greeting.code}: ${quote(greeting.message)})`);
    case 'handshake':
      c.record(
        `HandshakeV10 server ${greeting.serverVersion} capabilities 0x${greeting.capabilities.toString(16)}`,
      );
  }
  if ((greeting.capabilities & CLIENT_SSL) === 0)
    throw c.error(
      `does not offer TLS (no CLIENT_SSL in the capabilities of ${quote(greeting.serverVersion)}; is ssl-cert set?)`,
    );
  if ((greeting.capabilities & CLIENT_PROTOCOL_41) === 0)
    throw c.error(`speaks only the pre-4.1 protocol (${quote(greeting.serverVersion)})`);
  c.write(mysqlSslRequest(greeting.charset));
}
