/**
 * @module probe/starttls/nntp
 * NNTP STARTTLS (port 119): RFC 4642 over RFC 3977. The greeting is 200 or 201 (RFC 3977 §5.1.1);
 * CAPABILITIES (RFC 3977 §5.2) should list STARTTLS (RFC 4642 §2.1); `STARTTLS` is answered 382
 * "Continue with TLS negotiation", or 502 / 580 (RFC 4642 §2.2.1).
 */
import type { Conversation } from './conversation.js';
import { quote } from './conversation.js';

function code(line: string): number | null {
  const m = /^(\d{3})(?: |$)/.exec(line);
  return m === null ? null : Number(m[1]);
}

export async function nntp(c: Conversation): Promise<void> {
  const greeting = await c.readLine();
  const g = code(greeting);
  if (g === null) throw c.error(`sent a malformed greeting: ${quote(greeting)}`);
  // RFC 3977 §5.1.1: 400 "service temporarily unavailable", 502 "permanently unavailable".
  if (g !== 200 && g !== 201) throw c.error(`refused the connection (greeting: ${quote(greeting)})`);
  c.write('CAPABILITIES\r\n');
  const head = await c.readLine();
  const h = code(head);
  if (h === 101) {
    // A multi-line data block ends with a line holding only "." (RFC 3977 §3.1.1).
    const capabilities: string[] = [];
    for (;;) {
      const line = await c.readLine();
      if (line === '.') break;
      capabilities.push(line);
    }
    if (!capabilities.some((line) => (line.trim().split(/\s+/)[0] ?? '').toUpperCase() === 'STARTTLS'))
      throw c.error(`does not offer STARTTLS (capabilities: ${quote(capabilities.join('\n'))})`);
  } else if (h !== 500 && h !== 501) {
    // 500/501: a server older than RFC 3977 that knows no CAPABILITIES; STARTTLS may still work.
    throw c.error(`sent an unexpected reply to CAPABILITIES: ${quote(head)}`);
  }
  c.write('STARTTLS\r\n');
  const reply = await c.readLine();
  if (code(reply) !== 382) throw c.error(`refused STARTTLS (reply: ${quote(reply)})`);
}
