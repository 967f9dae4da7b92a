/**
 * Receiving IODEF reports (RFC 8659 §4.4): lenient on content — IODEF v2 (RFC 7970), v1
 * (RFC 5070), RID envelopes (RFC 6545) as posted over HTTP/TLS (RFC 6546), schema-invalid but
 * useful documents — and strict on XML safety: every hostile input is a typed `IodefError`,
 * quickly, never a crash, never the content of a local file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildIodefDocument } from './document.js';
import { IodefError, iodefFingerprint, parseIodef } from './parse.js';
import type { IodefErrorCode } from './errors.js';
import type { ParseIodefOptions } from './parse.js';

const VECTORS = fileURLToPath(new URL('../../test/vectors/iodef/', import.meta.url));
const vector = (f: string): string => readFileSync(path.join(VECTORS, f), 'utf8');

function expectIodefError(
  input: string | Uint8Array,
  code: IodefErrorCode,
  options?: ParseIodefOptions,
): IodefError {
  const started = performance.now();
  let caught: unknown;
  try {
    parseIodef(input, options);
  } catch (err) {
    caught = err;
  }
  const elapsed = performance.now() - started;
  expect(caught).toBeInstanceOf(IodefError);
  const err = caught as IodefError;
  expect(err.code).toBe(code);
  expect(err.message).not.toMatch(/root:x:0:0|\/bin\/(ba)?sh/);
  expect(elapsed).toBeLessThan(2000);
  return err;
}

describe('parseIodef: the shared vectors', () => {
  it('valid-minimal-v2.xml is valid and summarised', () => {
    const { summary, schemaValid, problems } = parseIodef(vector('valid-minimal-v2.xml'));
    expect(problems).toEqual([]);
    expect(schemaValid).toBe(true);
    expect(summary).toMatchObject({
      format: 'iodef-2.0',
      envelope: 'none',
      incidentId: 'caa-0001',
      incidentIdName: 'ca1.example.net',
      generationTime: '2026-05-01T12:00:00Z',
      reportTime: null,
      detectTime: null,
      reporter: ['Example CA'],
      names: [],
      reason: null,
      validationSucceeded: null,
      accountUri: null,
      caaRecords: [],
      risk: 'low',
    });
    expect(summary.refused).toBeUndefined();
  });

  it('invalid-incident-node.xml is not schema-valid, yet still gives a summary', () => {
    const { summary, schemaValid, problems } = parseIodef(vector('invalid-incident-node.xml'));
    expect(schemaValid).toBe(false);
    expect(problems.some((p) => p.includes('Node is not allowed'))).toBe(true);
    expect(problems.some((p) => p.includes('GenerationTime is missing'))).toBe(true);
    expect(problems.some((p) => p.includes('Contact is missing'))).toBe(true);
    expect(summary.incidentId).toBe('probe-001');
    expect(summary.incidentIdName).toBe('ca1.example.net');
    expect(summary.names).toEqual(['example.com']);
  });

  it('accepts bytes: UTF-8 with and without BOM, UTF-16 with BOM', () => {
    const text = vector('valid-minimal-v2.xml');
    const utf8 = new TextEncoder().encode(text);
    expect(parseIodef(utf8).summary.incidentId).toBe('caa-0001');
    expect(parseIodef(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8])).summary.incidentId).toBe('caa-0001');
    const body = text.replace('encoding="UTF-8"', 'encoding="UTF-16"');
    const le = new Uint8Array(2 + body.length * 2);
    le.set([0xff, 0xfe]);
    for (let i = 0; i < body.length; i++) {
      le[2 + 2 * i] = body.charCodeAt(i) & 0xff;
      le[3 + 2 * i] = body.charCodeAt(i) >> 8;
    }
    expect(parseIodef(le).summary.incidentId).toBe('caa-0001');
    // A declared single-byte encoding is honoured for bytes (é = 0xe9 in ISO-8859-1).
    const latin = text
      .replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
      .replace('Example CA', 'Exampl\u00e9 CA');
    const latinBytes = Uint8Array.from(latin, (c) => c.charCodeAt(0));
    expect(parseIodef(latinBytes).summary.reporter).toEqual(['Exampl\u00e9 CA']);
    // Undeclared, the same bytes are not UTF-8.
    expect(() =>
      parseIodef(Uint8Array.from(latin.replace('ISO-8859-1', 'UTF-8'), (c) => c.charCodeAt(0))),
    ).toThrow(IodefError);
  });
});

// RFC 5070 §7.1 ("Worm") shape, written by hand: v1 namespace, `lang` (not xml:lang), Impact in
// Assessment, Email as plain text, Node/NodeName and Node/Address.
const V1_WORM = `<?xml version="1.0" encoding="UTF-8"?>
<!-- This example demonstrates a report for a very old worm (Code Red) -->
<IODEF-Document version="1.00" lang="en" xmlns="urn:ietf:params:xml:ns:iodef-1.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="urn:ietf:params:xml:schema:iodef-1.0">
  <Incident purpose="reporting">
    <IncidentID name="csirt.example.com">189493</IncidentID>
    <ReportTime>2001-09-13T23:19:24+00:00</ReportTime>
    <Description>Host sending out Code Red probes</Description>
    <!-- An administrative privilege was attempted, but failed -->
    <Assessment>
      <Impact completion="failed" type="admin" severity="medium"/>
    </Assessment>
    <Contact role="creator" type="organization">
      <ContactName>CSIRT for example.com</ContactName>
      <Email>contact@csirt.example.com</Email>
      <Telephone>+1 412 555 12345</Telephone>
      <!-- Since this <Contact> is nested, Joe Smith is part of the CSIRT for example.com -->
      <Contact role="tech" type="person" restriction="need-to-know">
        <ContactName>Joe Smith</ContactName>
        <Email>smith@csirt.example.com</Email>
      </Contact>
    </Contact>
    <EventData>
      <!-- Scanning activity as follows: 192.0.2.200:60524 > 192.0.2.16:80 -->
      <Flow>
        <System category="source">
          <Node>
            <Address category="ipv4-addr">192.0.2.200</Address>
            <Counter type="event">57</Counter>
          </Node>
        </System>
        <System category="target">
          <Node>
            <NodeName>www.example.com</NodeName>
            <Address category="ipv4-net">192.0.2.16/28</Address>
          </Node>
          <Service ip_protocol="6">
            <Port>80</Port>
          </Service>
        </System>
      </Flow>
    </EventData>
  </Incident>
</IODEF-Document>
`;

describe('parseIodef: IODEF v1 (RFC 5070)', () => {
  it('summarises the RFC 5070 §7.1-style worm report', () => {
    const { summary, schemaValid, problems } = parseIodef(V1_WORM);
    expect(problems).toEqual([]);
    expect(schemaValid).toBe(true);
    expect(summary).toMatchObject({
      format: 'iodef-1.0',
      envelope: 'none',
      incidentId: '189493',
      incidentIdName: 'csirt.example.com',
      reportTime: '2001-09-13T23:19:24+00:00',
      generationTime: null,
      reporter: [
        'CSIRT for example.com',
        'contact@csirt.example.com',
        'Joe Smith',
        'smith@csirt.example.com',
      ],
      names: ['www.example.com'],
      descriptions: ['Host sending out Code Red probes'],
      risk: 'medium', // no certvigil data: the Impact severity
    });
  });

  it('flags a v1 document missing its required Assessment', () => {
    const { schemaValid, problems } = parseIodef(V1_WORM.replace(/<Assessment>[\s\S]*?<\/Assessment>/, ''));
    expect(schemaValid).toBe(false);
    expect(problems.join('\n')).toContain('Assessment is missing');
  });
});

// RID (RFC 6545) Report message, after the RFC's examples: RIDPolicy with MsgType="Report", the
// IncidentID it refers to, and the IODEF document it carries. Two placements are accepted: the
// IODEF-Document inside the RID element, and RID + IODEF-Document side by side in an envelope
// element (one XML document as an RFC 6546 HTTP/TLS POST body must be).
const ridPolicy = (iodefPrefix: string): string => `
  <iodef-rid:RIDPolicy MsgType="Report" MsgDestination="RIDSystem">
    <iodef-rid:PolicyRegion region="IntraConsortium"/>
    <${iodefPrefix}:Node><${iodefPrefix}:NodeName>192.0.2.3</${iodefPrefix}:NodeName></${iodefPrefix}:Node>
    <iodef-rid:TrafficType type="Network"/>
    <${iodefPrefix}:IncidentID name="CERT-FOR-OUR-DOMAIN">CERT-FOR-OUR-DOMAIN#207-1</${iodefPrefix}:IncidentID>
  </iodef-rid:RIDPolicy>`;

describe('parseIodef: RID envelopes (RFC 6545 / RFC 6546)', () => {
  const report = buildIodefDocument({
    incidentId: 'rid-1',
    ca: { name: 'Example CA', domain: 'ca.example.net' },
    requestedNames: ['example.com'],
    refused: [
      {
        name: 'example.com',
        reason: 'issuer-not-authorized',
        explanation: 'Only letsencrypt.org may issue.',
        foundAt: 'example.com',
        aliasTarget: null,
        records: ['0 issue "letsencrypt.org"'],
        dnssec: 'insecure',
      },
    ],
    validationMethod: 'dns-01',
    validationSucceeded: false,
    accountUri: null,
    detectedAt: '2026-05-01T12:00:00Z',
    generatedAt: '2026-05-01T12:00:01Z',
  }).replace(/^<\?xml[^>]*\?>\n/, '');

  it('IODEF v2 document inside the RID element', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<iodef-rid:RID xmlns:iodef-rid="urn:ietf:params:xml:ns:iodef-rid-2.0" xmlns:iodef="urn:ietf:params:xml:ns:iodef-2.0">${ridPolicy('iodef')}
  ${report}
</iodef-rid:RID>`;
    const { summary, schemaValid } = parseIodef(xml);
    expect(schemaValid).toBe(true);
    expect(summary).toMatchObject({
      format: 'iodef-2.0',
      envelope: 'rid',
      incidentId: 'rid-1',
      names: ['example.com'],
      reason: 'issuer-not-authorized',
      validationMethod: 'dns-01',
      caaRecords: ['0 issue "letsencrypt.org"'],
      risk: 'medium',
    });
  });

  it('RID and a v1 IODEF-Document side by side in an envelope (RFC 6546 body)', () => {
    const v1 = V1_WORM.replace(/^<\?xml[^>]*\?>\n/, '').replace(/<!--[\s\S]*?-->\n/, '');
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope>
  <iodef-rid:RID xmlns:iodef-rid="urn:ietf:params:xml:ns:iodef-rid-2.0" xmlns:iodef="urn:ietf:params:xml:ns:iodef-1.0">${ridPolicy('iodef')}
  </iodef-rid:RID>
  <!-- IODEF-Document accompanied by the above RID -->
  ${v1}
</Envelope>`;
    const { summary, schemaValid } = parseIodef(xml);
    expect(schemaValid).toBe(true);
    expect(summary).toMatchObject({ format: 'iodef-1.0', envelope: 'rid', incidentId: '189493' });
  });

  it('a RID message without an IODEF document is not IODEF', () => {
    const xml = `<iodef-rid:RID xmlns:iodef-rid="urn:ietf:params:xml:ns:iodef-rid-2.0" xmlns:iodef="urn:ietf:params:xml:ns:iodef-1.0">${ridPolicy('iodef')}</iodef-rid:RID>`;
    expectIodefError(xml, 'IODEF_NOT_IODEF');
  });
});

describe('parseIodef: hostile and broken input', () => {
  const xxe = `<?xml version="1.0"?>
<!DOCTYPE IODEF-Document [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0"><Incident purpose="reporting">
<IncidentID name="x">&e;</IncidentID></Incident></IODEF-Document>`;
  const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>`;
  const minimal = vector('valid-minimal-v2.xml');

  it('XXE (internal subset with a SYSTEM entity) is unsafe, and never shows the file', () => {
    expectIodefError(xxe, 'IODEF_UNSAFE');
  });

  it('billion laughs is unsafe', () => {
    expectIodefError(laughs, 'IODEF_UNSAFE');
  });

  it('an external DTD is unsafe (and not fetched)', () => {
    expectIodefError(
      `<?xml version="1.0"?><!DOCTYPE IODEF-Document SYSTEM "http://127.0.0.1:9/iodef.dtd">${minimal.replace(/^<\?xml[^>]*\?>/, '')}`,
      'IODEF_UNSAFE',
    );
    expectIodefError(`<!DOCTYPE x PUBLIC "-//X//Y" "file:///etc/passwd"><x/>`, 'IODEF_UNSAFE');
    expectIodefError(`<!DOCTYPE x [`, 'IODEF_UNSAFE');
  });

  it('a 10 MB body is too large, as string and as bytes', () => {
    const big = `${minimal}${' '.repeat(10 * 1024 * 1024)}`;
    expectIodefError(big, 'IODEF_TOO_LARGE');
    expectIodefError(new TextEncoder().encode(big), 'IODEF_TOO_LARGE');
    // Multi-byte characters count as bytes: 100k × 3 bytes > 256 KiB.
    expectIodefError(`<a>${'€'.repeat(100_000)}</a>`, 'IODEF_TOO_LARGE');
    // The limit is configurable.
    expectIodefError(minimal, 'IODEF_TOO_LARGE', { maxBytes: 100 });
  });

  it('10,000-deep nesting and 20,000 elements are too large', () => {
    expectIodefError(`${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`, 'IODEF_TOO_LARGE');
    expectIodefError(`<a>${'<b/>'.repeat(20_000)}</a>`, 'IODEF_TOO_LARGE');
    expectIodefError(minimal, 'IODEF_TOO_LARGE', { maxDepth: 2 });
    expectIodefError(minimal, 'IODEF_TOO_LARGE', { maxElements: 3 });
  });

  it('thousands of schema problems are reported, capped', () => {
    const junk = vector('valid-minimal-v2.xml').replace('<Contact ', `${'<Junk/>'.repeat(5000)}<Contact `);
    const { schemaValid, problems, summary } = parseIodef(junk);
    expect(schemaValid).toBe(false);
    expect(problems).toHaveLength(101);
    expect(problems.at(-1)).toBe('… and 4900 more');
    expect(summary.incidentId).toBe('caa-0001');
  });

  it('an undefined entity is malformed', () => {
    expectIodefError(minimal.replace('caa-0001', '&passwd;'), 'IODEF_MALFORMED');
  });

  it('the predefined entities and character references are fine', () => {
    const { summary } = parseIodef(minimal.replace('caa-0001', '&lt;&gt;&amp;&quot;&apos;&#x41;&#66;'));
    expect(summary.incidentId).toBe('<>&"\'AB');
  });

  it('a DOCTYPE-looking string in a comment or CDATA is just text', () => {
    expect(
      parseIodef(minimal.replace('<Incident', '<!-- <!DOCTYPE x> --><Incident')).summary.incidentId,
    ).toBe('caa-0001');
    expect(parseIodef(minimal.replace('caa-0001', '<![CDATA[<!DOCTYPE x>]]>')).summary.incidentId).toBe(
      '<!DOCTYPE x>',
    );
  });

  it('wrong namespace or no namespace is not IODEF', () => {
    expectIodefError(
      minimal.replace('urn:ietf:params:xml:ns:iodef-2.0', 'urn:example:iodef'),
      'IODEF_NOT_IODEF',
    );
    expectIodefError(minimal.replace(' xmlns="urn:ietf:params:xml:ns:iodef-2.0"', ''), 'IODEF_NOT_IODEF');
    expectIodefError('<html><body>hello</body></html>', 'IODEF_NOT_IODEF');
  });

  it('non-XML, empty, truncated and badly encoded input is malformed', () => {
    expectIodefError('hello, this is not XML', 'IODEF_MALFORMED');
    expectIodefError('{"IODEF-Document": {}}', 'IODEF_MALFORMED');
    expectIodefError('', 'IODEF_MALFORMED');
    expectIodefError(minimal.slice(0, Math.floor(minimal.length / 2)), 'IODEF_MALFORMED');
    expectIodefError(minimal.replace('</IODEF-Document>', ''), 'IODEF_MALFORMED');
    expectIodefError(`${minimal}<second/>`, 'IODEF_MALFORMED');
    expectIodefError(
      new Uint8Array([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0xfd, 0x3c, 0x2f, 0x61, 0x3e]),
      'IODEF_MALFORMED',
    );
    expectIodefError(minimal.replace('caa-0001', 'a\u0001b'), 'IODEF_MALFORMED');
    expectIodefError('<a xmlns:p="urn:x"><q:b/></a>', 'IODEF_MALFORMED');
  });

  it('random truncations and byte flips of a real report never crash', () => {
    const doc = buildIodefDocument({
      incidentId: 'fuzz',
      ca: { name: 'CA', domain: 'ca.example' },
      requestedNames: ['example.com'],
      refused: [],
      validationMethod: null,
      validationSucceeded: false,
      accountUri: null,
      detectedAt: '2026-01-01T00:00:00Z',
      generatedAt: '2026-01-01T00:00:00Z',
    });
    let seed = 1;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      const cut = doc.slice(0, rand(doc.length));
      const flip = doc.split('');
      flip[rand(doc.length)] = String.fromCharCode(rand(128));
      for (const input of [cut, flip.join('')]) {
        try {
          const { summary } = parseIodef(input);
          expect(summary.format).toBe('iodef-2.0');
        } catch (err) {
          expect(err).toBeInstanceOf(IodefError);
        }
      }
    }
  });
});

describe('iodefFingerprint', () => {
  it('hashes IncidentID name and id when both are present, else the document', () => {
    const doc = vector('valid-minimal-v2.xml');
    const { summary } = parseIodef(doc);
    const fp = iodefFingerprint(summary, doc);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    // Same incident, different bytes (re-sent with other whitespace): same fingerprint.
    const resent = doc.replace(/\n\s*/g, '');
    expect(iodefFingerprint(parseIodef(resent).summary, resent)).toBe(fp);
    // Without an id, the document itself decides.
    const anon = { ...summary, incidentId: null };
    expect(iodefFingerprint(anon, doc)).not.toBe(fp);
    expect(iodefFingerprint(anon, new TextEncoder().encode(doc))).toBe(iodefFingerprint(anon, doc));
  });
});
