/**
 * The probe sockets against scripted loopback servers that answer the hello with fixed (often
 * hostile) bytes: every answer becomes a `hello`, `refused` or `failed` outcome, never a throw, and
 * the decision drawn from it is a finding.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideTlsPolicy, planTlsProbes } from './tls-policy.js';
import type { TlsProbeAnswer } from './tls-policy.js';
import { answerOf, helloFor, runTlsProbes } from './tls-policy-probe.js';
import { parseServerFlight } from './tls-hello.js';

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const record = (type: number, body: number[]): Buffer =>
  Buffer.from([type, 3, 1, ...u16(body.length), ...body]);
const handshake = (type: number, body: number[]): number[] => [type, ...u24(body.length), ...body];
const serverHelloBody = (version: number, suite: number): number[] => [
  ...u16(version),
  ...new Array<number>(32).fill(7),
  0, // session_id
  ...u16(suite),
  0,
];
const flight = (version: number, suite: number): Buffer =>
  record(22, [...handshake(2, serverHelloBody(version, suite)), ...handshake(14, [])]);

type Script = (socket: net.Socket) => void;
const scripts: Record<string, Script> = {
  tls10: (s) => s.end(flight(0x0301, 0xc013)),
  alert: (s) => s.end(record(21, [2, 70])),
  close: (s) => s.end(),
  reset: (s) => s.resetAndDestroy(),
  silent: () => undefined,
  notTls: (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'),
  truncatedHello: (s) => s.end(record(22, handshake(2, serverHelloBody(0x0301, 0xc013).slice(0, 20)))),
  wrongLengths: (s) => s.end(Buffer.from([22, 3, 1, 0, 9, 2, 0, 0, 0x40, 3, 1, 0, 0, 0])), // message claims 64 bytes, record ends
  helloThenClose: (s) => s.end(record(22, handshake(2, serverHelloBody(0x0301, 0xc013)))),
  versionNotOffered: (s) => s.end(flight(0x0303, 0xc013)),
  suiteNotOffered: (s) => s.end(flight(0x0301, 0x1301)),
  weak3des: (s) => s.end(flight(0x0303, 0x000a)),
  // server_version 1.2 but an unsolicited supported_versions "TLS 1.0" (RFC 5246 §7.4.1.4)
  unsolicitedVersions: (s) =>
    s.end(
      record(22, [
        ...handshake(2, [...serverHelloBody(0x0303, 0xc013), 0, 6, 0, 43, 0, 2, 3, 1]),
        ...handshake(14, []),
      ]),
    ),
};

const servers = new Map<string, { server: net.Server; port: number }>();
const accepted = new Set<net.Socket>();

beforeAll(async () => {
  for (const [name, script] of Object.entries(scripts)) {
    const server = net.createServer((socket) => {
      accepted.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => script(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.set(name, { server, port: (server.address() as AddressInfo).port });
  }
});

afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  for (const { server } of servers.values()) await new Promise((resolve) => server.close(resolve));
});

const connectTo = (name: string) => () =>
  new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: servers.get(name)?.port ?? 1 });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });

describe('runTlsProbes against scripted servers', () => {
  it.each<[string, TlsProbeAnswer['kind'], RegExp, string[]]>([
    ['tls10', 'hello', /./, ['critical tls-version-accepted', 'info tls-versions']],
    ['alert', 'refused', /alert protocol_version/, ['info tls-versions']],
    ['close', 'refused', /connection closed/, ['info tls-versions']],
    ['reset', 'refused', /connection reset/, ['info tls-versions']],
    ['silent', 'failed', /within/, ['unknown tls-probe-failed', 'info tls-versions']],
    ['notTls', 'failed', /not a TLS server/, ['unknown tls-probe-failed', 'info tls-versions']],
    ['truncatedHello', 'failed', /ServerHello/, ['unknown tls-probe-failed', 'info tls-versions']],
    ['wrongLengths', 'failed', /closed mid-answer/, ['unknown tls-probe-failed', 'info tls-versions']],
    ['helloThenClose', 'hello', /./, ['critical tls-version-accepted', 'info tls-versions']],
    [
      'versionNotOffered',
      'hello',
      /./,
      ['warning tls-probe-anomaly', 'unknown tls-probe-failed', 'info tls-versions'],
    ],
    [
      'unsolicitedVersions',
      'hello',
      /./,
      ['warning tls-probe-anomaly', 'unknown tls-probe-failed', 'info tls-versions'],
    ],
    [
      'suiteNotOffered',
      'hello',
      /./,
      ['warning tls-probe-anomaly', 'unknown tls-probe-failed', 'info tls-versions'],
    ],
  ])('%s → %s', async (name, kind, detail, ids) => {
    const settings = { requireNoTls1: true };
    const [outcome, ...rest] = await runTlsProbes(planTlsProbes(settings), {
      connect: connectTo(name),
      serverName: 'www.example.test',
      deadline: Date.now() + 300,
    });
    expect(rest).toEqual([]);
    expect(outcome?.answer.kind).toBe(kind);
    if (outcome?.answer.kind !== 'hello') expect(outcome?.answer.detail).toMatch(detail);
    const findings = decideTlsPolicy(outcome ? [outcome] : [], settings, '127.0.0.1', null);
    expect(findings.map((f) => `${f.severity} ${f.id}`)).toEqual(ids);
  });

  it('probes run at once, each on its own connection; a weak suite is named', async () => {
    const settings = { minTls: '1.3', weakCiphers: 'warning' } as const;
    let connections = 0;
    const started = Date.now();
    const outcomes = await runTlsProbes(planTlsProbes(settings), {
      connect: () => {
        connections++;
        return connectTo('weak3des')();
      },
      serverName: null,
      deadline: Date.now() + 2000,
    });
    expect(connections).toBe(4);
    expect(Date.now() - started).toBeLessThan(1500);
    const findings = decideTlsPolicy(outcomes, settings, '127.0.0.1', 'TLSv1.2');
    // TLS 1.0 and 1.1 hellos answered with TLS 1.2: anomalies; the 1.2 and weak hellos: accepted.
    expect(findings.filter((f) => f.id === 'weak-cipher').map((f) => f.message)).toEqual([
      'the server agreed to TLS_RSA_WITH_3DES_EDE_CBC_SHA with TLS 1.2 (64-bit block cipher, SWEET32)',
    ]);
    expect(findings.some((f) => f.id === 'tls-version-accepted' && /TLS 1\.2/.test(f.message))).toBe(true);
  });

  it('a connection that cannot be opened is a failed answer, not a throw', async () => {
    const [outcome] = await runTlsProbes(planTlsProbes({ requireNoTls1: true }), {
      connect: () => Promise.reject(new Error('ECONNREFUSED')),
      serverName: null,
      deadline: Date.now() + 100,
    });
    expect(outcome?.answer).toEqual({ kind: 'failed', detail: 'connection failed: ECONNREFUSED' });
  });

  it('an aborted check ends the probes at once', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const [outcome] = await runTlsProbes(planTlsProbes({ requireNoTls1: true }), {
      connect: connectTo('silent'),
      serverName: null,
      deadline: Date.now() + 10_000,
      signal: controller.signal,
    });
    expect(outcome?.answer.kind).toBe('failed');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('helloFor / answerOf', () => {
  it('a TLS 1.3 probe is a TLS 1.2 record with supported_versions, and the HRR-style answer reads as TLS 1.3', () => {
    const bytes = helloFor({ kind: 'version', version: 0x0304, suites: [0x1301] }, null);
    expect(bytes[9]).toBe(3);
    expect(bytes[10]).toBe(3); // legacy_version 0x0303 (RFC 8446 §4.1.2)
    const sh = [...serverHelloBody(0x0303, 0x1301), 0, 6, 0, 43, 0, 2, 3, 4];
    const { facts } = parseServerFlight(record(22, handshake(2, sh)));
    expect(answerOf(facts, { kind: 'version', version: 0x0304, suites: [0x1301] })).toEqual({
      kind: 'hello',
      version: 0x0304,
      cipherSuite: 0x1301,
    });
  });
});
