/**
 * The STARTTLS dialogues against small scripted servers on 127.0.0.1: the edge cases real daemons
 * rarely produce on demand (replies split across TCP segments, refusals, silence, floods, bytes
 * injected after the go-ahead). The happy paths against real Postfix, Dovecot, Prosody, slapd,
 * vsftpd and PostgreSQL are in test/starttls-daemons.test.ts.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PORTS,
  LDAP_STARTTLS_REQUEST,
  MAX_REPLY_BYTES,
  POSTGRES_SSL_REQUEST,
  negotiateStartTls,
} from './starttls.js';

import {
  OPTIONS,
  clients,
  failure,
  handOver,
  negotiate,
  scripted,
  servers,
  serverWithPeer,
  useScriptedServers,
} from './starttls/scripted.fixture.js';

useScriptedServers();

describe('DEFAULT_PORTS', () => {
  it('has the IANA ports', () => {
    expect(DEFAULT_PORTS).toMatchObject({ smtp: 25, submission: 587, imap: 143, ldap: 389, postgres: 5432 });
  });
});

describe('SMTP (RFC 3207)', () => {
  it('reads a multi-line greeting split across segments and a multi-line EHLO reply', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send('220-mail.example.te');
      await sleep(20);
      p.send('st ESMTP\r\n220-second');
      await sleep(20);
      p.send(' line\r\n220 ready\r\n');
      await p.waitFor('EHLO client.example\r\n');
      p.send('250-mail.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('220 2.0.0 Ready to start TLS\r\n');
    });
    const { socket, transcript } = await negotiate(port, 'smtp', { ehloName: 'client.example' });
    expect(transcript.protocol).toBe('smtp');
    expect(transcript.lines[0]).toBe('220-mail.example.test ESMTP');
    expect(transcript.lines.at(-1)).toBe('220 2.0.0 Ready to start TLS');
    await handOver(socket, peer, 'STARTTLS\r\n');
  });

  it('fails when EHLO does not list STARTTLS, quoting the reply', async () => {
    const { port } = await scripted(async (p) => {
      p.send('220 hi\r\n');
      await p.waitFor('EHLO');
      p.send('250-mail.example.test\r\n250 SIZE 1000\r\n');
    });
    const err = await failure(negotiate(port, 'smtp'));
    expect(err.code).toBe('STARTTLS_FAILED');
    expect(err.message).toBe(
      `SMTP server at 127.0.0.1:${port} does not offer STARTTLS (EHLO reply: 250-mail.example.test | 250 SIZE 1000)`,
    );
  });

  it('fails when STARTTLS is refused with 454', async () => {
    const { port } = await scripted(async (p) => {
      p.send('220 hi\r\n');
      await p.waitFor('EHLO');
      p.send('250-x\r\n250 STARTTLS\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('454 4.7.0 TLS not available due to local problem\r\n');
    });
    const err = await failure(negotiate(port, 'submission'));
    expect(err.message).toMatch(
      /SMTP submission server at .* refused STARTTLS \(reply: 454 4\.7\.0 TLS not available/,
    );
  });

  it('fails on a 554 greeting', async () => {
    const { port } = await scripted(async (p) => {
      p.send('554 go away\r\n');
      await sleep(10);
    });
    expect((await failure(negotiate(port, 'smtp'))).message).toMatch(
      /refused the connection \(greeting: 554 go away\)/,
    );
  });

  it('refuses bytes sent after the 220 go-ahead (STARTTLS injection)', async () => {
    const { port } = await scripted(async (p) => {
      p.send('220 hi\r\n');
      await p.waitFor('EHLO');
      p.send('250-x\r\n250 STARTTLS\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('220 go ahead\r\n250 injected\r\n');
    });
    const err = await failure(negotiate(port, 'smtp'));
    expect(err.message).toMatch(/sent 14 unexpected byte\(s\) after its STARTTLS go-ahead/);
  });

  it('times out on a silent server', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor('never');
    });
    const started = Date.now();
    const err = await failure(negotiate(port, 'smtp', { timeoutMs: 200 }));
    expect(err.code).toBe('STARTTLS_TIMEOUT');
    expect(err.message).toMatch(/did not complete the STARTTLS dialogue within 200 ms/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('times out on a server that stops mid-reply, quoting the partial reply', async () => {
    const { port } = await scripted(async (p) => {
      p.send('220 hi\r\n');
      await p.waitFor('EHLO');
      p.send('250-x\r\n250-PIPE');
      await p.waitFor('never');
    });
    const err = await failure(negotiate(port, 'smtp', { timeoutMs: 300 }));
    expect(err.code).toBe('STARTTLS_TIMEOUT');
    expect(err.message).toMatch(/partial reply: 250-PIPE/);
  });

  it(`gives up after ${MAX_REPLY_BYTES} bytes of reply`, async () => {
    const { port } = await scripted(async (p) => {
      p.send(`220-${'x'.repeat(1000)}\r\n`.repeat(100));
      await sleep(50);
    });
    const err = await failure(negotiate(port, 'smtp'));
    expect(err.message).toMatch(/sent more than 65536 bytes/);
    expect(err.transcript.lines.length).toBeLessThanOrEqual(40);
    expect(err.transcript.lines.every((line) => line.length <= 301)).toBe(true);
  });

  it('reports a server that closes the connection', async () => {
    const { port } = await scripted(async (p) => {
      p.send('220 hi\r\n');
      await p.waitFor('EHLO');
      p.socket.end();
    });
    expect((await failure(negotiate(port, 'smtp'))).message).toMatch(
      /closed the connection during the STARTTLS dialogue/,
    );
  });

  it('stops when the signal aborts', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor('never');
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user gave up')), 50);
    const err = await failure(negotiate(port, 'smtp', { signal: controller.signal }));
    expect(err.message).toMatch(/aborted/);
  });

  it('reports a refused connection', async () => {
    const { port } = await scripted(async () => undefined);
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const err = await failure(negotiate(port, 'imap'));
    expect(err.code).toBe('STARTTLS_FAILED');
    expect(err.message).toMatch(/connection failed during the STARTTLS dialogue: connect ECONNREFUSED/);
  });

  it('refuses an EHLO name or domain that would inject commands', async () => {
    const socket = new net.Socket();
    for (const options of [
      { ...OPTIONS, ehloName: 'x\r\nMAIL FROM:<a@b>' },
      { ...OPTIONS, domain: "a'/><evil" },
    ]) {
      await expect(negotiateStartTls(socket, 'smtp', options)).rejects.toMatchObject({ code: 'USAGE' });
    }
  });

  it('destroys the socket on failure', async () => {
    const { port } = await scripted(async (p) => {
      p.send('554 no\r\n');
      await sleep(10);
    });
    const socket = net.connect({ host: '127.0.0.1', port });
    clients.push(socket);
    await failure(negotiateStartTls(socket, 'smtp', OPTIONS));
    expect(socket.destroyed).toBe(true);
  });
});

describe('IMAP (RFC 9051 §6.2.1)', () => {
  it('skips untagged responses before the tagged OK', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send('* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n');
      await p.waitFor('cv1 STARTTLS\r\n');
      p.send('* CAPABILITY IMAP4rev1 STARTTLS\r\ncv1 OK Begin TLS negotiation now\r\n');
    });
    const { socket, transcript } = await negotiate(port, 'imap');
    expect(transcript.lines.at(-1)).toBe('cv1 OK Begin TLS negotiation now');
    await handOver(socket, peer, 'cv1 STARTTLS\r\n');
  });

  it('fails on a tagged NO', async () => {
    const { port } = await scripted(async (p) => {
      p.send('* OK ready\r\n');
      await p.waitFor('STARTTLS');
      p.send('cv1 NO not now\r\n');
    });
    expect((await failure(negotiate(port, 'imap'))).message).toMatch(
      /refused STARTTLS \(reply: cv1 NO not now\)/,
    );
  });

  it('fails on an untagged BYE', async () => {
    const { port } = await scripted(async (p) => {
      p.send('* OK ready\r\n');
      await p.waitFor('STARTTLS');
      p.send('* BYE shutting down\r\n');
    });
    expect((await failure(negotiate(port, 'imap'))).message).toMatch(
      /closed the session instead of STARTTLS/,
    );
  });

  it('fails on PREAUTH, where STARTTLS is not allowed', async () => {
    const { port } = await scripted(async (p) => {
      p.send('* PREAUTH welcome\r\n');
      await sleep(10);
    });
    expect((await failure(negotiate(port, 'imap'))).message).toMatch(/PREAUTH/);
  });
});

describe('POP3 (RFC 2595)', () => {
  it('negotiates STLS', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send('+OK POP3 ready\r\n');
      await p.waitFor('STLS\r\n');
      p.send('+OK Begin TLS\r\n');
    });
    const { socket } = await negotiate(port, 'pop3');
    await handOver(socket, peer, 'STLS\r\n');
  });

  it('fails on -ERR', async () => {
    const { port } = await scripted(async (p) => {
      p.send('+OK ready\r\n');
      await p.waitFor('STLS');
      p.send('-ERR command not supported\r\n');
    });
    expect((await failure(negotiate(port, 'pop3'))).message).toMatch(
      /POP3 server at .* refused STLS \(reply: -ERR command not supported\)/,
    );
  });
});

describe('FTP (RFC 4217)', () => {
  it('reads an RFC 959 multi-line greeting with free-text lines', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      p.send('220-Welcome\r\n  to our server\r\n220 Ready\r\n');
      await p.waitFor('AUTH TLS\r\n');
      p.send('234 Proceed with negotiation.\r\n');
    });
    const { socket, transcript } = await negotiate(port, 'ftp');
    expect(transcript.lines).toEqual([
      '220-Welcome',
      '  to our server',
      '220 Ready',
      '234 Proceed with negotiation.',
    ]);
    await handOver(socket, peer, 'AUTH TLS\r\n');
  });

  it('fails when AUTH TLS is refused', async () => {
    const { port } = await scripted(async (p) => {
      p.send('220 Ready\r\n');
      await p.waitFor('AUTH TLS');
      p.send('530 Please login with USER and PASS.\r\n');
    });
    expect((await failure(negotiate(port, 'ftp'))).message).toMatch(/refused AUTH TLS \(reply: 530/);
  });

  it('fails on a reply that is not an FTP reply', async () => {
    const { port } = await scripted(async (p) => {
      p.send('SSH-2.0-OpenSSH_9.2\r\n');
      await sleep(10);
    });
    expect((await failure(negotiate(port, 'ftp'))).message).toMatch(/malformed greeting reply: SSH-2\.0/);
  });
});

/** An LDAPMessage { messageID, ExtendedResponse { resultCode, "", diagnostic, [responseName] } }. */
function ldapResponse(messageId: number, resultCode: number, diagnostic: string, longForm = false): Buffer {
  const diag = Buffer.from(diagnostic, 'utf8');
  const name = Buffer.from('1.3.6.1.4.1.1466.20037', 'latin1');
  const op = Buffer.concat([
    Buffer.from([0x0a, 0x01, resultCode, 0x04, 0x00, 0x04, diag.length]),
    diag,
    Buffer.from([0x8a, name.length]),
    name,
  ]);
  const body = Buffer.concat([Buffer.from([0x02, 0x01, messageId, 0x78, op.length]), op]);
  const length = longForm ? Buffer.from([0x82, 0x00, body.length]) : Buffer.from([body.length]);
  return Buffer.concat([Buffer.from([0x30]), length, body]);
}

describe('LDAP (RFC 4511 §4.14)', () => {
  it('sends the fixed BER request', () => {
    expect(LDAP_STARTTLS_REQUEST.toString('hex')).toBe(
      '301d02010177188016' + Buffer.from('1.3.6.1.4.1.1466.20037').toString('hex'),
    );
  });

  it('accepts resultCode success, also with a long-form length split across segments', async () => {
    const response = ldapResponse(1, 0, '', true);
    const { port, peer } = await serverWithPeer(async (p) => {
      await p.waitFor(LDAP_STARTTLS_REQUEST);
      p.send(response.subarray(0, 2));
      await sleep(20);
      p.send(response.subarray(2, 9));
      await sleep(20);
      p.send(response.subarray(9));
    });
    const { socket, transcript } = await negotiate(port, 'ldap');
    expect(transcript.lines.at(-1)).toMatch(
      /^messageID=1 resultCode=0 \(success\) responseName=1\.3\.6\.1\.4\.1\.1466\.20037$/,
    );
    await handOver(socket, peer, LDAP_STARTTLS_REQUEST);
  });

  it('fails on another resultCode, quoting the diagnostic message', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor(LDAP_STARTTLS_REQUEST);
      p.send(ldapResponse(1, 2, 'unsupported extended operation'));
    });
    const err = await failure(negotiate(port, 'ldap'));
    expect(err.message).toMatch(
      /LDAP server at .* refused StartTLS \(resultCode 2 protocolError: unsupported extended operation\)/,
    );
  });

  it('fails on a Notice of Disconnection (messageID 0)', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor(LDAP_STARTTLS_REQUEST);
      p.send(ldapResponse(0, 52, 'shutting down'));
    });
    expect((await failure(negotiate(port, 'ldap'))).message).toMatch(/unsolicited LDAP notification/);
  });

  it('fails on a reply that is not BER', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor(LDAP_STARTTLS_REQUEST);
      p.send('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    expect((await failure(negotiate(port, 'ldap'))).message).toMatch(/not an LDAPMessage/);
  });
});

const XMPP_HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'" +
  " from='example.test' id='abc' version='1.0'>";

describe('XMPP (RFC 6120 §5)', () => {
  it('reads features split across segments and waits for <proceed/>', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      const opened = await p.waitFor("version='1.0'>");
      expect(opened.toString()).toContain("to='example.test'");
      expect(opened.toString()).toContain("xmlns='jabber:client'");
      p.send(XMPP_HEADER + '<stream:features><starttls xmlns="urn:ietf:params:xml:');
      await sleep(20);
      p.send('ns:xmpp-tls"><required/></starttls><mechanisms/></stream:featu');
      await sleep(20);
      p.send('res>');
      await p.waitFor("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      p.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    });
    const { socket, transcript } = await negotiate(port, 'xmpp');
    expect(transcript.lines.at(-1)).toBe("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await handOver(socket, peer, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  });

  it('opens a jabber:server stream for xmpp-server', async () => {
    const { port } = await scripted(async (p) => {
      const opened = await p.waitFor("version='1.0'>");
      expect(opened.toString()).toContain("xmlns='jabber:server'");
      p.send(
        XMPP_HEADER +
          "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
      );
      await p.waitFor('<starttls');
      p.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>");
    });
    await negotiate(port, 'xmpp-server');
  });

  it('fails when the features lack starttls', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor("version='1.0'>");
      p.send(XMPP_HEADER + '<stream:features><mechanisms/></stream:features>');
    });
    expect((await failure(negotiate(port, 'xmpp'))).message).toMatch(
      /XMPP server at .* does not offer STARTTLS \(stream features: <stream:features><mechanisms\/><\/stream:features>\)/,
    );
  });

  it('fails on <failure/>', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor("version='1.0'>");
      p.send(
        XMPP_HEADER +
          "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
      );
      await p.waitFor('<starttls');
      p.send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
    });
    expect((await failure(negotiate(port, 'xmpp'))).message).toMatch(/refused STARTTLS \(reply: <failure/);
  });

  it('fails on a stream error', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor("version='1.0'>");
      p.send(
        XMPP_HEADER +
          "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
      );
    });
    expect((await failure(negotiate(port, 'xmpp'))).message).toMatch(/ended the dialogue: .*host-unknown/);
  });
});

describe('ManageSieve (RFC 5804)', () => {
  it('requires "STARTTLS" among the capabilities', async () => {
    const { port } = await scripted(async (p) => {
      p.send('"IMPLEMENTATION" "x"\r\n"SASL" "PLAIN"\r\nOK "ready"\r\n');
      await sleep(10);
    });
    expect((await failure(negotiate(port, 'sieve'))).message).toMatch(
      /ManageSieve server at .* does not offer STARTTLS/,
    );
  });

  it('negotiates STARTTLS and fails on NO', async () => {
    const ok = await serverWithPeer(async (p) => {
      p.send('"IMPLEMENTATION" "x"\r\n"STARTTLS"\r\nOK "ready"\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('OK "Begin TLS negotiation now."\r\n');
    });
    const { socket } = await negotiate(ok.port, 'sieve');
    await handOver(socket, ok.peer, 'STARTTLS\r\n');

    const no = await scripted(async (p) => {
      p.send('"STARTTLS"\r\nOK\r\n');
      await p.waitFor('STARTTLS\r\n');
      p.send('NO "TLS unavailable"\r\n');
    });
    expect((await failure(negotiate(no.port, 'sieve'))).message).toMatch(
      /refused STARTTLS \(reply: NO "TLS unavailable"\)/,
    );
  });
});

describe('PostgreSQL SSLRequest', () => {
  it('sends SSLRequest and accepts S', async () => {
    const { port, peer } = await serverWithPeer(async (p) => {
      const request = await p.waitFor(POSTGRES_SSL_REQUEST);
      expect(request.readInt32BE(4)).toBe(80877103);
      p.send('S');
    });
    const { socket } = await negotiate(port, 'postgres');
    await handOver(socket, peer, POSTGRES_SSL_REQUEST);
  });

  it('fails on N', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor(POSTGRES_SSL_REQUEST);
      p.send('N');
    });
    expect((await failure(negotiate(port, 'postgres'))).message).toMatch(
      /PostgreSQL server at .* does not offer TLS \(answered SSLRequest with N\)/,
    );
  });

  it('fails when bytes follow the S (CVE-2021-23214)', async () => {
    const { port } = await scripted(async (p) => {
      await p.waitFor(POSTGRES_SSL_REQUEST);
      p.send('SR\x00\x00\x00\x08');
    });
    expect((await failure(negotiate(port, 'postgres'))).message).toMatch(
      /unexpected byte\(s\) after its STARTTLS go-ahead/,
    );
  });
});
