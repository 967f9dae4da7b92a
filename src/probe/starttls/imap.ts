/**
 * @module probe/starttls/imap
 * IMAP STARTTLS: RFC 3501 §6.2.1 / RFC 9051 §6.2.1 (port 143).
 */
import type { Conversation } from './conversation.js';
import { quote } from './conversation.js';

/** RFC 3501 §6.2.1 / RFC 9051 §6.2.1: STARTTLS in the not-authenticated state, tagged OK. */
export async function imap(c: Conversation): Promise<void> {
  const greeting = await c.readLine();
  if (/^\* PREAUTH\b/i.test(greeting))
    throw c.error(
      `greeted with PREAUTH, where STARTTLS is not allowed (RFC 9051 §6.2.1): ${quote(greeting)}`,
    );
  if (!/^\* OK\b/i.test(greeting)) throw c.error(`refused the connection (greeting: ${quote(greeting)})`);
  const tag = 'cv1';
  c.write(`${tag} STARTTLS\r\n`);
  for (;;) {
    const line = await c.readLine();
    if (/^\* BYE\b/i.test(line)) throw c.error(`closed the session instead of STARTTLS: ${quote(line)}`);
    // Other untagged data (an unsolicited CAPABILITY, say) may precede the tagged completion.
    if (line.startsWith('* ')) continue;
    if (!line.toLowerCase().startsWith(`${tag} `)) throw c.error(`sent an unexpected line: ${quote(line)}`);
    if (/^\S+ OK\b/i.test(line)) return;
    throw c.error(`refused STARTTLS (reply: ${quote(line)})`);
  }
}
