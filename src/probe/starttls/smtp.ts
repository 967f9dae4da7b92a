/**
 * @module probe/starttls/smtp
 * SMTP and submission (RFC 3207 over RFC 5321, port 25 / RFC 6409 port 587) and LMTP (RFC 2033,
 * port 24): the same STARTTLS, announced in the reply to EHLO, or LHLO for LMTP.
 */
import type { Conversation } from './conversation.js';
import { readReply, replyText } from './replies.js';

/**
 * RFC 3207 §4: EHLO must list STARTTLS; STARTTLS is answered 220, then TLS starts.
 * RFC 2033 §4.1: an LMTP client greets with LHLO instead of EHLO ("LHLO … is identical to EHLO");
 * everything else, STARTTLS included, is SMTP's.
 */
export async function smtp(
  c: Conversation,
  ehloName: string,
  hello: 'EHLO' | 'LHLO' = 'EHLO',
): Promise<void> {
  const greeting = await readReply(c, 'greeting');
  if (greeting.code !== 220) throw c.error(`refused the connection (greeting: ${replyText(greeting)})`);
  c.write(`${hello} ${ehloName}\r\n`);
  const ehlo = await readReply(c, hello);
  if (ehlo.code !== 250) throw c.error(`rejected ${hello} (reply: ${replyText(ehlo)})`);
  const keywords = ehlo.lines
    .slice(1)
    .map((line) => (line.slice(4).trim().split(/\s+/)[0] ?? '').toUpperCase());
  if (!keywords.includes('STARTTLS'))
    throw c.error(`does not offer STARTTLS (${hello} reply: ${replyText(ehlo)})`);
  c.write('STARTTLS\r\n');
  const reply = await readReply(c, 'STARTTLS');
  if (reply.code !== 220) throw c.error(`refused STARTTLS (reply: ${replyText(reply)})`);
}
