/**
 * The lab zone as a master file (`--keep DIR`): src/caa's `parseZone` and the real zone checkers
 * of Knot, BIND and NSD read what `toZoneText` writes, and `LabZone.fromZoneText` reads it back.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseZone } from '../../caa/index.js';
import { LabZone } from './zone.js';

/** The checkers live in sbin on Debian, which an unprivileged PATH may lack. */
const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
const run = (tool: string, args: string[]) => promisify(execFile)(tool, args, { env, timeout: 20_000 });

function installed(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', env });
    return true;
  } catch {
    return false;
  }
}

/** The test's title says why it was skipped, when it was. */
function title(tool: string, what: string): string {
  return installed(tool)
    ? `${tool} (${what}) accepts it`
    : `${tool} (${what}): skipped, ${tool} is not installed`;
}

/** Values that need every escape the presentation format has (RFC 1035 §5.1, RFC 8659 §4.1.1). */
const HOSTILE = 'a "quoted" \\ back; semi ( paren ) tab\there é ☃ \x01';

function victimZone(): LabZone {
  const zone = new LabZone({ apexes: ['lab'] });
  zone.set('jabber.lab', 'A', ['127.0.0.1']);
  zone.set('jabber.lab', 'AAAA', ['::1']);
  zone.set('jabber.lab', 'CAA', [
    {
      flags: 0,
      tag: 'issue',
      value: 'ca.lab; accounturi=https://ca.lab/acme/acct/1; validationmethods=http-01',
    },
    { flags: 0, tag: 'issuewild', value: ';' },
    { flags: 0, tag: 'iodef', value: 'http://127.0.0.1:8080/iodef' },
    { flags: 128, tag: 'tbs', value: HOSTILE },
  ]);
  zone.set('conference.jabber.lab', 'CNAME', ['jabber.lab']);
  zone.set('_acme-challenge.jabber.lab', 'TXT', ['token-1', HOSTILE]);
  zone.set('ca.lab', 'A', ['127.0.0.1']);
  return zone;
}

describe('toZoneText', () => {
  it('writes $ORIGIN, $TTL, the SOA first, and absolute names', () => {
    const lines = victimZone().toZoneText().split('\n');
    expect(lines.slice(1, 4)).toEqual([
      '$ORIGIN lab.',
      '$TTL 60',
      'lab.\t60\tIN\tSOA\tns.lab. hostmaster.lab. 7 3600 600 86400 60',
    ]);
    expect(lines).toContain(
      'jabber.lab.\t60\tIN\tCAA\t128 tbs "a \\"quoted\\" \\\\ back; semi ( paren ) tab\\009here \\195\\169 \\226\\152\\131 \\001"',
    );
  });

  it("is read back by src/caa's parseZone with the same CAA records and CNAME", () => {
    const zone = victimZone();
    const read = parseZone(zone.toZoneText());
    expect(read.filter((r) => r.type === 'CAA').map((r) => [r.name, r.ttl, r.caa])).toEqual(
      zone.get('jabber.lab', 'CAA').map((caa) => ['jabber.lab', 60, caa]),
    );
    expect(read.find((r) => r.type === 'CNAME')).toMatchObject({
      name: 'conference.jabber.lab',
      target: 'jabber.lab',
    });
    expect(new Set(read.map((r) => r.name))).toEqual(
      new Set([
        'lab',
        'ns.lab',
        'ca.lab',
        'jabber.lab',
        '_acme-challenge.jabber.lab',
        'conference.jabber.lab',
      ]),
    );
  });

  it('round-trips through LabZone.fromZoneText (records and serial)', () => {
    const zone = victimZone();
    const again = LabZone.fromZoneText(zone.toZoneText());
    expect(again.records()).toEqual(zone.records());
    expect(again.serial()).toBe(zone.serial());
    expect(again.toZoneText()).toBe(zone.toZoneText());
  });
});

describe('LabZone.fromZoneText', () => {
  it('reads hand-written forms: relative names, @, blank owner, TTL units, class order, ( … )', () => {
    const text = [
      '$ORIGIN lab.',
      '$TTL 1h',
      '@ IN SOA ns hostmaster ( 7 ; serial',
      '   1h 10m 1d 30 )',
      '  NS ns',
      'ns 60 IN A 127.0.0.1',
      'jabber IN 120 CAA 0 issue "ca.lab"',
      '       CAA 0 iodef mailto:sec@jabber.lab',
      'www CNAME jabber',
      'txt TXT "a\\"b" c\\032d',
    ].join('\n');
    const zone = LabZone.fromZoneText(text);
    expect(zone.serial()).toBe(7);
    expect(zone.get('lab', 'SOA')[0]).toMatchObject({
      mname: 'ns.lab',
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 30,
    });
    expect(zone.lookup('jabber.lab', 'CAA').answers.map((r) => [r.ttl, r.data])).toEqual([
      [120, { flags: 0, tag: 'issue', value: 'ca.lab' }],
      [120, { flags: 0, tag: 'iodef', value: 'mailto:sec@jabber.lab' }],
    ]);
    expect(zone.get('www.lab', 'CNAME')).toEqual(['jabber.lab']);
    expect(zone.get('txt.lab', 'TXT')).toEqual([['a"b', 'c d']]);
  });

  it.each([
    ['a type the lab does not serve', '$ORIGIN lab.\n@ 60 IN SOA ns hm 1 1 1 1 1\nx 60 MX 10 y'],
    ['$INCLUDE', '$INCLUDE /etc/passwd'],
    ['an unterminated string', '$ORIGIN lab.\n@ 60 SOA ns hm 1 1 1 1 1\nx 60 TXT "abc'],
    ['unbalanced parentheses', '$ORIGIN lab.\n@ 60 SOA ns hm ( 1 1 1 1 1'],
    ['a relative name without $ORIGIN', 'x 60 A 127.0.0.1'],
    ['a record outside the SOA apex', '$ORIGIN lab.\n@ 60 SOA ns hm 1 1 1 1 1\nx.example. 60 A 127.0.0.1'],
    ['bad data', '$ORIGIN lab.\n@ 60 SOA ns hm 1 1 1 1 1\nx 60 A 300.0.0.1'],
  ])('refuses %s with LAB_INVALID_REQUEST', (_why, text) => {
    expect(() => LabZone.fromZoneText(text)).toThrow(
      expect.objectContaining({ code: 'LAB_INVALID_REQUEST' }),
    );
  });
});

describe('real zone checkers accept the text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certvigil-lab-zone-'));
  const file = join(dir, 'lab.zone');
  writeFileSync(file, victimZone().toZoneText());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!installed('kzonecheck'))(title('kzonecheck', 'Knot'), async () => {
    await expect(run('kzonecheck', ['-o', 'lab.', file])).resolves.toBeDefined();
  });

  it.skipIf(!installed('named-checkzone'))(title('named-checkzone', 'BIND'), async () => {
    const { stdout } = await run('named-checkzone', ['lab', file]);
    expect(stdout).toMatch(/OK/);
  });

  it.skipIf(!installed('nsd-checkzone'))(title('nsd-checkzone', 'NSD'), async () => {
    const { stdout } = await run('nsd-checkzone', ['lab', file]);
    expect(stdout).toMatch(/zone lab is ok/);
  });

  it.skipIf(!installed('knotc'))(title('knotc', 'Knot zone-check, offline'), async () => {
    const conf = join(dir, 'knot.conf');
    writeFileSync(
      conf,
      `server:\n  rundir: ${dir}\ntemplate:\n  - id: default\n    storage: ${dir}\nzone:\n  - domain: lab.\n    file: lab.zone\n`,
    );
    await expect(run('knotc', ['-c', conf, 'zone-check', 'lab.'])).resolves.toBeDefined();
    // The checker does check: a CNAME beside other data is refused (so the pass above means something).
    writeFileSync(join(dir, 'lab.zone'), `${victimZone().toZoneText()}jabber.lab. 60 IN CNAME ca.lab.\n`);
    await expect(run('knotc', ['-c', conf, 'zone-check', 'lab.'])).rejects.toThrow();
    writeFileSync(file, victimZone().toZoneText());
  });
});
