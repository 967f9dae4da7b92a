/**
 * @module probe/starttls/postgres
 * PostgreSQL: the SSLRequest message of the frontend/backend protocol ("SSL Session Encryption",
 * port 5432).
 */
import type { Conversation } from './conversation.js';
import { hex } from './conversation.js';

/**
 * PostgreSQL SSLRequest: Int32 length 8, Int32 80877103 (1234 << 16 | 5679); the server answers one
 * byte, 'S' (go ahead) or 'N' (no TLS). Servers older than 7.0 answer an ErrorResponse ('E').
 */
export const POSTGRES_SSL_REQUEST = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]);

export async function postgres(c: Conversation): Promise<void> {
  c.write(POSTGRES_SSL_REQUEST);
  const answer = (await c.readBytes(1)).toString('latin1');
  c.record(answer);
  if (answer === 'S') return;
  if (answer === 'N') throw c.error('does not offer TLS (answered SSLRequest with N)');
  throw c.error(`answered SSLRequest with an unexpected byte 0x${hex(answer.charCodeAt(0))}`);
}
