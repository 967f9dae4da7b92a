/**
 * The dialogues added in issue 14 (MySQL/MariaDB, IRC, LMTP, NNTP) against scripted servers: the
 * byte-exact requests, refusals, and hostile banners (huge lines, binary, floods, silence), each of
 * which must end in a clear `StartTlsError`, never a hang. The happy paths against real MariaDB,
 * InspIRCd and Dovecot LMTP are in test/starttls-daemons-more.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isSafeText } from '../../sanitize.js';
import { DEFAULT_PORTS, MAX_LINE_BYTES, mysqlSslRequest, parseIrcLine, parseMysqlGreeting } from './index.js';
import { CLIENT_PROTOCOL_41, CLIENT_SSL } from './mysql.js';
import {
  failure,
  handOver,
  negotiate,
  scripted,
  serverWithPeer,
  useScriptedServers,
} from './scripted.fixture.js';

useScriptedServers();

/** A MariaDB 10.11 Initial Handshake packet as the real server sends it (capabilities varied). */
function mysqlHandshake(
  capsLow = 0xfffe,
  capsHigh = 0x81bf,
  version = '5.5.5-10.11.19-MariaDB-0+deb12u1',
): Buffer {
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from(`${version}\0`, 'latin1'),
    Buffer.from([1, 0, 0, 0]), // thread id
    Buffer.from('abcdefgh'), // auth-plugin-data part 1
    Buffer.from([0]),
    Buffer.from([capsLow & 0xff, capsLow >> 8]),
    Buffer.from([45]), // utf8mb4_general_ci
    Buffer.from([2, 0]), // status
    Buffer.from([capsHigh & 0xff, capsHigh >> 8]),
    Buffer.from([21]),
    Buffer.alloc(10),
    Buffer.from('ijklmnopqrst\0mysql_native_password\0', 'latin1'),
  ]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, payload.length >> 8, 0, 0]), payload]);
}

describe('DEFAULT_PORTS', () => {
  it('has the IANA ports of the new protocols', () => {
    expect(DEFAULT_PORTS).toMatchObject({ lmtp: 24, mysql: 3306, irc: 6667, nntp: 119 });
  });
});

describe('MySQL / MariaDB (Protocol::HandshakeV10, Protocol::SSLRequest)', () => {
  it('parses the handshake and builds the 36-byte SSLRequest (sequence id 1, CLIENT_SSL)', () => {
    const g = parseMysqlGreeting(mysqlHandshake().subarray(4));
    expect(g).toMatchObject({
      kind: 'handshake',
      serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1',
      charset: 45,
    });
    const req = mysqlSslRequest(45);
    expect(req.length).toBe(36);
    expect([...req.subarray(0, 4)]).toEqual([32, 0, 0, 1]);
    const caps = req.readUInt32LE(4);
    expect(caps & CLIENT_SSL).toBe(CLIENT_SSL);
    expect(caps & CLIENT_PROTOCOL_41).toBe(CLIENT_PROTOCOL_41);
    expect(req[12]).toBe(45);
    expect([...req.subarray(13)]).toEqual(Array<number>(23).fill(0));
  });

  it.each([
    [
      Buffer.from([0xff, 0x10, 0x04, 0x23, ...Buffer.from('08004Too many connections')]),
      { kind: 'error', code: 1040, message: 'Too many connections' },
    ],
    [
      Buffer.from([0xff, 0x6a, 0x04, ...Buffer.from("Host '10.0.0.1' is not allowed")]),
      { kind: 'error', code: 1130 },
    ],
    [Buffer.from([9, 0x41, 0]), { kind: 'malformed', why: expect.stringMatching(/protocol version 9/) }],
    [Buffer.from([10, 0x41, 0x42]), { kind: 'malformed', why: 'no end to the server version' }],
    [Buffer.from([10, 0x41, 0, 1, 2]), { kind: 'malformed', why: 'a truncated handshake' }],
  ])('parseMysqlGreeting %#', (payload, want) => {
    expect(parseMysqlGreeting(payload)).toMatchObject(want);
  });

  it('sends SSLRequest after the handshake and hands the socket over', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send(mysqlHandshake());
      await p.waitFor(mysqlSslRequest(45));
    });
    const { socket, transcript } = await negotiate(port, 'mysql');
    expect(transcript.lines[0]).toMatch(/^HandshakeV10 server 5\.5\.5-10\.11\.19-MariaDB/);
    await handOver(socket, peer, mysqlSslRequest(45));
  });

  it.each([
    ['a server without TLS', mysqlHandshake(0xfffe & ~CLIENT_SSL), /does not offer TLS \(no CLIENT_SSL/],
    ['a pre-4.1 server', mysqlHandshake(0xfffe & ~CLIENT_PROTOCOL_41), /pre-4\.1 protocol/],
    [
      'an ERR packet',
      Buffer.from([0x1d, 0, 0, 0, 0xff, 0x10, 0x04, 0x23, ...Buffer.from('08004Too many connections')]),
      /refused the connection \(error 1040: Too many connections\)/,
    ],
    [
      'an SMTP greeting',
      Buffer.from('220 mail.example.test ESMTP\r\n'),
      /did not send a MySQL handshake packet/,
    ],
    [
      'a packet claiming 16 MB',
      Buffer.from([0xff, 0xff, 0xff, 0, 10]),
      /did not send a MySQL handshake packet/,
    ],
    [
      'bytes after the handshake',
      Buffer.concat([mysqlHandshake(), Buffer.from('\u0016\u0003\u0001')]),
      /unexpected byte\(s\) after its STARTTLS go-ahead/,
    ],
  ])('fails on %s', async (_name, bytes, why) => {
    const { port } = await scripted(async (p) => {
      p.send(bytes);
      await p.waitFor('never');
    });
    const err = await failure(negotiate(port, 'mysql'));
    expect(err.message).toMatch(/^MySQL server at 127\.0\.0\.1:\d+ /);
    expect(err.message).toMatch(why);
    expect(isSafeText(err.message)).toBe(true);
  });
});

describe('IRC (IRCv3 tls: STARTTLS → 670)', () => {
  it.each([
    [':irc.example.test 670 * :STARTTLS successful', { command: '670' }],
    ['@time=2026-01-01T00:00:00Z :s NOTICE * :hi', { command: 'NOTICE', params: '* :hi' }],
    ['PING :12345', { command: 'PING', params: ':12345' }],
    ['', null],
    [':only-a-prefix', null],
    ['\u0000\u0001binary', null],
  ])('parseIrcLine %j', (line, want) => {
    const got = parseIrcLine(line);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatchObject(want);
  });

  it('sends STARTTLS at once, skips NOTICEs, answers a PING, accepts 670', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send(':irc.example.test NOTICE * :*** Looking up your hostname...\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('PING :tok3n\r\n');
      await p.waitFor('PONG :tok3n\r\n');
      p.send(':irc.example.test 670 * :STARTTLS successful, go ahead with TLS handshake\r\n');
    });
    const { socket } = await negotiate(port, 'irc');
    await handOver(socket, peer, 'PONG :tok3n\r\n');
  });

  it.each([
    [':s 691 * :STARTTLS failure', /refused STARTTLS/],
    [':s 421 * STARTTLS :Unknown command', /does not offer STARTTLS/],
    [':s 451 * STARTTLS :You have not registered', /does not offer STARTTLS/],
    ['ERROR :Closing link: (unknown@127.0.0.1) [Registration timeout]', /closed the session/],
    ['SSH-2.0-OpenSSH_9.2p1 \u001b[2J', /not an IRC message: SSH-2\.0/],
    ['PING :bad token with spaces', /odd token/],
  ])('fails on %j', async (line, why) => {
    const { port } = await scripted(async (p) => {
      await p.waitFor('STARTTLS\r\n');
      p.send(`${line}\r\n`);
      await p.waitFor('never');
    });
    const err = await failure(negotiate(port, 'irc'));
    expect(err.message).toMatch(/^IRC server at /);
    expect(err.message).toMatch(why);
    expect(isSafeText(err.message)).toBe(true);
  });
});

describe('LMTP (RFC 2033: LHLO, then RFC 3207)', () => {
  it('greets with LHLO and needs STARTTLS in its reply', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send('220 mx.example.test Dovecot ready.\r\n');
      await p.waitFor('LHLO certvigil.invalid\r\n');
      p.send('250-mx.example.test\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 PIPELINING\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('220 2.0.0 Begin TLS.\r\n');
    });
    const { socket } = await negotiate(port, 'lmtp');
    await handOver(socket, peer, 'STARTTLS\r\n');
  });

  it('fails when LHLO lists no STARTTLS, naming LHLO', async () => {
    const { port } = await scripted(async (p) => {
      p.send('220 ready\r\n');
      await p.waitFor('LHLO');
      p.send('250-mx\r\n250 PIPELINING\r\n');
      await p.waitFor('never');
    });
    const err = await failure(negotiate(port, 'lmtp'));
    expect(err.message).toMatch(/^LMTP server at .* does not offer STARTTLS \(LHLO reply: 250-mx/);
  });
});

describe('NNTP (RFC 4642: STARTTLS → 382)', () => {
  it('reads CAPABILITIES, requires STARTTLS there, accepts 382', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send('200 news.example.test InterNetNews NNRP server ready (posting ok)\r\n');
      await p.waitFor('CAPABILITIES\r\n');
      p.send('101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n');
      await p.waitFor('\r\nSTARTTLS\r\n');
      p.send('382 Continue with TLS negotiation\r\n');
    });
    const { socket, transcript } = await negotiate(port, 'nntp');
    expect(transcript.lines).toContain('382 Continue with TLS negotiation');
    await handOver(socket, peer, 'CAPABILITIES\r\nSTARTTLS\r\n');
  });

  it('tries STARTTLS on a server without CAPABILITIES (500)', async () => {
    const { port } = await scripted(async (p) => {
      p.send('201 no posting\r\n');
      await p.waitFor('CAPABILITIES\r\n');
      p.send('500 What?\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('502 Command unavailable\r\n');
      await p.waitFor('never');
    });
    const err = await failure(negotiate(port, 'nntp'));
    expect(err.message).toMatch(/refused STARTTLS \(reply: 502 Command unavailable\)/);
  });

  it.each([
    ['400 Service temporarily unavailable', [], /refused the connection \(greeting: 400/],
    [
      '200 ok',
      ['101 caps', 'VERSION 2', 'READER', '.'],
      /does not offer STARTTLS \(capabilities: VERSION 2 \| READER\)/,
    ],
    ['200 ok', ['480 auth first'], /unexpected reply to CAPABILITIES: 480/],
    ['\u001b]0;pwned\u0007 hello', [], /malformed greeting/],
  ])('fails on greeting %j', async (greeting, caps, why) => {
    const { port } = await scripted(async (p) => {
      p.send(`${greeting}\r\n`);
      await p.waitFor('CAPABILITIES\r\n');
      p.send(caps.map((l) => `${l}\r\n`).join(''));
      await p.waitFor('never');
    });
    const err = await failure(negotiate(port, 'nntp'));
    expect(err.message).toMatch(why);
    expect(isSafeText(err.message)).toBe(true);
  });
});

describe('hostile banners end in a clear error, not a hang', () => {
  // Before issue 14 the quoted reply went into the message raw: an ESC sequence or a bidi override
  // in a banner reached the plugin's status line through every consumer that did not sanitise.
  it.each(['smtp', 'pop3', 'imap', 'ftp'] as const)(
    '%s: control and bidi characters in a refusal are escaped',
    async (protocol) => {
      const { port } = await scripted(async (p) => {
        p.send('554 \u001b[2J\u001b]0;owned\u0007 go away \u202egnp.exe\r\n');
        await p.waitFor('never');
      });
      const err = await failure(negotiate(port, protocol));
      expect(err.message).toMatch(/go away/);
      expect(isSafeText(err.message)).toBe(true);
    },
  );

  it.each(['nntp', 'irc', 'lmtp', 'smtp'] as const)(
    '%s: a line longer than MAX_LINE_BYTES',
    async (protocol) => {
      const { port } = await scripted(async (p) => {
        p.send(`200 ${'A'.repeat(MAX_LINE_BYTES + 100)}`);
        await p.waitFor('never');
      });
      const started = Date.now();
      const err = await failure(negotiate(port, protocol, { timeoutMs: 5_000 }));
      expect(err.message).toMatch(new RegExp(`sent a line longer than ${MAX_LINE_BYTES} bytes`));
      expect(Date.now() - started).toBeLessThan(4_000);
    },
  );

  it.each(['nntp', 'irc', 'mysql'] as const)(
    '%s: binary garbage, then silence → a clear error',
    async (protocol) => {
      const { port } = await scripted(async (p) => {
        p.send(Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x0d, 0x0a, 0x07, 0x9b]));
        await p.waitFor('never');
      });
      const err = await failure(negotiate(port, protocol, { timeoutMs: 500 }));
      expect(err.message.length).toBeGreaterThan(0);
      expect(isSafeText(err.message)).toBe(true);
    },
  );

  it.each(['nntp', 'irc', 'mysql', 'lmtp'] as const)('%s: a silent server times out', async (protocol) => {
    const { port } = await scripted(async (p) => {
      await p.waitFor('never');
    });
    const err = await failure(negotiate(port, protocol, { timeoutMs: 300 }));
    expect(err.code).toBe('STARTTLS_TIMEOUT');
  });
});
