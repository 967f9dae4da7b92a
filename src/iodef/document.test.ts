/**
 * The IODEF v2 builder (RFC 7970) for CAA iodef reports (RFC 8659 §4.4): every built document —
 * table cases and fast-check generated reports with odd names, IDNs, quotes, `<&>`, control
 * characters, lone surrogates, long CAA sets, null account — is validated against the IODEF 2.0
 * XSD with xmllint (one run for many files), and parses back (parse.ts) to the same facts.
 * Our own structural checker is also held against xmllint on valid and broken variants.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IODEF_NS, buildIodefDocument, riskOf, xmlSafe } from './document.js';
import { IodefError, parseIodef } from './parse.js';
import type { PreventedIssuance, RefusedName } from './types.js';

const VECTORS = fileURLToPath(new URL('../../test/vectors/iodef/', import.meta.url));
const XSD = path.join(VECTORS, 'iodef-2.0.xsd');

/** Validate many documents with one xmllint run; true per document that "validates". */
function xmllint(documents: readonly string[]): { valid: boolean[]; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'certvigil-iodef-'));
  try {
    const files = documents.map((doc, i) => {
      const file = path.join(dir, `doc-${i}.xml`);
      writeFileSync(file, doc, 'utf8');
      return file;
    });
    const run = spawnSync('xmllint', ['--noout', '--nonet', '--schema', XSD, ...files], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error) throw run.error;
    const output = `${run.stdout}${run.stderr}`;
    return { valid: files.map((f) => output.includes(`${f} validates`)), output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function expectAllValid(documents: readonly string[]): void {
  const { valid, output } = xmllint(documents);
  const bad = valid.flatMap((v, i) => (v ? [] : [i]));
  expect(bad, `${output}\n${bad.map((i) => documents[i]).join('\n----\n')}`.slice(0, 20_000)).toEqual([]);
}

const refused = (over: Partial<RefusedName> = {}): RefusedName => ({
  name: 'example.com',
  reason: 'issuer-not-authorized',
  explanation: 'The CAA record set at example.com authorizes only letsencrypt.org.',
  foundAt: 'example.com',
  aliasTarget: null,
  records: ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@example.com"'],
  dnssec: 'secure',
  ...over,
});

const base = (over: Partial<PreventedIssuance> = {}): PreventedIssuance => ({
  incidentId: '7b0c5d7e-1f0e-4a8e-9a36-0d8f1b6c2e11',
  ca: {
    name: 'Example CA',
    domain: 'ca.example.net',
    contactEmail: 'caa-reports@ca.example.net',
    url: 'https://ca.example.net/caa',
  },
  requestedNames: ['example.com', 'www.example.com'],
  refused: [refused()],
  validationMethod: 'http-01',
  validationSucceeded: false,
  accountUri: null,
  detectedAt: '2026-05-01T12:00:00.000Z',
  generatedAt: '2026-05-01T12:00:03.000Z',
  ...over,
});

const TABLE: [string, PreventedIssuance][] = [
  ['minimal, other CA', base()],
  [
    'validation succeeded, account present',
    base({ validationSucceeded: true, accountUri: 'https://acme.example/acct/42' }),
  ],
  [
    'account mismatch',
    base({
      refused: [
        refused({
          reason: 'account-uri-mismatch',
          records: ['0 issue "ca.example.net; accounturi=https://acme.example/acct/1"'],
        }),
      ],
      accountUri: 'https://acme.example/acct/666',
    }),
  ],
  ['no contact details', base({ ca: { name: '', domain: 'ca.example.net' } })],
  ['no names at all', base({ requestedNames: [], refused: [] })],
  ['unknown method', base({ validationMethod: null })],
  [
    'alias and wildcard',
    base({
      requestedNames: ['*.shop.example.com'],
      refused: [
        refused({ name: '*.shop.example.com', foundAt: 'shop.example.com', aliasTarget: 'cdn.example.net' }),
      ],
    }),
  ],
  [
    'IDN, quotes and markup',
    base({
      ca: { name: 'CA "Ünïcødé" <&> \'q\'', domain: 'ca.例え.jp', url: 'https://ca.example/?a=1&b="2"' },
      requestedNames: ['bücher.example', 'xn--bcher-kva.example', '<script>&amp;</script>', ']]>'],
      refused: [
        refused({
          name: 'bücher.example',
          explanation: 'a "quoted" <b>explanation</b> & more ]]> \t tab',
          records: ['0 issue "ca.example; accounturi=https://x/?a=1&b=2"', '128 tbs "<&>"'],
        }),
      ],
    }),
  ],
  [
    'forbidden XML characters are removed',
    base({
      incidentId: 'id\u0000-1\u0007',
      requestedNames: ['a\u0001b.example', 'lone\uD800surrogate.example', 'ok\uFFFE.example'],
      refused: [refused({ explanation: 'bell\u0007 and nul\u0000', records: ['0 issue "\u001b[31m"'] })],
    }),
  ],
  [
    'long CAA set',
    base({
      refused: [
        refused({
          records: Array.from(
            { length: 200 },
            (_, i) => `0 issue "ca${i}.example; accounturi=https://acme.example/${i}"`,
          ),
        }),
      ],
    }),
  ],
  [
    'several refused names, errors',
    base({
      requestedNames: ['a.example', 'b.example', 'c.example'],
      refused: [
        refused({ name: 'a.example', reason: 'dns-servfail', foundAt: null, records: [], dnssec: 'unknown' }),
        refused({ name: 'b.example', reason: 'dnssec-bogus', foundAt: null, records: [], dnssec: 'bogus' }),
        refused({
          name: 'c.example',
          reason: 'malformed-records',
          records: ['0 issue "%%%"'],
          dnssec: 'insecure',
        }),
      ],
    }),
  ],
  [
    'time with offset',
    base({ detectedAt: '2026-05-01T14:00:00+02:00', generatedAt: '2026-05-01T12:00:00Z' }),
  ],
];

describe('buildIodefDocument: shape', () => {
  it('has the IODEF v2 root, one reporting Incident, and the CA as creator', () => {
    const xml = buildIodefDocument(base());
    expect(
      xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<IODEF-Document version="2.00" xml:lang="en"'),
    ).toBe(true);
    expect(xml).toContain(`xmlns="${IODEF_NS}"`);
    expect(xml.match(/<Incident /g)).toHaveLength(1);
    expect(xml).toContain('<Incident purpose="reporting">');
    expect(xml).toContain(
      '<IncidentID name="ca.example.net">7b0c5d7e-1f0e-4a8e-9a36-0d8f1b6c2e11</IncidentID>',
    );
    expect(xml).toContain('<Contact role="creator" type="organization">');
    expect(xml).toContain('<SystemImpact severity="medium" completion="failed" type="policy">');
    expect(xml).toContain(
      '<AdditionalData dtype="string" meaning="caa-reason">issuer-not-authorized</AdditionalData>',
    );
    expect(xml).not.toContain('acme-account-uri');
  });

  it('escapes everything and drops characters XML 1.0 forbids', () => {
    const xml = buildIodefDocument(TABLE.find(([n]) => n === 'IDN, quotes and markup')?.[1] ?? base());
    expect(xml).toContain('<Name>&lt;script&gt;&amp;amp;&lt;/script&gt;</Name>');
    expect(xml).toContain('<Name>]]&gt;</Name>');
    expect(xml).toContain('CA "Ünïcødé" &lt;&amp;&gt; \'q\'');
    const bad = buildIodefDocument(
      TABLE.find(([n]) => n === 'forbidden XML characters are removed')?.[1] ?? base(),
    );
    // eslint-disable-next-line no-control-regex
    expect(bad).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/);
    expect(bad).toContain('>id-1</IncidentID>');
  });

  it('rejects reports that cannot make a valid document', () => {
    for (const r of [
      base({ incidentId: '' }),
      base({ incidentId: '\u0000 ' }),
      base({ ca: { name: 'x', domain: '  ' } }),
      base({ detectedAt: 'yesterday' }),
      base({ generatedAt: '+010000-01-01T00:00:00Z' }),
    ]) {
      expect(() => buildIodefDocument(r)).toThrowError(IodefError);
      try {
        buildIodefDocument(r);
      } catch (err) {
        expect((err as IodefError).code).toBe('IODEF_INVALID_REPORT');
      }
    }
  });

  it('riskOf: high after validation, medium for policy denials, low for configuration/lookup', () => {
    expect(riskOf(base({ validationSucceeded: true }))).toBe('high');
    expect(riskOf(base({ validationSucceeded: true, refused: [refused({ reason: 'dns-servfail' })] }))).toBe(
      'high',
    );
    for (const reason of [
      'issuer-not-authorized',
      'issuance-forbidden',
      'account-uri-missing',
      'account-uri-mismatch',
      'validation-method-missing',
      'validation-method-not-allowed',
    ]) {
      expect(riskOf(base({ refused: [refused({ reason })] }))).toBe('medium');
    }
    for (const reason of [
      'malformed-records',
      'critical-unknown-property',
      'dns-servfail',
      'dnssec-bogus',
      'cname-loop',
    ]) {
      expect(riskOf(base({ refused: [refused({ reason })] }))).toBe('low');
    }
    expect(riskOf(base({ refused: [] }))).toBe('low');
  });
});

describe('buildIodefDocument: schema-valid (xmllint, IODEF 2.0 XSD)', () => {
  it('the shared vectors behave as their README says (sanity check of the validator)', () => {
    const read = (f: string): string => readFileSync(path.join(VECTORS, f), 'utf8');
    expect(xmllint([read('valid-minimal-v2.xml'), read('invalid-incident-node.xml')]).valid).toEqual([
      true,
      false,
    ]);
  });

  it('every table case validates and round-trips', () => {
    const docs = TABLE.map(([, r]) => buildIodefDocument(r));
    expectAllValid(docs);
    TABLE.forEach(([name, r], i) => {
      const parsed = parseIodef(docs[i] as string);
      expect(parsed.schemaValid, `${name}: ${parsed.problems.join('; ')}`).toBe(true);
      expectRoundTrip(r, parsed.summary);
    });
  });

  it('fast-check generated reports all validate and round-trip', () => {
    const odd = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({
        unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        maxLength: 20,
      }),
      fc.constantFrom(
        'bücher.example',
        'xn--bcher-kva.example',
        '*.例え.jp',
        'a"b\'c<d>&e',
        ']]>',
        '&amp;',
        ' padded ',
      ),
      fc.domain(),
    );
    const dnsName = fc.oneof({ weight: 3, arbitrary: fc.domain() }, { weight: 2, arbitrary: odd });
    const reason = fc.oneof(
      fc.constantFrom(
        'issuer-not-authorized',
        'account-uri-mismatch',
        'issuance-forbidden',
        'dns-servfail',
        'malformed-records',
      ),
      odd,
    );
    const record = fc.oneof(
      fc
        .tuple(fc.constantFrom(0, 128), fc.constantFrom('issue', 'issuewild', 'iodef', 'x-unknown'), odd)
        .map(([flags, tag, value]) => `${flags} ${tag} "${value}"`),
      odd,
    );
    const when = fc
      .date({
        min: new Date('1971-01-01T00:00:00Z'),
        max: new Date('2999-12-31T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    const refusedArb: fc.Arbitrary<RefusedName> = fc.record({
      name: dnsName,
      reason,
      explanation: odd,
      foundAt: fc.option(dnsName, { nil: null }),
      aliasTarget: fc.option(dnsName, { nil: null }),
      records: fc.array(record, { maxLength: 30 }),
      dnssec: fc.constantFrom('secure', 'insecure', 'bogus', 'unknown'),
    });
    const reportArb: fc.Arbitrary<PreventedIssuance> = fc.record({
      incidentId: fc.oneof(fc.uuid(), odd).filter((s) => xmlSafe(s).trim() !== ''),
      ca: fc.record(
        {
          name: odd,
          domain: fc.oneof(fc.domain(), odd).filter((s) => xmlSafe(s).trim() !== ''),
          contactEmail: fc.oneof(fc.emailAddress(), odd),
          url: fc.oneof(fc.webUrl(), odd),
        },
        { requiredKeys: ['name', 'domain'] },
      ),
      requestedNames: fc.array(dnsName, { maxLength: 8 }),
      refused: fc.array(refusedArb, { maxLength: 4 }),
      validationMethod: fc.option(fc.oneof(fc.constantFrom('dns-01', 'http-01', 'tls-alpn-01'), odd), {
        nil: null,
      }),
      validationSucceeded: fc.boolean(),
      accountUri: fc.option(fc.oneof(fc.webUrl(), odd), { nil: null }),
      detectedAt: when,
      generatedAt: when,
    });

    const reports = fc.sample(reportArb, { numRuns: 300, seed: 7970 });
    const docs = reports.map((r) => buildIodefDocument(r));
    expectAllValid(docs);
    reports.forEach((r, i) => {
      const parsed = parseIodef(docs[i] as string);
      expect(parsed.schemaValid, parsed.problems.join('; ')).toBe(true);
      expectRoundTrip(r, parsed.summary);
    });
    // And a live property run (shrinks on failure) for the round trip alone.
    fc.assert(
      fc.property(reportArb, (r) => {
        expectRoundTrip(r, parseIodef(buildIodefDocument(r)).summary);
      }),
      { numRuns: 200 },
    );
  });

  it('our structural checker agrees with xmllint on broken variants', () => {
    const good = buildIodefDocument(base());
    const variants: [string, string][] = [
      ['good', good],
      ['no Contact', good.replace(/<Contact[\s\S]*?<\/Contact>/, '')],
      ['no GenerationTime', good.replace(/<GenerationTime>.*<\/GenerationTime>/, '')],
      ['bad purpose', good.replace('purpose="reporting"', 'purpose="complaining"')],
      ['no purpose', good.replace(' purpose="reporting"', '')],
      ['wrong version', good.replace('version="2.00"', 'version="2.0"')],
      [
        'Node under Incident',
        good.replace('<Contact ', '<Node><DomainData><Name>x</Name></DomainData></Node><Contact '),
      ],
      [
        'times out of order',
        good.replace(/(<ReportTime>.*<\/ReportTime>)\n\s*(<GenerationTime>.*<\/GenerationTime>)/, '$2$1'),
      ],
      ['bad contact role', good.replace('role="creator"', 'role="sender"')],
      ['bad dtype', good.replace('dtype="boolean"', 'dtype="bool"')],
      [
        'bad dateTime',
        good.replace(/<GenerationTime>.*<\/GenerationTime>/, '<GenerationTime>May 1st</GenerationTime>'),
      ],
      ['no IncidentID name', good.replace(' name="ca.example.net"', '')],
      ['bad SystemImpact type', good.replace('type="policy"', 'type="policyx"')],
      ['bad completion', good.replace('completion="failed"', 'completion="prevented"')],
      ['bad occurrence', good.replace('occurrence="potential"', 'occurrence="maybe"')],
      ['bad System category', good.replace('category="target"', 'category="victim"')],
      ['bad severity', good.replace('severity="medium"', 'severity="severe"')],
      ['bad status', good.replace('purpose="reporting"', 'purpose="reporting" status="done"')],
      ['foreign element in Incident', good.replace('<Contact ', '<x:Extra xmlns:x="urn:example"/><Contact ')],
      [
        'foreign content in AdditionalData',
        good.replace('>true</AdditionalData>', '><x:Extra xmlns:x="urn:example"/></AdditionalData>'),
      ],
      ['two GenerationTimes', good.replace(/(<GenerationTime>.*<\/GenerationTime>)/, '$1$1')],
    ];
    const { valid } = xmllint(variants.map(([, d]) => d));
    variants.forEach(([name, doc], i) => {
      const parsed = parseIodef(doc);
      expect(parsed.schemaValid, `${name}: ${parsed.problems.join('; ')}`).toBe(valid[i]);
    });
    expect(valid[0]).toBe(true);
  });
});

/** What the parser must give back: values whitespace-trimmed, forbidden characters removed. */
function expectRoundTrip(r: PreventedIssuance, s: ReturnType<typeof parseIodef>['summary']): void {
  const norm = (v: string): string | null => {
    const t = xmlSafe(v).trim();
    return t === '' ? null : t;
  };
  const unique = (values: (string | null)[]): string[] => [
    ...new Set(values.filter((v): v is string => v !== null)),
  ];
  const refusedKept = r.refused.filter((x) => norm(x.name) !== null);

  expect(s.format).toBe('iodef-2.0');
  expect(s.envelope).toBe('none');
  expect(s.incidentId).toBe(norm(r.incidentId));
  expect(s.incidentIdName).toBe(norm(r.ca.domain));
  expect(s.generationTime).toBe(new Date(r.generatedAt).toISOString());
  expect(s.reportTime).toBe(new Date(r.generatedAt).toISOString());
  expect(s.detectTime).toBe(new Date(r.detectedAt).toISOString());
  expect(s.names).toEqual(unique([...r.requestedNames.map(norm), ...refusedKept.map((x) => norm(x.name))]));
  // Reasons and records are read from every per-name EventData, even one whose name was empty.
  expect(s.reason).toBe(unique(r.refused.map((x) => norm(x.reason)))[0] ?? null);
  expect(s.validationMethod).toBe(r.validationMethod === null ? null : norm(r.validationMethod));
  expect(s.validationSucceeded).toBe(r.validationSucceeded);
  expect(s.accountUri).toBe(r.accountUri === null ? null : norm(r.accountUri));
  expect(s.caaRecords).toEqual(unique(r.refused.flatMap((x) => x.records.map(norm))));
  expect(s.risk).toBe(
    riskOf({
      validationSucceeded: r.validationSucceeded,
      refused: r.refused.map((x) => ({ ...x, reason: norm(x.reason) ?? '' })),
    }),
  );
  expect(s.refused ?? []).toEqual(
    refusedKept.map((x) => ({
      name: norm(x.name),
      reason: norm(x.reason) ?? '',
      explanation: norm(x.explanation) ?? '',
      foundAt: x.foundAt === null ? null : norm(x.foundAt),
      aliasTarget: x.aliasTarget === null ? null : norm(x.aliasTarget),
      records: x.records.map(norm).filter((v): v is string => v !== null),
      dnssec: x.dnssec,
    })),
  );
  if (r.ca.name && norm(r.ca.name) !== null) expect(s.reporter).toContain(norm(r.ca.name));
  if (r.ca.contactEmail && norm(r.ca.contactEmail) !== null)
    expect(s.reporter).toContain(norm(r.ca.contactEmail));
  if (r.ca.url && norm(r.ca.url) !== null) expect(s.reporter).toContain(norm(r.ca.url));
}
