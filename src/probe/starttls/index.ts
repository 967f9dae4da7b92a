/**
 * @module probe/starttls (dispatcher: starttls/index.ts; one module per protocol beside it)
 * The plaintext half of a STARTTLS connection: the protocol dialogue that ends with the server's
 * go-ahead, after which the next bytes on the connection are the client's TLS ClientHello.
 *
 * Why hand-written dialogues instead of client libraries: the probe needs the *same* TCP socket
 * afterwards, positioned exactly at the TLS handshake, for `tls.connect({ socket })` or a raw
 * ClientHello of its own. So this module reads only what each step needs, treats any byte the
 * server sends after its go-ahead as an error (a server that injects plaintext there is broken or
 * attacked: the "STARTTLS command injection" class of bugs, e.g. CVE-2011-0411, CVE-2021-23214), and
 * hands the socket back paused with every listener it added removed.
 *
 * Every dialogue is bounded: one overall deadline (`timeoutMs`), an abort signal, and at most
 * `MAX_REPLY_BYTES` read from the server in total. On failure the socket is destroyed (it is in an
 * unknown protocol state) and a `StartTlsError` explains what the server said.
 *
 * Protocols and their specifications:
 * - SMTP / submission: RFC 3207 (STARTTLS), RFC 5321 §4.2 (multi-line replies), RFC 6409 (port 587).
 * - LMTP: RFC 2033 (LHLO instead of EHLO, then RFC 3207's STARTTLS; port 24).
 * - IMAP: RFC 3501 §6.2.1 / RFC 9051 §6.2.1.
 * - POP3: RFC 2595 §4 (STLS).
 * - FTP: RFC 4217 §4 (AUTH TLS), RFC 959 §4.2 (multi-line replies).
 * - LDAP: RFC 4511 §4.12 and §4.14 (StartTLS extended operation), X.690 BER.
 * - XMPP: RFC 6120 §5.4 (STARTTLS negotiation), client-to-server and server-to-server streams.
 * - ManageSieve: RFC 5804 §1.7 and §2.2.
 * - PostgreSQL: the SSLRequest message of the frontend/backend protocol ("SSL Session Encryption").
 * - MySQL / MariaDB: Protocol::HandshakeV10, then Protocol::SSLRequest (CLIENT_SSL; port 3306).
 * - IRC: the IRCv3 tls extension (STARTTLS, 670 RPL_STARTTLS / 691 ERR_STARTTLS; port 6667).
 * - NNTP: RFC 4642 (STARTTLS → 382) over RFC 3977 (CAPABILITIES; port 119).
 */
import type { Socket } from 'node:net';
import { CertvigilError } from '../../errors.js';
import type { StartTlsProtocol } from '../types.js';
import { Conversation, StartTlsError } from './conversation.js';
import type { StartTlsOptions, StartTlsTranscript } from './conversation.js';
import { ftp } from './ftp.js';
import { imap } from './imap.js';
import { irc } from './irc.js';
import { ldap } from './ldap.js';
import { mysql } from './mysql.js';
import { nntp } from './nntp.js';
import { pop3 } from './pop3.js';
import { postgres } from './postgres.js';
import { sieve } from './sieve.js';
import { smtp } from './smtp.js';
import { xmpp } from './xmpp.js';

export { MAX_LINE_BYTES, MAX_REPLY_BYTES, StartTlsError } from './conversation.js';
export type { StartTlsOptions, StartTlsTranscript } from './conversation.js';
export { LDAP_STARTTLS_REQUEST } from './ldap.js';
export { POSTGRES_SSL_REQUEST } from './postgres.js';
export { mysqlSslRequest, parseMysqlGreeting } from './mysql.js';
export { parseIrcLine } from './irc.js';

/** The IANA port of each protocol's plaintext service. */
export const DEFAULT_PORTS: Record<StartTlsProtocol, number> = {
  smtp: 25,
  submission: 587,
  lmtp: 24,
  imap: 143,
  pop3: 110,
  ftp: 21,
  ldap: 389,
  xmpp: 5222,
  'xmpp-server': 5269,
  sieve: 4190,
  postgres: 5432,
  mysql: 3306,
  irc: 6667,
  nntp: 119,
};

const LABELS: Record<StartTlsProtocol, string> = {
  smtp: 'SMTP',
  submission: 'SMTP submission',
  lmtp: 'LMTP',
  imap: 'IMAP',
  pop3: 'POP3',
  ftp: 'FTP',
  ldap: 'LDAP',
  xmpp: 'XMPP',
  'xmpp-server': 'XMPP server-to-server',
  sieve: 'ManageSieve',
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  irc: 'IRC',
  nntp: 'NNTP',
};

/**
 * Runs the protocol's STARTTLS dialogue on a connected (or connecting) socket. Resolves once the
 * server has agreed and the socket is paused exactly before the TLS ClientHello; the caller then
 * runs `tls.connect({ socket, servername })`. Rejects with a `StartTlsError` (and destroys the
 * socket) when the server does not offer or refuses STARTTLS, says something unexpected, stays
 * silent past `timeoutMs`, sends more than `MAX_REPLY_BYTES`, or when `signal` aborts; with a
 * `CertvigilError` 'USAGE' (socket untouched) when `ehloName` or `domain` cannot go on the wire.
 *
 * Bytes the server sends after its go-ahead are detected only if they arrive with it or before the
 * socket is handed back; later ones reach the TLS layer, which fails the handshake on them.
 */
export async function negotiateStartTls(
  socket: Socket,
  protocol: StartTlsProtocol,
  options: StartTlsOptions,
): Promise<StartTlsTranscript> {
  const ehloName = options.ehloName ?? 'certvigil.invalid';
  // Both end up inside protocol commands: no spaces, controls or markup that could inject more.
  if (!/^[\x21-\x7e]{1,255}$/.test(ehloName))
    throw new CertvigilError('USAGE', `invalid EHLO name ${JSON.stringify(ehloName)}`);
  if (!/^[^\s\p{Cc}<>&'"]{1,1023}$/u.test(options.domain))
    throw new CertvigilError('USAGE', `invalid domain ${JSON.stringify(options.domain)}`);
  const c = new Conversation(socket, protocol, LABELS[protocol], options);
  try {
    switch (protocol) {
      case 'smtp':
      case 'submission':
        await smtp(c, ehloName);
        break;
      case 'lmtp':
        await smtp(c, ehloName, 'LHLO');
        break;
      case 'imap':
        await imap(c);
        break;
      case 'pop3':
        await pop3(c);
        break;
      case 'ftp':
        await ftp(c);
        break;
      case 'ldap':
        await ldap(c);
        break;
      case 'xmpp':
        await xmpp(c, options.domain, false);
        break;
      case 'xmpp-server':
        await xmpp(c, options.domain, true);
        break;
      case 'sieve':
        await sieve(c);
        break;
      case 'postgres':
        await postgres(c);
        break;
      case 'mysql':
        await mysql(c);
        break;
      case 'irc':
        await irc(c);
        break;
      case 'nntp':
        await nntp(c);
        break;
    }
    return c.finish();
  } catch (err) {
    const failure =
      err instanceof StartTlsError
        ? err
        : new StartTlsError(
            'STARTTLS_FAILED',
            `${c.who()}: STARTTLS dialogue failed: ${(err as Error).message}`,
            c.transcriptSoFar(),
            { cause: err },
          );
    c.abandon();
    throw failure;
  }
}
