/**
 * Checks the DNS test stack itself: that Unbound, Knot, NSD and the blackhole give the answers
 * the CAA integration tests rely on (test/vectors/caa-cases.json), and that stop() cleans up.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaaData, RecordType } from 'dns-packet';
import { queryDns, startDnsStack } from './dns-stack.js';
import type { DnsEndpoint, DnsResponse, DnsStack } from './dns-stack.js';
import { processesMentioning } from './processes.js';

/** RFC 8914 INFO-CODEs 1-12 are the DNSSEC ones (6 DNSSEC Bogus, 7 Signature Expired, 9 DNSKEY Missing, ...). */
const isDnssecEde = (code: number): boolean => code >= 1 && code <= 12;

/** RD + DO query over UDP, retried over TCP when the UDP answer is truncated (as a stub resolver does). */
async function ask(server: DnsEndpoint, name: string, type: RecordType = 'CAA'): Promise<DnsResponse> {
  const udp = await queryDns(server, name, type);
  return udp.packet.flag_tc ? queryDns(server, name, type, { transport: 'tcp' }) : udp;
}

function caaRecords(response: DnsResponse): CaaData[] {
  return (response.packet.answers ?? []).flatMap((a) => (a.type === 'CAA' ? [a.data] : []));
}

describe('DNS test stack', () => {
  let stack: DnsStack;
  const resolve = (name: string, type?: RecordType): Promise<DnsResponse> => ask(stack.resolver, name, type);

  beforeAll(async () => {
    stack = await startDnsStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers CAA in the signed zone with AD', async () => {
    const r = await resolve('le.caa.test');
    expect(r.rcode).toBe('NOERROR');
    expect(r.packet.flag_ad).toBe(true);
    expect(caaRecords(r)).toEqual([
      expect.objectContaining({ flags: 0, tag: 'issue', value: 'letsencrypt.org' }),
    ]);
  });

  it('truncates the 1,001-record CAA RRset over UDP and returns it whole over TCP', async () => {
    const udp = await queryDns(stack.resolver, 'big.caa.test', 'CAA');
    expect(udp.rcode).toBe('NOERROR');
    expect(udp.packet.flag_tc).toBe(true);
    const tcp = await queryDns(stack.resolver, 'big.caa.test', 'CAA', { transport: 'tcp' });
    expect(tcp.rcode).toBe('NOERROR');
    expect(tcp.packet.flag_tc).toBe(false);
    expect(tcp.packet.flag_ad).toBe(true);
    expect(caaRecords(tcp)).toHaveLength(1001);
  });

  it('gives NODATA, NXDOMAIN and the parent test. answer without failing', async () => {
    const nodata = await resolve('allow-any.caa.test');
    expect(nodata.rcode).toBe('NOERROR');
    expect(caaRecords(nodata)).toHaveLength(0);
    expect(nodata.packet.flag_ad).toBe(true); // secure denial (NSEC)

    const nxdomain = await resolve('nope.caa.test');
    expect(nxdomain.rcode).toBe('NXDOMAIN');
    expect(nxdomain.packet.flag_ad).toBe(true);

    // test. is unsigned and above the trust anchor: insecure NODATA, no AD.
    const parent = await resolve('test');
    expect(parent.rcode).toBe('NOERROR');
    expect(parent.packet.answers ?? []).toHaveLength(0);
    expect(parent.packet.flag_ad).toBe(false);
  });

  it('follows a CNAME to the target CAA RRset', async () => {
    const r = await resolve('cname-other.caa.test');
    expect(r.rcode).toBe('NOERROR');
    const answers = r.packet.answers ?? [];
    expect(answers).toContainEqual(
      expect.objectContaining({ type: 'CNAME', name: 'cname-other.caa.test', data: 'other.caa.test' }),
    );
    expect(answers).toContainEqual(
      expect.objectContaining({
        type: 'CAA',
        name: 'other.caa.test',
        data: expect.objectContaining({ tag: 'issue', value: 'other-ca.example' }),
      }),
    );
  });

  it('validates the chain caa.test. → signed.caa.test. → ok.signed.caa.test.', async () => {
    const r = await resolve('ok.signed.caa.test');
    expect(r.rcode).toBe('NOERROR');
    expect(r.packet.flag_ad).toBe(true);
    expect(caaRecords(r)).toEqual([expect.objectContaining({ tag: 'issue', value: 'letsencrypt.org' })]);
  });

  it('has Knot answer DS queries for a child apex from the parent zone', async () => {
    // Knot serves both signed.caa.test. and its parent; the DS must come from caa.test. (signed by it).
    const r = await queryDns(stack.authoritative, 'signed.caa.test', 'DS', { recursionDesired: false });
    expect(r.rcode).toBe('NOERROR');
    expect(r.packet.flag_aa).toBe(true);
    const answers = r.packet.answers ?? [];
    expect(answers.filter((a) => a.type === 'DS')).toHaveLength(1);
    expect(answers).toContainEqual(
      expect.objectContaining({ type: 'RRSIG', data: expect.objectContaining({ signersName: 'caa.test' }) }),
    );
  });

  // Observed with Unbound 1.17.1 (Debian 12), ede: yes, val-log-level: 2, val-bogus-ttl: 0:
  //   expired.signed.caa.test. CAA   → SERVFAIL, EDE 7 "Signature Expired", text "validation failure
  //     <expired.signed.caa.test. CAA IN>: signature expired from 127.0.0.1 for key expired.signed.caa.test.
  //     while building chain of trust" (later queries: same code, text "key ... is marked as invalid
  //     because of a previous validation failure ...")
  //   x.missing.signed.caa.test. CAA → SERVFAIL, EDE 9 "DNSKEY Missing", text "validation failure
  //     <x.missing.signed.caa.test. CAA IN>: No DNSKEY record from 127.0.0.1 for key missing.signed.caa.test.
  //     while building chain of trust"
  // With bogus answers cached (val-bogus-ttl > 0), repeated queries got EDE 6 "DNSSEC Bogus" with no text.
  it('returns SERVFAIL with EDE 7 (Signature Expired) for expired signatures', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await resolve('expired.signed.caa.test');
      expect(r.rcode).toBe('SERVFAIL');
      expect(r.ede.map((e) => e.code)).toEqual([7]);
    }
  });

  it('returns SERVFAIL with EDE 9 (DNSKEY Missing) for a DS whose zone is unsigned', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await resolve('x.missing.signed.caa.test');
      expect(r.rcode).toBe('SERVFAIL');
      expect(r.ede.map((e) => e.code)).toEqual([9]);
    }
  });

  // Observed with Unbound 1.17.1: SERVFAIL with no EDE option at all for these two and for
  // blackhole.caa.test (newer Unbound versions may add EDE 22/23); what matters is that no DNSSEC
  // code is claimed.
  it.each(['servfail.caa.test', 'refused.caa.test'])('returns SERVFAIL for %s', async (name) => {
    const r = await resolve(name);
    expect(r.rcode).toBe('SERVFAIL');
    expect(r.ede.filter((e) => isDnssecEde(e.code))).toEqual([]);
  });

  it('has Knot answer SERVFAIL for the zone whose file failed to load', async () => {
    const knot = await queryDns(stack.authoritative, 'servfail.caa.test', 'CAA', { recursionDesired: false });
    expect(knot.rcode).toBe('SERVFAIL');
  });

  it('returns SERVFAIL for blackhole.caa.test within a few seconds, not a client timeout', async () => {
    const started = Date.now();
    const outcome = await queryDns(stack.resolver, 'blackhole.caa.test', 'CAA', { timeoutMs: 10_000 }).then(
      (r) => r,
      (err: Error) => err,
    );
    const elapsedMs = Date.now() - started;
    // Observed: SERVFAIL after ~2.3 s (infra-cache-max-rtt 1000, discard-timeout 0), then at once
    // while the server is marked down. Without discard-timeout: 0 the client got no answer at all.
    expect(outcome).not.toBeInstanceOf(Error);
    expect((outcome as DnsResponse).rcode).toBe('SERVFAIL');
    expect((outcome as DnsResponse).ede.filter((e) => isDnssecEde(e.code))).toEqual([]);
    expect(elapsedMs).toBeLessThan(10_000);

    // The blackhole itself never answers.
    await expect(queryDns(stack.blackhole, 'blackhole.caa.test', 'SOA', { timeoutMs: 300 })).rejects.toThrow(
      /no UDP answer/,
    );
  });

  it('never resolves names outside test. (no way out to the root servers)', async () => {
    const r = await resolve('example.com', 'A');
    expect(r.rcode).toBe('SERVFAIL'); // the "." stub is Knot, which REFUSES
  });

  it('runs a second stack beside this one with extraRecords, and leaves nothing behind after stop()', async () => {
    const second = await startDnsStack({ extraRecords: ['harness-extra CAA 0 issue "extra.example"'] });
    let stopped = false;
    try {
      expect(second.resolver.port).not.toBe(stack.resolver.port);
      const r = await ask(second.resolver, 'harness-extra.caa.test');
      expect(r.rcode).toBe('NOERROR');
      expect(r.packet.flag_ad).toBe(true);
      expect(caaRecords(r)).toEqual([expect.objectContaining({ tag: 'issue', value: 'extra.example' })]);
      // The first stack has no such record, and its keys differ: the two do not share anything.
      expect((await resolve('harness-extra.caa.test')).rcode).toBe('NXDOMAIN');

      // knotd, nsd (main + forked children), unbound and the watchdog shell all name the work dir.
      expect(processesMentioning(second.workDir).length).toBeGreaterThanOrEqual(4);
      await second.stop();
      stopped = true;
      expect(processesMentioning(second.workDir)).toEqual([]);
      expect(existsSync(second.workDir)).toBe(false);
      await second.stop(); // idempotent
    } finally {
      if (!stopped) await second.stop();
    }
    // The first stack is unaffected.
    expect((await resolve('le.caa.test')).packet.flag_ad).toBe(true);
  });
});
