/**
 * The responder as BIND's `dig` sees it (bind9-dnsutils): a third-party client's reading of the
 * header flags, RCODEs, truncation and the TCP retry, EDNS, and the 0x20 question echo.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsResponder, type DnsResponder } from './responder.js';
import { labTestZone } from './test-zone.fixture.js';

function digInstalled(): boolean {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAVE_DIG = digInstalled();

let dns: DnsResponder;
const zone = labTestZone();

beforeAll(async () => {
  dns = await startDnsResponder({ zone });
});
afterAll(() => dns?.close());

interface Dig {
  status: string;
  flags: string[];
  answers: number;
  authority: number;
  transport: string;
  text: string;
}

async function dig(...args: string[]): Promise<Dig> {
  const { stdout } = await promisify(execFile)(
    'dig',
    [`@${dns.host}`, '-p', String(dns.port), '+tries=1', '+time=3', ...args],
    { timeout: 15_000 },
  );
  // The last header wins: after "Truncated, retrying in TCP mode" dig prints the TCP answer.
  const status = [...stdout.matchAll(/status: ([A-Z]+)/g)].pop()?.[1] ?? '';
  const flagLine = [
    ...stdout.matchAll(/;; flags: ([a-z ]*); QUERY: \d+, ANSWER: (\d+), AUTHORITY: (\d+)/g),
  ].pop();
  return {
    status,
    flags: (flagLine?.[1] ?? '').trim().split(/\s+/),
    answers: Number(flagLine?.[2] ?? -1),
    authority: Number(flagLine?.[3] ?? -1),
    transport: /\((UDP|TCP)\)/.exec(stdout)?.[1] ?? '',
    text: stdout,
  };
}

describe.skipIf(!HAVE_DIG)(
  HAVE_DIG ? 'dig against the responder' : 'dig: skipped, dig (bind9-dnsutils) is not installed',
  () => {
    it.each([
      ['an RRset, RD echoed, no RA', ['jabber.lab', 'CAA'], 'NOERROR', ['qr', 'aa', 'rd'], 3, 0, 'UDP'],
      ['+norecurse: RD clear', ['jabber.lab', 'A', '+norecurse'], 'NOERROR', ['qr', 'aa'], 1, 0, 'UDP'],
      ['+tcp', ['jabber.lab', 'AAAA', '+tcp'], 'NOERROR', ['qr', 'aa', 'rd'], 1, 0, 'TCP'],
      ['NODATA: the SOA in authority', ['jabber.lab', 'TXT'], 'NOERROR', ['qr', 'aa', 'rd'], 0, 1, 'UDP'],
      ['empty non-terminal: NODATA', ['_tcp.jabber.lab', 'CAA'], 'NOERROR', ['qr', 'aa', 'rd'], 0, 1, 'UDP'],
      [
        'NXDOMAIN: the SOA in authority',
        ['nope.jabber.lab', 'CAA'],
        'NXDOMAIN',
        ['qr', 'aa', 'rd'],
        0,
        1,
        'UDP',
      ],
      ['a CNAME followed', ['conference.jabber.lab', 'A'], 'NOERROR', ['qr', 'aa', 'rd'], 2, 0, 'UDP'],
      ['REFUSED outside the zone, no AA', ['example.com', 'A'], 'REFUSED', ['qr', 'rd'], 0, 0, 'UDP'],
      ['REFUSED for class CH', ['-c', 'CH', 'version.bind', 'TXT'], 'REFUSED', ['qr', 'rd'], 0, 0, 'UDP'],
      [
        'a big TXT: truncated, retried over TCP',
        ['big.lab', 'TXT'],
        'NOERROR',
        ['qr', 'aa', 'rd'],
        30,
        0,
        'TCP',
      ],
      [
        'a big CAA: truncated, retried over TCP',
        ['bigcaa.lab', 'CAA'],
        'NOERROR',
        ['qr', 'aa', 'rd'],
        40,
        0,
        'TCP',
      ],
      [
        '+ignore keeps the truncated UDP answer: TC',
        ['big.lab', 'TXT', '+ignore'],
        'NOERROR',
        ['qr', 'aa', 'tc', 'rd'],
        0,
        0,
        'UDP',
      ],
    ])('%s', async (_why, args, status, flags, answers, authority, transport) => {
      const r = await dig(...args);
      expect(
        {
          status: r.status,
          flags: r.flags,
          answers: r.answers,
          authority: r.authority,
          transport: r.transport,
        },
        r.text,
      ).toEqual({ status, flags, answers, authority, transport });
    });

    it('echoes the question in the case it was asked (0x20) and advertises EDNS 1232', async () => {
      const r = await dig('JaBbEr.LaB', 'CAA');
      expect(r.text).toMatch(/;JaBbEr\.LaB\.\s+IN\s+CAA/);
      expect(r.text).toMatch(/^JaBbEr\.LaB\.\s+60\s+IN\s+CAA\s+0 issue "ca\.lab; accounturi=/m);
      expect(r.text).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
    });

    it('without EDNS, an answer over 512 bytes is truncated', async () => {
      expect((await dig('big.lab', 'TXT', '+noedns', '+ignore')).flags).toContain('tc');
    });

    it('EDNS version 1 gets BADVERS (RFC 6891 §6.1.3)', async () => {
      expect((await dig('jabber.lab', 'A', '+edns=1', '+noednsneg')).status).toBe('BADVERS');
    });

    it('sees a live CAA change on the next query, and the SOA serial move', async () => {
      const serial = zone.serial();
      zone.set('live.jabber.lab', 'CAA', [{ flags: 128, tag: 'tbs', value: 'changed "now"' }]);
      const r = await dig('live.jabber.lab', 'CAA', '+short');
      expect(r.text.trim()).toBe('128 tbs "changed \\"now\\""');
      expect((await dig('lab', 'SOA', '+short')).text).toContain(` ${serial + 1} `);
    });

    it('refuses a zone transfer', async () => {
      const { stdout } = await promisify(execFile)(
        'dig',
        [`@${dns.host}`, '-p', String(dns.port), 'lab', 'AXFR'],
        {
          timeout: 15_000,
        },
      );
      expect(stdout).toMatch(/Transfer failed/);
    });
  },
);
