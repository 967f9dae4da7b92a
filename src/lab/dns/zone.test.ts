/**
 * LabZone: what an authoritative server answers for one question (RFC 1034 §4.3.2, RFC 2308),
 * and what the zone refuses to hold (RFC 1034 §3.6.2, RFC 2181 §10.1), on data alone.
 */
import { describe, expect, it } from 'vitest';
import { LabZone } from './zone.js';

function labZone(): LabZone {
  const zone = new LabZone({ apexes: ['lab.'] });
  zone.set('jabber.lab', 'A', ['127.0.0.1']);
  zone.set('jabber.lab', 'AAAA', ['::1']);
  zone.set('jabber.lab', 'CAA', [{ flags: 0, tag: 'issue', value: 'ca.lab' }]);
  zone.set('_xmpp-client._tcp.jabber.lab', 'TXT', ['v=1']);
  zone.set('deep.empty.jabber.lab', 'A', ['127.0.0.2']); // empty.jabber.lab: empty non-terminal
  zone.set('xmpp.jabber.lab', 'CNAME', ['jabber.lab.']);
  zone.set('chain.lab', 'CNAME', ['xmpp.jabber.lab']);
  zone.set('out.lab', 'CNAME', ['example.net']);
  zone.set('dangling.lab', 'CNAME', ['gone.lab']);
  zone.set('loop1.lab', 'CNAME', ['loop2.lab']);
  zone.set('loop2.lab', 'CNAME', ['loop1.lab']);
  return zone;
}

const summary = (zone: LabZone, name: string, type: string) => {
  const a = zone.lookup(name, type);
  return {
    rcode: a.rcode,
    aa: a.authoritative,
    answers: a.answers.map((r) => `${r.name} ${r.type}`),
    authority: a.authorities.map((r) => `${r.name} ${r.type} ${r.ttl}`),
  };
};

describe('LabZone.lookup', () => {
  const soa = ['lab SOA 60'];
  it.each([
    ['an RRset', 'jabber.lab', 'CAA', 'NOERROR', ['jabber.lab CAA'], []],
    ['any case, trailing dot', 'JaBbEr.LAB.', 'A', 'NOERROR', ['jabber.lab A'], []],
    ['NODATA: name exists without the type', 'jabber.lab', 'TXT', 'NOERROR', [], soa],
    ['NODATA for an unknown type', 'jabber.lab', 'TYPE65000', 'NOERROR', [], soa],
    ['NXDOMAIN', 'nope.jabber.lab', 'A', 'NXDOMAIN', [], soa],
    ['empty non-terminal is NODATA (RFC 8020)', 'empty.jabber.lab', 'CAA', 'NOERROR', [], soa],
    ['_tcp is an empty non-terminal too', '_tcp.jabber.lab', 'TXT', 'NOERROR', [], soa],
    ['below an existing leaf: NXDOMAIN', 'x.deep.empty.jabber.lab', 'A', 'NXDOMAIN', [], soa],
    ['CNAME followed', 'xmpp.jabber.lab', 'CAA', 'NOERROR', ['xmpp.jabber.lab CNAME', 'jabber.lab CAA'], []],
    [
      'CNAME chain of two',
      'chain.lab',
      'A',
      'NOERROR',
      ['chain.lab CNAME', 'xmpp.jabber.lab CNAME', 'jabber.lab A'],
      [],
    ],
    [
      'CNAME to a name without the type: NODATA at the target',
      'xmpp.jabber.lab',
      'TXT',
      'NOERROR',
      ['xmpp.jabber.lab CNAME'],
      soa,
    ],
    [
      'CNAME to a missing name: NXDOMAIN (RFC 6604)',
      'dangling.lab',
      'A',
      'NXDOMAIN',
      ['dangling.lab CNAME'],
      soa,
    ],
    [
      'CNAME query returns the CNAME itself',
      'xmpp.jabber.lab',
      'CNAME',
      'NOERROR',
      ['xmpp.jabber.lab CNAME'],
      [],
    ],
    ['CNAME out of the zone: the chain so far', 'out.lab', 'A', 'NOERROR', ['out.lab CNAME'], []],
    ['CNAME loop stops', 'loop1.lab', 'A', 'NOERROR', ['loop1.lab CNAME', 'loop2.lab CNAME'], []],
    ['apex SOA', 'lab', 'SOA', 'NOERROR', ['lab SOA'], []],
    [
      'ANY: every RRset at the name',
      'jabber.lab',
      'ANY',
      'NOERROR',
      ['jabber.lab A', 'jabber.lab AAAA', 'jabber.lab CAA'],
      [],
    ],
  ])('%s: %s/%s → %s', (_why, name, type, rcode, answers, authority) => {
    expect(summary(labZone(), name, type)).toEqual({ rcode, aa: true, answers, authority });
  });

  it('refuses names outside every apex, without AA', () => {
    for (const name of ['example.com', 'lab.example', '', 'notlab']) {
      expect(summary(labZone(), name, 'A')).toEqual({
        rcode: 'REFUSED',
        aa: false,
        answers: [],
        authority: [],
      });
    }
  });

  it('adds the in-zone address of the name server to an NS answer', () => {
    const a = labZone().lookup('lab', 'NS');
    expect(a.answers.map((r) => r.data)).toEqual(['ns.lab']);
    expect(a.additionals.map((r) => [r.name, r.type, r.data])).toEqual([['ns.lab', 'A', '127.0.0.1']]);
  });

  it('uses min(SOA TTL, MINIMUM) as the negative TTL (RFC 2308 §3)', () => {
    const zone = new LabZone({ apexes: ['lab'], ttl: 300 });
    const [soa] = zone.get('lab', 'SOA');
    if (!soa) throw new Error('the zone has no SOA');
    zone.set('lab', 'SOA', [{ ...soa, minimum: 30 }], { ttl: 600 });
    expect(zone.lookup('nope.lab', 'A').authorities[0]?.ttl).toBe(30);
  });

  it('serves several disjoint apexes, each with its own SOA', () => {
    const zone = new LabZone({ apexes: ['lab', 'ca.test'] });
    zone.set('acme.ca.test', 'A', ['127.0.0.9']);
    expect(zone.lookup('nope.ca.test', 'A').authorities[0]?.name).toBe('ca.test');
    expect(zone.lookup('acme.ca.test', 'A').answers[0]?.data).toBe('127.0.0.9');
    expect(() => zone.toZoneText()).toThrow(/2 apexes/);
    expect(zone.toZoneText('ca.test')).toContain('acme.ca.test.\t60\tIN\tA\t127.0.0.9');
  });
});

describe('LabZone.set', () => {
  it('replaces an RRset, bumps the serial, and an empty list deletes', () => {
    const zone = new LabZone({ apexes: ['lab'], serial: 0xffffffff });
    expect(zone.set('jabber.lab', 'CAA', [{ flags: 0, tag: 'issue', value: 'a.example' }])).toBe(0); // RFC 1982 wrap
    zone.set('jabber.lab', 'CAA', [{ flags: 128, tag: 'tbs', value: 'x' }], { ttl: 5 });
    expect(zone.lookup('jabber.lab', 'CAA').answers.map((r) => [r.ttl, r.data])).toEqual([
      [5, { flags: 128, tag: 'tbs', value: 'x' }],
    ]);
    expect(zone.serial()).toBe(1);
    zone.set('jabber.lab', 'CAA', []);
    expect(zone.lookup('jabber.lab', 'CAA').rcode).toBe('NXDOMAIN');
    expect(zone.serial('lab.')).toBe(2);
  });

  it('drops duplicate records (an RRset is a set, RFC 2181 §5) and copies what it stores', () => {
    const zone = new LabZone({ apexes: ['lab'] });
    const txt = ['a', 'b'];
    zone.set('t.lab', 'TXT', [txt, txt, 'c']);
    txt[0] = 'changed';
    expect(zone.get('t.lab', 'TXT')).toEqual([['a', 'b'], ['c']]);
  });

  it.each([
    ['outside the zone', () => new LabZone({ apexes: ['lab'] }).set('jabber.example', 'A', ['127.0.0.1'])],
    ['a wildcard owner', () => new LabZone({ apexes: ['lab'] }).set('*.lab', 'A', ['127.0.0.1'])],
    ['a bad IPv4 address', () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'A', ['::1'])],
    ['a bad IPv6 address', () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'AAAA', ['127.0.0.1'])],
    [
      'a CAA tag with a dash',
      () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'CAA', [{ flags: 0, tag: 'is-sue', value: '' }]),
    ],
    [
      'CAA flags over 255',
      () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'CAA', [{ flags: 256, tag: 'issue', value: '' }]),
    ],
    [
      'a TXT string over 255 bytes',
      () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'TXT', ['x'.repeat(256)]),
    ],
    ['a CNAME at the apex', () => new LabZone({ apexes: ['lab'] }).set('lab', 'CNAME', ['x.lab'])],
    ['two CNAMEs', () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'CNAME', ['x.lab', 'y.lab'])],
    [
      'a CNAME beside other data',
      () => {
        const z = new LabZone({ apexes: ['lab'] });
        z.set('a.lab', 'A', ['127.0.0.1']);
        z.set('a.lab', 'CNAME', ['x.lab']);
      },
    ],
    [
      'other data beside a CNAME',
      () => {
        const z = new LabZone({ apexes: ['lab'] });
        z.set('a.lab', 'CNAME', ['x.lab']);
        z.set('a.lab', 'CAA', [{ flags: 0, tag: 'issue', value: ';' }]);
      },
    ],
    ['an SOA below the apex', () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'SOA', [])],
    [
      'a delegation (NS below the apex)',
      () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'NS', ['ns.a.lab']),
    ],
    ['an empty apex NS', () => new LabZone({ apexes: ['lab'] }).set('lab', 'NS', [])],
    [
      'a TTL over 2^31-1',
      () => new LabZone({ apexes: ['lab'] }).set('a.lab', 'A', ['127.0.0.1'], { ttl: 2 ** 31 }),
    ],
    ['nested apexes', () => new LabZone({ apexes: ['lab', 'ca.lab'] })],
    ['no apex', () => new LabZone({ apexes: [] })],
  ])('refuses %s with LAB_INVALID_REQUEST', (_why, act) => {
    expect(act).toThrow(expect.objectContaining({ code: 'LAB_INVALID_REQUEST' }));
  });
});
