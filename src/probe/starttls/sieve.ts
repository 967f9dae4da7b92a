/**
 * @module probe/starttls/sieve
 * ManageSieve STARTTLS: RFC 5804 §1.7 and §2.2 (port 4190).
 */
import type { Conversation } from './conversation.js';
import { quote } from './conversation.js';

/** RFC 5804 §1.7: capabilities end with OK; "STARTTLS" must be among them; STARTTLS gets OK. */
export async function sieve(c: Conversation): Promise<void> {
  const capabilities: string[] = [];
  for (;;) {
    const line = await c.readLine();
    if (/^(OK|NO|BYE)\b/i.test(line)) {
      if (!/^OK\b/i.test(line)) throw c.error(`refused the connection (greeting: ${quote(line)})`);
      break;
    }
    capabilities.push(line);
  }
  if (!capabilities.some((line) => /^"STARTTLS"/i.test(line)))
    throw c.error(`does not offer STARTTLS (capabilities: ${quote(capabilities.join('\n'))})`);
  c.write('STARTTLS\r\n');
  const reply = await c.readLine();
  if (!/^OK\b/i.test(reply)) throw c.error(`refused STARTTLS (reply: ${quote(reply)})`);
}
