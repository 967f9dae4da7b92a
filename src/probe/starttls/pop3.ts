/**
 * @module probe/starttls/pop3
 * POP3 STLS: RFC 2595 §4 (port 110).
 */
import type { Conversation } from './conversation.js';
import { quote } from './conversation.js';

/** RFC 2595 §4: STLS, answered +OK. */
export async function pop3(c: Conversation): Promise<void> {
  const greeting = await c.readLine();
  if (!greeting.startsWith('+OK')) throw c.error(`refused the connection (greeting: ${quote(greeting)})`);
  c.write('STLS\r\n');
  const reply = await c.readLine();
  if (!reply.startsWith('+OK')) throw c.error(`refused STLS (reply: ${quote(reply)})`);
}
