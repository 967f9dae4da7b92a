/**
 * @module probe/starttls/ftp
 * FTP AUTH TLS: RFC 4217 §4 over RFC 959 §4.2 replies (port 21).
 */
import type { Conversation } from './conversation.js';
import { readReply, replyText } from './replies.js';

/** RFC 4217 §4: AUTH TLS, answered 234. A 120 greeting ("ready in n minutes") precedes the 220. */
export async function ftp(c: Conversation): Promise<void> {
  let greeting = await readReply(c, 'greeting');
  if (greeting.code === 120) greeting = await readReply(c, 'greeting');
  if (greeting.code !== 220) throw c.error(`refused the connection (greeting: ${replyText(greeting)})`);
  c.write('AUTH TLS\r\n');
  const reply = await readReply(c, 'AUTH TLS');
  if (reply.code !== 234) throw c.error(`refused AUTH TLS (reply: ${replyText(reply)})`);
}
