/**
 * `hostResolverVia`: the iodef reporter's https: hosts resolved through `--resolver`, asked of the
 * lab's embedded authoritative DNS responder (real UDP/TCP on loopback) and of two hostile servers
 * (one that answers SERVFAIL to everything, one that never answers).
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubResolver } from '../dns/index.js';
import { LabZone, startDnsResponder } from '../lab/index.js';
import type { DnsResponder } from '../lab/index.js';
import { hostResolverVia } from './resolver-options.js';

let dns: DnsResponder;
let servfail: dgram.Socket;
let silent: dgram.Socket;

/** A UDP "resolver" that answers every query with its question and RCODE 2 (RFC 1035 §4.1.1). */
async function startServfail(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  socket.on('message', (msg, peer) => {
    if (msg.length < 12) return;
    const reply = Buffer.from(msg);
    reply[2] = 0x80 | ((msg[2] ?? 0) & 0x79); // QR, keep opcode and RD
    reply[3] = 0x82; // RA, RCODE=SERVFAIL
    reply.writeUInt16BE(0, 6); // no answers
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10); // drop the OPT record: the question is all we echo
    const end = questionEnd(msg);
    socket.send(reply.subarray(0, end), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

/** Offset just past the first question (name labels, type, class). */
function questionEnd(msg: Buffer): number {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) i += (msg[i] ?? 0) + 1;
  return Math.min(msg.length, i + 5);
}

async function startSilent(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

const portOf = (s: dgram.Socket): number => s.address().port;
const via = (port: number, timeoutMs = 1000): ReturnType<typeof hostResolverVia> =>
  hostResolverVia(new StubResolver({ servers: [{ host: '127.0.0.1', port }], timeoutMs, attempts: 1 }));

beforeAll(async () => {
  const zone = new LabZone({ apexes: ['example.lab'] });
  zone.set('v4.example.lab', 'A', ['127.0.0.1', '127.0.0.2']);
  zone.set('v6.example.lab', 'AAAA', ['::1']);
  zone.set('both.example.lab', 'A', ['127.0.0.3']);
  zone.set('both.example.lab', 'AAAA', ['2001:db8::3']);
  zone.set('alias.example.lab', 'CNAME', ['v4.example.lab']);
  zone.set('dangling.example.lab', 'CNAME', ['nowhere.example.lab']);
  zone.set('txt.example.lab', 'TXT', ['no address here']);
  zone.set('iodef.example.lab', 'CAA', [{ flags: 0, tag: 'iodef', value: 'https://iodef.example.lab/' }]);
  [dns, servfail, silent] = await Promise.all([
    startDnsResponder({ zone, host: '127.0.0.1' }),
    startServfail(),
    startSilent(),
  ]);
});

afterAll(async () => {
  await dns?.close();
  servfail?.close();
  silent?.close();
});

describe('hostResolverVia against the lab DNS responder', () => {
  it.each<[string, string, { address: string; family: 4 | 6 }[]]>([
    [
      'A only',
      'v4.example.lab',
      [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ],
    ],
    ['AAAA only', 'v6.example.lab', [{ address: '::1', family: 6 }]],
    [
      'A and AAAA',
      'both.example.lab',
      [
        { address: '127.0.0.3', family: 4 },
        { address: '2001:db8::3', family: 6 },
      ],
    ],
    [
      'a CNAME to an A (the alias target’s addresses)',
      'alias.example.lab',
      [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ],
    ],
    [
      'a name in another case with the root dot',
      'BOTH.Example.LAB.',
      [
        { address: '127.0.0.3', family: 4 },
        { address: '2001:db8::3', family: 6 },
      ],
    ],
  ])('%s', async (_label, host, want) => {
    const got = await via(dns.port)(host);
    expect([...got].sort((a, b) => a.address.localeCompare(b.address))).toEqual(
      [...want].sort((a, b) => a.address.localeCompare(b.address)),
    );
  });

  it('NXDOMAIN throws, naming the rcode', async () => {
    await expect(via(dns.port)('missing.example.lab')).rejects.toThrow(
      /lookup failed \(A NXDOMAIN, AAAA NXDOMAIN\)/,
    );
  });

  it('a CNAME to nothing throws (NXDOMAIN at the end of the chain, RFC 6604)', async () => {
    await expect(via(dns.port)('dangling.example.lab')).rejects.toThrow(/NXDOMAIN/);
  });

  it.each(['txt.example.lab', 'iodef.example.lab'])(
    'a name with no address (%s, NODATA) throws',
    async (host) => {
      await expect(via(dns.port)(host)).rejects.toThrow('no A or AAAA record');
    },
  );

  it('a name outside the zone (REFUSED) throws', async () => {
    await expect(via(dns.port)('jabber.ru')).rejects.toThrow(/lookup failed \(A REFUSED, AAAA REFUSED\)/);
  });
});

describe('hostResolverVia against broken resolvers', () => {
  it('SERVFAIL throws', async () => {
    await expect(via(portOf(servfail))('v4.example.lab')).rejects.toThrow(/A SERVFAIL, AAAA SERVFAIL/);
  });

  it('a resolver that never answers throws within the time-out', async () => {
    const started = Date.now();
    await expect(via(portOf(silent), 200)('v4.example.lab')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
