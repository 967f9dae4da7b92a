/**
 * The traceroute wrapper without privileges: the parser on real `traceroute -T -n` output captured
 * in the namespace topology of src/lab/netns.ts (IPv4 and IPv6, with and without the port-5222
 * detour, unreachable destinations) plus hand-made edge cases, `lastHops`, the argv, and the
 * process handling (exit codes, privilege message, timeout, abort, concurrency) against a fake
 * `traceroute` script. The real tool in real namespaces: test/traceroute-netns.test.ts.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import type { TraceResult } from './mitm-types.js';
import { lastHops, parseTracerouteOutput, tcpTraceroute, traceMany, tracerouteArgv } from './traceroute.js';

const meta = (port: number): { target: string; port: number; method: string } => ({
  target: 'server.test',
  port,
  method: `traceroute -T -n -p ${port} server.test`,
});

// Captured from the topology (traceroute 2.1.2, `-T -n -q 3 -w 1`), client → r1 → (mitm →) r2 → server.
const V4_DIRECT = `traceroute to 10.77.3.2 (10.77.3.2), 30 hops max, 60 byte packets
 1  10.77.1.1  0.899 ms  0.783 ms  0.795 ms
 2  10.77.2.2  0.095 ms  0.009 ms  0.008 ms
 3  10.77.3.2  0.026 ms  0.012 ms  0.010 ms
`;
const V4_DETOUR = `traceroute to 10.77.3.2 (10.77.3.2), 30 hops max, 60 byte packets
 1  10.77.1.1  0.796 ms  0.856 ms  0.879 ms
 2  10.77.4.2  0.893 ms  0.727 ms  0.739 ms
 3  10.77.5.2  0.754 ms  0.721 ms  0.692 ms
 4  10.77.3.2  0.704 ms  0.672 ms  0.646 ms
`;
const V6_DIRECT = `traceroute to fd00:77:3::2 (fd00:77:3::2), 30 hops max, 80 byte packets
 1  fd00:77:1::1  0.052 ms  0.010 ms  0.009 ms
 2  fd00:77:2::2  0.025 ms  0.013 ms  0.020 ms
 3  fd00:77:3::2  0.037 ms  0.015 ms  0.015 ms
`;
const V6_DETOUR = `traceroute to fd00:77:3::2 (fd00:77:3::2), 30 hops max, 80 byte packets
 1  fd00:77:1::1  0.041 ms  0.009 ms  0.009 ms
 2  fd00:77:4::2  0.019 ms  0.011 ms  0.015 ms
 3  fd00:77:5::2  0.020 ms  0.011 ms  0.011 ms
 4  fd00:77:3::2  0.027 ms  0.012 ms  0.012 ms
`;
const stars = (from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, i) => `${String(from + i).padStart(2)}  * * *\n`).join('');
// A host that does not exist on the server's link: the last router's ARP/ND fails, `!H` after ~3 s.
const V4_HOST_UNREACHABLE = `traceroute to 10.77.3.9 (10.77.3.9), 30 hops max, 60 byte packets
 1  10.77.1.1  0.038 ms  0.007 ms  0.008 ms
 2  10.77.4.2  0.015 ms  0.009 ms  0.010 ms
 3  10.77.5.2  0.015 ms  0.009 ms  0.010 ms
${stars(4, 19)}20  10.77.5.2  48.734 ms !H  48.659 ms !H  48.526 ms !H
`;
const V6_HOST_UNREACHABLE = `traceroute to fd00:77:3::9 (fd00:77:3::9), 30 hops max, 80 byte packets
 1  fd00:77:1::1  0.059 ms  0.014 ms  0.012 ms
 2  fd00:77:2::2  0.028 ms  0.014 ms  0.013 ms
${stars(3, 18)}19  fd00:77:2::2  51.736 ms !H  51.680 ms !H  51.670 ms !H
`;
// No route at r1: `!N` at the first hop.
const V4_NET_UNREACHABLE = `traceroute to 10.77.99.9 (10.77.99.9), 30 hops max, 60 byte packets
 1  10.77.1.1  0.046 ms !N  0.011 ms !N  0.007 ms !N
`;

interface Case {
  name: string;
  text: string;
  port: number;
  family: 4 | 6;
  address: string;
  addressesPerHop: string[][];
  reached: boolean;
  hopCount: number | null;
  last2: string[];
}

const cases: Case[] = [
  {
    name: 'IPv4 direct',
    text: V4_DIRECT,
    port: 443,
    family: 4,
    address: '10.77.3.2',
    addressesPerHop: [['10.77.1.1'], ['10.77.2.2'], ['10.77.3.2']],
    reached: true,
    hopCount: 3,
    last2: ['10.77.1.1', '10.77.2.2'],
  },
  {
    name: 'IPv4 through the detour',
    text: V4_DETOUR,
    port: 5222,
    family: 4,
    address: '10.77.3.2',
    addressesPerHop: [['10.77.1.1'], ['10.77.4.2'], ['10.77.5.2'], ['10.77.3.2']],
    reached: true,
    hopCount: 4,
    last2: ['10.77.4.2', '10.77.5.2'],
  },
  {
    name: 'IPv6 direct',
    text: V6_DIRECT,
    port: 443,
    family: 6,
    address: 'fd00:77:3::2',
    addressesPerHop: [['fd00:77:1::1'], ['fd00:77:2::2'], ['fd00:77:3::2']],
    reached: true,
    hopCount: 3,
    last2: ['fd00:77:1::1', 'fd00:77:2::2'],
  },
  {
    name: 'IPv6 through the detour',
    text: V6_DETOUR,
    port: 5222,
    family: 6,
    address: 'fd00:77:3::2',
    addressesPerHop: [['fd00:77:1::1'], ['fd00:77:4::2'], ['fd00:77:5::2'], ['fd00:77:3::2']],
    reached: true,
    hopCount: 4,
    last2: ['fd00:77:4::2', 'fd00:77:5::2'],
  },
  {
    name: 'IPv4 host unreachable (!H after silent hops)',
    text: V4_HOST_UNREACHABLE,
    port: 5222,
    family: 4,
    address: '10.77.3.9',
    addressesPerHop: [
      ['10.77.1.1'],
      ['10.77.4.2'],
      ['10.77.5.2'],
      ...Array.from({ length: 16 }, () => []),
      ['10.77.5.2'],
    ],
    reached: false,
    hopCount: null,
    // The late `!H` from the same router counts once.
    last2: ['10.77.4.2', '10.77.5.2'],
  },
  {
    name: 'IPv6 host unreachable',
    text: V6_HOST_UNREACHABLE,
    port: 443,
    family: 6,
    address: 'fd00:77:3::9',
    addressesPerHop: [
      ['fd00:77:1::1'],
      ['fd00:77:2::2'],
      ...Array.from({ length: 16 }, () => []),
      ['fd00:77:2::2'],
    ],
    reached: false,
    hopCount: null,
    last2: ['fd00:77:1::1', 'fd00:77:2::2'],
  },
  {
    name: 'IPv4 network unreachable (!N at the first hop)',
    text: V4_NET_UNREACHABLE,
    port: 5222,
    family: 4,
    address: '10.77.99.9',
    addressesPerHop: [['10.77.1.1']],
    reached: false,
    hopCount: null,
    last2: ['10.77.1.1'],
  },
  {
    name: 'all stars up to max TTL',
    text: `traceroute to 192.0.2.7 (192.0.2.7), 5 hops max, 60 byte packets\n${stars(1, 5)}`,
    port: 443,
    family: 4,
    address: '192.0.2.7',
    addressesPerHop: [[], [], [], [], []],
    reached: false,
    hopCount: null,
    last2: [],
  },
  {
    name: 'two addresses in one hop, partial stars, destination reached after a silent hop',
    text: [
      'traceroute to example.test (2001:db8::80), 30 hops max, 80 byte packets',
      ' 1  2001:db8:1::1  0.301 ms  0.290 ms  0.280 ms',
      ' 2  2001:db8:2::1  1.100 ms 2001:db8:2::2  1.200 ms *',
      ' 3  * * *',
      ' 4  * 2001:DB8:0:0::80  3.456 ms  3.400 ms',
      '',
    ].join('\n'),
    port: 5269,
    family: 6,
    address: '2001:db8::80',
    addressesPerHop: [['2001:db8:1::1'], ['2001:db8:2::1', '2001:db8:2::2'], [], ['2001:DB8:0:0::80']],
    reached: true,
    hopCount: 4,
    last2: ['2001:db8:1::1', '2001:db8:2::1'],
  },
  {
    name: 'destination never reached within max TTL',
    text: [
      'traceroute to 198.51.100.9 (198.51.100.9), 4 hops max, 60 byte packets',
      ' 1  192.0.2.1  0.100 ms  0.090 ms  0.080 ms',
      ' 2  192.0.2.2  0.200 ms  0.190 ms  0.180 ms',
      ' 3  203.0.113.3  0.300 ms * 0.280 ms',
      ' 4  * * *',
    ].join('\n'),
    port: 443,
    family: 4,
    address: '198.51.100.9',
    addressesPerHop: [['192.0.2.1'], ['192.0.2.2'], ['203.0.113.3'], []],
    reached: false,
    hopCount: null,
    last2: ['192.0.2.2', '203.0.113.3'],
  },
  {
    name: 'names (no -n), -O info flags, -e extensions, admin prohibited from the destination',
    text: [
      'traceroute to xmpp.test (192.0.2.50), 30 hops max, 60 byte packets',
      ' 1  gw.test (192.0.2.1)  0.100 ms <MPLS:L=1234,E=0,S=1,T=1>  0.090 ms  0.080 ms',
      ' 2  192.0.2.50  0.300 ms <syn,ack>  0.290 ms <syn,ack>  0.280 ms !X',
    ].join('\n'),
    port: 5222,
    family: 4,
    address: '192.0.2.50',
    addressesPerHop: [['192.0.2.1'], ['192.0.2.50']],
    reached: true,
    hopCount: 2,
    last2: ['192.0.2.1'],
  },
];

describe('parseTracerouteOutput', () => {
  it.each(cases)('$name', (c) => {
    const trace = parseTracerouteOutput(c.text, meta(c.port));
    expect(trace.address).toBe(c.address);
    expect(trace.family).toBe(c.family);
    expect(trace.port).toBe(c.port);
    expect(trace.target).toBe('server.test');
    expect(trace.method).toBe(`traceroute -T -n -p ${c.port} server.test`);
    expect(trace.hops.map((h) => h.addresses)).toEqual(c.addressesPerHop);
    expect(trace.hops.map((h) => h.ttl)).toEqual(c.addressesPerHop.map((_, i) => i + 1));
    expect(trace.reached).toBe(c.reached);
    expect(trace.hopCount).toBe(c.hopCount);
    expect(lastHops(trace, 2)).toEqual({ hops: c.last2, hopCount: c.hopCount });
  });

  it('keeps the round-trip times of answered probes only, and the annotations', () => {
    const trace = parseTracerouteOutput(cases[8]?.text ?? '', meta(5269));
    expect(trace.hops[1]).toEqual({
      ttl: 2,
      addresses: ['2001:db8:2::1', '2001:db8:2::2'],
      rttMs: [1.1, 1.2],
    });
    expect(trace.hops[2]).toEqual({ ttl: 3, addresses: [], rttMs: [] });
    expect(trace.hops[3]?.rttMs).toEqual([3.456, 3.4]);
    const unreachable = parseTracerouteOutput(V4_NET_UNREACHABLE, meta(5222));
    expect(unreachable.hops[0]).toEqual({
      ttl: 1,
      addresses: ['10.77.1.1'],
      rttMs: [0.046, 0.011, 0.007],
      annotations: ['!N'],
    });
    const extras = parseTracerouteOutput(cases[10]?.text ?? '', meta(5222));
    expect(extras.hops[0]?.rttMs).toEqual([0.1, 0.09, 0.08]);
    expect(extras.hops[1]?.annotations).toEqual(['!X']);
  });

  it('ignores stray lines and uses the meta address when the header is missing', () => {
    const text = 'some warning from the tool\n 1  10.0.0.1  1.000 ms\n 2  192.0.2.9  2.000 ms\n';
    const trace = parseTracerouteOutput(text, { ...meta(443), address: '192.0.2.9', family: 4 });
    expect(trace.address).toBe('192.0.2.9');
    expect(trace.reached).toBe(true);
    expect(trace.hopCount).toBe(2);
  });

  it('throws TRACE_FAILED when there is nothing to parse', () => {
    for (const text of ['', '\n', 'Cannot handle "host" cmdline arg']) {
      expect(() => parseTracerouteOutput(text, meta(443))).toThrow(
        expect.objectContaining({ code: 'TRACE_FAILED' }) as Error,
      );
    }
  });
});

describe('lastHops', () => {
  const trace = parseTracerouteOutput(V4_DETOUR, meta(5222));

  it('returns up to n hops before the destination, nearest last', () => {
    expect(lastHops(trace, 1)).toEqual({ hops: ['10.77.5.2'], hopCount: 4 });
    expect(lastHops(trace, 3)).toEqual({ hops: ['10.77.1.1', '10.77.4.2', '10.77.5.2'], hopCount: 4 });
    expect(lastHops(trace, 10)).toEqual({ hops: ['10.77.1.1', '10.77.4.2', '10.77.5.2'], hopCount: 4 });
    expect(lastHops(trace, 0)).toEqual({ hops: [], hopCount: 4 });
  });

  it('takes the first address of a hop with several and skips silent hops', () => {
    const multi = parseTracerouteOutput(cases[8]?.text ?? '', meta(5269));
    expect(lastHops(multi, 5)).toEqual({ hops: ['2001:db8:1::1', '2001:db8:2::1'], hopCount: 4 });
  });

  it('rejects a bad n', () => {
    expect(() => lastHops(trace, -1)).toThrow(expect.objectContaining({ code: 'USAGE' }) as Error);
    expect(() => lastHops(trace, 1.5)).toThrow(expect.objectContaining({ code: 'USAGE' }) as Error);
  });

  it('works on a hand-built TraceResult', () => {
    const built: TraceResult = {
      target: 't',
      address: '192.0.2.9',
      port: 443,
      family: 4,
      hops: [
        { ttl: 1, addresses: ['192.0.2.1'], rttMs: [1] },
        { ttl: 2, addresses: [], rttMs: [] },
        { ttl: 3, addresses: ['192.0.2.9'], rttMs: [1] },
      ],
      reached: true,
      hopCount: 3,
      method: 'x',
    };
    expect(lastHops(built, 2)).toEqual({ hops: ['192.0.2.1'], hopCount: 3 });
  });
});

describe('tracerouteArgv', () => {
  it('builds the TCP SYN command line with the defaults', () => {
    expect(tracerouteArgv('192.0.2.1', { port: 5222 })).toEqual([
      'traceroute',
      '-T',
      '-n',
      '-4',
      '-q',
      '3',
      '-w',
      '1',
      '-m',
      '30',
      '-p',
      '5222',
      '192.0.2.1',
    ]);
  });

  it('passes family, probes, wait, TTLs, binary and netns', () => {
    expect(
      tracerouteArgv('xmpp.test', {
        port: 5269,
        family: 6,
        probesPerHop: 1,
        waitSeconds: 0.5,
        maxTtl: 8,
        firstTtl: 2,
        binary: '/usr/sbin/traceroute',
        netns: 'cv-x-client',
      }),
    ).toEqual([
      'ip',
      'netns',
      'exec',
      'cv-x-client',
      '/usr/sbin/traceroute',
      '-T',
      '-n',
      '-6',
      '-q',
      '1',
      '-w',
      '0.5',
      '-m',
      '8',
      '-f',
      '2',
      '-p',
      '5269',
      'xmpp.test',
    ]);
    expect(tracerouteArgv('2001:db8::1', { port: 443 })).toContain('-6');
    expect(tracerouteArgv('host.test', { port: 443 })).not.toContain('-4');
  });

  it.each([
    ['a leading dash', '-x', { port: 443 }],
    ['an empty target', '', { port: 443 }],
    ['whitespace', 'a b', { port: 443 }],
    ['port 0', 'h.test', { port: 0 }],
    ['port 65536', 'h.test', { port: 65_536 }],
    ['11 probes', 'h.test', { port: 1, probesPerHop: 11 }],
    ['wait 0', 'h.test', { port: 1, waitSeconds: 0 }],
    ['maxTtl 256', 'h.test', { port: 1, maxTtl: 256 }],
    ['firstTtl above maxTtl', 'h.test', { port: 1, maxTtl: 3, firstTtl: 4 }],
    ['a family mismatch', '192.0.2.1', { port: 1, family: 6 as const }],
  ])('rejects %s as USAGE', (_name, target, options) => {
    expect(() => tracerouteArgv(target, options)).toThrow(
      expect.objectContaining({ code: 'USAGE' }) as Error,
    );
  });
});

describe('tcpTraceroute and traceMany with a fake traceroute', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certvigil-traceroute-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** An executable script standing in for traceroute; it sees the same argv. */
  const fake = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };

  const printsOutput = fake(
    'prints',
    // Echo the detour output for port 5222 and the direct one otherwise; log the argv.
    `echo "$@" >> "${join(dir, 'argv.log')}"
case "$*" in
  *"-p 5222 "*) printf '%s' '${V4_DETOUR}' ;;
  *) printf '%s' '${V4_DIRECT}' ;;
esac`,
  );

  it('runs the binary and parses its output', async () => {
    const trace = await tcpTraceroute('10.77.3.2', { port: 5222, binary: printsOutput });
    expect(trace.reached).toBe(true);
    expect(trace.hopCount).toBe(4);
    expect(trace.method).toBe(`${printsOutput} -T -n -4 -q 3 -w 1 -m 30 -p 5222 10.77.3.2`);
    expect(lastHops(trace, 2).hops).toEqual(['10.77.4.2', '10.77.5.2']);
  });

  it('turns the missing-privilege message into TRACE_PRIVILEGE', async () => {
    // What traceroute 2.1.2 prints with -T when run without root or CAP_NET_RAW (exit 1).
    const binary = fake(
      'unprivileged',
      `echo 'You do not have enough privileges to use this traceroute method.' >&2
echo 'socket: Operation not permitted' >&2
exit 1`,
    );
    const error: unknown = await tcpTraceroute('192.0.2.1', { port: 443, binary }).catch((e: unknown) => e);
    expect(isCertvigilError(error) && error.code).toBe('TRACE_PRIVILEGE');
    expect((error as Error).message).toMatch(/root or CAP_NET_RAW/);
  });

  it('reports a non-zero exit with its stderr as TRACE_FAILED', async () => {
    const binary = fake(
      'unresolvable',
      `echo 'nowhere.invalid: Name or service not known' >&2
echo 'Cannot handle "host" cmdline arg on position 1' >&2
exit 2`,
    );
    await expect(tcpTraceroute('nowhere.invalid', { port: 443, binary })).rejects.toMatchObject({
      code: 'TRACE_FAILED',
      message: expect.stringMatching(/exit 2.*Name or service not known/s) as string,
    });
  });

  it('reports a missing binary as TRACE_FAILED with the package name', async () => {
    await expect(
      tcpTraceroute('192.0.2.1', { port: 443, binary: join(dir, 'absent') }),
    ).rejects.toMatchObject({
      code: 'TRACE_FAILED',
      message: expect.stringContaining('Debian package: traceroute') as string,
    });
  });

  it('kills a run that passes timeoutMs (TRACE_TIMEOUT)', async () => {
    const binary = fake('hangs', 'exec sleep 30');
    const started = Date.now();
    await expect(tcpTraceroute('192.0.2.1', { port: 443, binary, timeoutMs: 200 })).rejects.toMatchObject({
      code: 'TRACE_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('kills the run on abort (TRACE_ABORTED), also when aborted before the start', async () => {
    const binary = fake('hangs2', 'exec sleep 30');
    const controller = new AbortController();
    const run = tcpTraceroute('192.0.2.1', { port: 443, binary, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(run).rejects.toMatchObject({ code: 'TRACE_ABORTED' });
    await expect(
      tcpTraceroute('192.0.2.1', { port: 443, binary, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'TRACE_ABORTED' });
  });

  it('traceMany: one result per port in order, bounded concurrency', async () => {
    // Each run records start and end in a log; at most 2 may overlap.
    const log = join(dir, 'concurrency.log');
    const binary = fake(
      'slow',
      `echo start >> "${log}"; sleep 0.2; echo end >> "${log}"
case "$*" in
  *"-p 5222 "*) printf '%s' '${V4_DETOUR}' ;;
  *) printf '%s' '${V4_DIRECT}' ;;
esac`,
    );
    const results = await traceMany('10.77.3.2', [443, 5222, 5269, 5222], { binary, concurrency: 2 });
    expect(results.map((r) => [r.port, r.hopCount])).toEqual([
      [443, 3],
      [5222, 4],
      [5269, 3],
      [5222, 4],
    ]);
    let running = 0;
    let peak = 0;
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      running += line === 'start' ? 1 : -1;
      peak = Math.max(peak, running);
    }
    expect(peak).toBe(2);
  });

  it('traceMany: the first failure is thrown and stops the rest', async () => {
    const binary = fake(
      'fails5222',
      `case "$*" in
  *"-p 5222 "*) echo 'boom' >&2; exit 3 ;;
  *) exec sleep 30 ;;
esac`,
    );
    const started = Date.now();
    await expect(traceMany('192.0.2.1', [443, 5222, 993], { binary, concurrency: 3 })).rejects.toMatchObject({
      code: 'TRACE_FAILED',
      message: expect.stringContaining('boom') as string,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
