/**
 * @module probe/starttls/replies
 * Three-digit replies as SMTP (RFC 5321 §4.2), LMTP (RFC 2033 §4.2, SMTP's) and FTP (RFC 959 §4.2)
 * write them, single- or multi-line.
 */
import type { Conversation } from './conversation.js';
import { quote } from './conversation.js';

/** One reply: its code and all its lines. */
export interface Reply {
  code: number;
  lines: string[];
}

/**
 * Reads one reply. A multi-line reply starts with `ddd-` and ends with the first line `ddd ` (or a
 * bare `ddd`) of the same code; FTP allows free text in between, SMTP repeats `ddd-` on each line.
 */
export async function readReply(c: Conversation, step: string): Promise<Reply> {
  const first = await c.readLine();
  const head = /^(\d{3})([ -]|$)/.exec(first);
  if (head === null) throw c.error(`sent a malformed ${step} reply: ${quote(first)}`);
  const code = head[1] ?? '';
  const lines = [first];
  if (head[2] === '-') {
    for (;;) {
      const line = await c.readLine();
      lines.push(line);
      if (line === code || line.startsWith(`${code} `)) break;
    }
  }
  return { code: Number(code), lines };
}

export function replyText(reply: Reply): string {
  return quote(reply.lines.join('\n'));
}
