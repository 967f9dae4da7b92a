/**
 * @module probe/starttls/irc
 * IRC STARTTLS (port 6667): the IRCv3 "tls" extension (ircv3.net/specs/deprecated/tls; deprecated
 * by IRCv3 in favour of direct TLS, still served by InspIRCd's m_starttls, UnrealIRCd and others).
 * The client sends `STARTTLS` before registering; RPL_STARTTLS (670) is the go-ahead, ERR_STARTTLS
 * (691) a refusal. Messages as RFC 1459 §2.3.1 writes them, with IRCv3 message tags allowed.
 */
import type { Conversation } from './conversation.js';
import { quote } from './conversation.js';

export interface IrcMessage {
  command: string;
  params: string;
}

/** `[@tags ][:prefix ]COMMAND[ params]` → command (upper-case) and the raw params; null if not IRC. */
export function parseIrcLine(line: string): IrcMessage | null {
  const m = /^(?:@\S+ +)?(?::\S+ +)?([A-Za-z]+|\d{3})(?: +(.*))?$/.exec(line);
  if (m === null) return null;
  return { command: (m[1] ?? '').toUpperCase(), params: m[2] ?? '' };
}

export async function irc(c: Conversation): Promise<void> {
  // Servers greet with NOTICEs ("*** Looking up your hostname") or nothing: ask at once.
  c.write('STARTTLS\r\n');
  for (;;) {
    const line = await c.readLine();
    if (line === '') continue;
    const message = parseIrcLine(line);
    if (message === null) throw c.error(`sent a line that is not an IRC message: ${quote(line)}`);
    const { command, params } = message;
    if (command === '670') return;
    if (command === '691') throw c.error(`refused STARTTLS (reply: ${quote(line)})`);
    if (command === 'ERROR') throw c.error(`closed the session instead of STARTTLS: ${quote(line)}`);
    if (command === 'PING') {
      // Some servers PING unregistered clients; the token goes back on the wire, so only a plain one.
      const token = params.replace(/^:/, '');
      if (!/^[\x21-\x7e]{1,64}$/.test(token)) throw c.error(`sent a PING with an odd token: ${quote(line)}`);
      c.write(`PONG :${token}\r\n`);
      continue;
    }
    // 421 ERR_UNKNOWNCOMMAND, 451 ERR_NOTREGISTERED, …: the server does not know STARTTLS.
    if (/^[45]\d\d$/.test(command)) throw c.error(`does not offer STARTTLS (reply: ${quote(line)})`);
    // NOTICE, CAP and other numerics before the answer carry nothing for us.
  }
}
