/**
 * @module lab/ca/dns-answerer.fixture
 * A tiny UDP DNS answerer for the CA's tests, built on dns-packet (not on src/dns, whose client is
 * the one under test, nor on the lab's own responder, written in parallel). It answers A and CAA
 * from a map that tests change while it runs, and can answer SERVFAIL or stay silent per name.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { StubResolver } from '../../dns/index.js';

export interface FixtureCaa {
  flags?: number;
  tag: 'issue' | 'issuewild' | 'iodef';
  value: string;
}

export interface DnsAnswerer {
  port: number;
  /** A records by name. */
  a: Map<string, string>;
  /** CAA RRsets by name. */
  caa: Map<string, FixtureCaa[]>;
  /** `name` or `name/TYPE` answered SERVFAIL. */
  servfail: Set<string>;
  /** `name` or `name/TYPE` never answered: the resolver times out. */
  silent: Set<string>;
  queries: number;
  /** A StubResolver pointed at this answerer, one attempt with a short timeout. */
  resolver(timeoutMs?: number): StubResolver;
  close(): Promise<void>;
}

export async function startDnsAnswerer(): Promise<DnsAnswerer> {
  const socket = dgram.createSocket('udp4');
  const a = new Map<string, string>();
  const caa = new Map<string, FixtureCaa[]>();
  const servfail = new Set<string>();
  const silent = new Set<string>();
  const exists = (name: string): boolean =>
    a.has(name) || caa.has(name) || [...a.keys(), ...caa.keys()].some((n) => n.endsWith(`.${name}`));
  socket.on('error', () => undefined);
  socket.on('message', (msg, rinfo) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    answerer.queries++;
    const q = query.questions?.[0];
    if (q === undefined) return;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const hit = (set: Set<string>): boolean => set.has(name) || set.has(`${name}/${q.type}`);
    if (hit(silent)) return;
    const answers: dnsPacket.Answer[] = [];
    if (q.type === 'A' && a.has(name))
      answers.push({ type: 'A', name: q.name, ttl: 60, data: a.get(name) as string });
    if (q.type === 'CAA') {
      for (const r of caa.get(name) ?? []) {
        answers.push({
          type: 'CAA',
          name: q.name,
          ttl: 60,
          data: { flags: r.flags ?? 0, tag: r.tag, value: r.value },
        });
      }
    }
    const rcode = hit(servfail) ? 'SERVFAIL' : exists(name) ? 'NOERROR' : 'NXDOMAIN';
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags:
        dnsPacket.RECURSION_DESIRED |
        dnsPacket.RECURSION_AVAILABLE |
        (rcode === 'SERVFAIL' ? 2 : rcode === 'NXDOMAIN' ? 3 : 0),
      questions: query.questions,
      answers: rcode === 'NOERROR' ? answers : [],
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = (socket.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  const answerer: DnsAnswerer = {
    port,
    a,
    caa,
    servfail,
    silent,
    queries: 0,
    resolver: (timeoutMs = 1000) =>
      new StubResolver({ servers: [{ host: '127.0.0.1', port }], timeoutMs, attempts: 1 }),
    close() {
      closed ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closed;
    },
  };
  return answerer;
}
