/**
 * A minimal DNS client for the harness's readiness probes and its own tests. It is independent of
 * src/dns on purpose: the stack is proven to behave before the product's client is tested on it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, OptAnswer, RecordType } from 'dns-packet';
import type { DnsEndpoint } from './dns-stack.js';

// ---------------------------------------------------------------------------------------------
// A minimal DNS client for readiness probes and the harness's own tests (not the product's client).

export interface QueryOptions {
  transport?: 'udp' | 'tcp';
  timeoutMs?: number;
  /** Set the DO bit (EDNS0 OPT record, RFC 3225). Default true. */
  dnssecOk?: boolean;
  /** Set RD. Default true. */
  recursionDesired?: boolean;
}

export interface ExtendedDnsError {
  /** RFC 8914 INFO-CODE, e.g. 6 DNSSEC Bogus, 7 Signature Expired, 10 RRSIGs Missing */
  code: number;
  text: string;
}

export interface DnsResponse {
  packet: DecodedPacket;
  /** RCODE name as dns-packet spells it: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ... */
  rcode: string;
  /** Extended DNS Errors (EDNS option 15) in the response. */
  ede: ExtendedDnsError[];
  transport: 'udp' | 'tcp';
}

const RCODES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};
const EDE_OPTION_CODE = 15;

/** Sends one query and returns the decoded response; rejects on timeout. */
export async function queryDns(
  server: DnsEndpoint,
  name: string,
  type: RecordType,
  options: QueryOptions = {},
): Promise<DnsResponse> {
  const { transport = 'udp', timeoutMs = 2_000, dnssecOk = true, recursionDesired = true } = options;
  const id = randomInt(0, 0x10000);
  const query: dnsPacket.Packet = {
    type: 'query',
    id,
    flags: recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type, name, class: 'IN' }],
    // EDNS0 (RFC 6891) with the DNS Flag Day 2020 payload size, and the DO bit (RFC 3225).
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0,
        flag_do: dnssecOk,
        options: [],
      },
    ],
  };
  const wire =
    transport === 'udp'
      ? await exchangeUdp(server, dnsPacket.encode(query), id, timeoutMs)
      : await exchangeTcp(server, dnsPacket.streamEncode(query), timeoutMs);
  const packet = dnsPacket.decode(wire);
  const flags = packet.flags ?? 0;
  return {
    packet,
    rcode: RCODES[flags & 0xf] ?? `RCODE${flags & 0xf}`,
    ede: extendedErrors(packet),
    transport,
  };
}

function extendedErrors(packet: DecodedPacket): ExtendedDnsError[] {
  const opt = packet.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
  // dns-packet does not know option 15; it leaves the raw bytes in `data`.
  const options = (opt?.options ?? []) as ReadonlyArray<{ code: number; data?: Buffer }>;
  const errors: ExtendedDnsError[] = [];
  for (const { code, data } of options) {
    if (code !== EDE_OPTION_CODE || data === undefined || data.length < 2) continue;
    errors.push({ code: data.readUInt16BE(0), text: data.subarray(2).toString('utf8') });
  }
  return errors;
}

function exchangeUdp(server: DnsEndpoint, message: Buffer, id: number, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    let settled = false;
    const finish = (err: Error | null, reply?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply as Buffer);
    };
    const timer = setTimeout(
      () => finish(new Error(`no UDP answer from ${server.host}:${server.port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('error', (err) => finish(err));
    socket.on('message', (reply, rinfo) => {
      if (rinfo.port !== server.port || reply.length < 2 || reply.readUInt16BE(0) !== id) return; // not ours
      finish(null, reply);
    });
    socket.send(message, server.port, server.host);
  });
}

function exchangeTcp(server: DnsEndpoint, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const socket = net.connect({ host: server.host, port: server.port });
    let settled = false;
    const finish = (err: Error | null, reply?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply as Buffer);
    };
    const timer = setTimeout(
      () => finish(new Error(`no TCP answer from ${server.host}:${server.port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('error', (err) => finish(err));
    socket.on('connect', () => socket.write(message));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        finish(null, received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('close', () =>
      finish(new Error(`TCP connection to ${server.host}:${server.port} closed without answer`)),
    );
  });
}
