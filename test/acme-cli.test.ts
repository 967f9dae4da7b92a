/**
 * The built binary: `acme accounts`, `caa suggest` and `caa evaluate` (offline over a zone file),
 * the latter against every `cases` expectation of the shared vectors (test/vectors/caa-cases.json,
 * records served as zone caa.test.) — the offline engine must agree with the online one.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';

interface Vectors {
  origin: string;
  records: string[];
  cases: { name: string; issuer: string; accountUri: string | null; method: string | null; expect: string }[];
}

let dir: string;
let zone: string;
let vectors: Vectors;
const LE = 'https://acme-v02.api.letsencrypt.org/acme/acct/42';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-acme-cli-'));
  vectors = JSON.parse(await readFile(new URL('vectors/caa-cases.json', import.meta.url), 'utf8')) as Vectors;
  zone = join(dir, 'caa.test.zone');
  await writeFile(
    zone,
    [
      `$ORIGIN ${vectors.origin}`,
      '$TTL 300',
      '@ IN SOA ns hostmaster 1 7200 3600 1209600 300',
      '@ IN NS ns',
      ...vectors.records,
    ].join('\n') + '\n',
  );
  // acme.sh layout (acmesh-official/acme.sh: ca/<host>/<path>/ca.conf, <domain>/<domain>.conf).
  const acmeSh = join(dir, 'acme.sh');
  await mkdir(join(acmeSh, 'ca/acme-v02.api.letsencrypt.org/directory'), { recursive: true });
  await mkdir(join(acmeSh, 'example.com'), { recursive: true });
  await writeFile(join(acmeSh, 'ca/acme-v02.api.letsencrypt.org/directory/ca.conf'), `ACCOUNT_URL='${LE}'\n`);
  await writeFile(
    join(acmeSh, 'example.com/example.com.conf'),
    "Le_Domain='example.com'\nLe_Alt='www.example.com'\nLe_Webroot='dns_cf'\nLe_API='https://acme-v02.api.letsencrypt.org/directory'\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('caa evaluate --zone (offline) over the shared vectors', () => {
  it('gives every case its expected decision, with caa check exit codes', async () => {
    const groups = new Map<string, Vectors['cases']>();
    for (const c of vectors.cases) {
      const key = JSON.stringify([c.issuer, c.accountUri, c.method]);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    let checked = 0;
    for (const cases of groups.values()) {
      const c0 = cases[0] as Vectors['cases'][number];
      const args = [
        'caa',
        'evaluate',
        '--zone',
        zone,
        ...cases.map((c) => c.name),
        '--ca',
        c0.issuer,
        '--json',
      ];
      if (c0.accountUri) args.push('--account-uri', c0.accountUri);
      if (c0.method) args.push('--method', c0.method);
      const res = await runCli(args);
      const out = jsonLines(res.stdout);
      expect(out.map((o) => [o.name, o.decision])).toEqual(cases.map((c) => [c.name, c.expect]));
      const want = cases.some((c) => c.expect === 'error')
        ? 2
        : cases.some((c) => c.expect === 'deny')
          ? 1
          : 0;
      expect(res.code).toBe(want);
      checked += cases.length;
    }
    expect(checked).toBe(vectors.cases.length);
  }, 60_000);

  it('prints caa check human lines and reports zone syntax errors as usage errors', async () => {
    const ok = await runCli(['caa', 'evaluate', '--zone', zone, 'le.caa.test', '--ca', 'letsencrypt.org']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ALLOW le\.caa\.test: .*\[authorized; DNSSEC: insecure\]\n$/);
    const bad = join(dir, 'bad.zone');
    await writeFile(bad, '$ORIGIN x.\na CAA 0 issue "unterminated\n');
    const res = await runCli(['caa', 'evaluate', '--zone', bad, 'a.x', '--ca', 'letsencrypt.org']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/line 2: unterminated quoted string/);
  });
});

describe('acme accounts', () => {
  it('lists discovered accounts as JSON', async () => {
    const res = await runCli(['acme', 'accounts', '--acme-dir', join(dir, 'acme.sh'), '--json']);
    expect(res.code).toBe(0);
    expect(jsonLines(res.stdout)).toEqual([
      expect.objectContaining({
        client: 'acme.sh',
        accountUri: LE,
        caIssuer: 'letsencrypt.org',
        names: ['example.com', 'www.example.com'],
        challengeTypes: ['dns-01'],
      }),
    ]);
  });

  it('exits 1 when readable client state holds no account', async () => {
    await mkdir(join(dir, 'empty-state'), { recursive: true });
    const res = await runCli(['acme', 'accounts', '--acme-dir', join(dir, 'empty-state')]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('no ACME accounts found\n');
  });

  it('exits 2 for a file that no client writes (it would silently read as "no accounts")', async () => {
    await writeFile(join(dir, 'notes.txt'), 'hello\n');
    const res = await runCli(['acme', 'accounts', '--acme-dir', join(dir, 'notes.txt')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^certvigil: --acme-dir ".*notes\.txt" is a file, but only .*\n$/);
  });

  // Issue 12: a mistyped --acme-dir said "no ACME accounts found", as if the state had been read.
  it('exits 2 when --acme-dir does not exist, and does not create it', async () => {
    const res = await runCli(['acme', 'accounts', '--acme-dir', join(dir, 'nothing')]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^certvigil: --acme-dir ".*nothing": no such file or directory\n$/);
    await expect(readFile(join(dir, 'nothing'))).rejects.toThrow(/ENOENT/);
  });
});

describe('caa suggest', () => {
  it('from given accounts: zone records and a proof that holds', async () => {
    const res = await runCli([
      'caa', 'suggest', 'example.com', '--ca', 'letsencrypt.org', '--account-uri', LE,
      '--method', 'http-01', '--method', 'dns-01', '--iodef', 'mailto:sec@example.com',
    ]); // prettier-ignore
    expect(res.code).toBe(0);
    // Issue 12: stdout is the records alone (a valid zone-file fragment); the proof is on stderr.
    expect(res.stdout).toBe(
      `example.com. 3600 IN CAA 0 issue "letsencrypt.org; accounturi=${LE}; validationmethods=dns-01,http-01"\n` +
        'example.com. 3600 IN CAA 0 issuewild ";"\n' +
        'example.com. 3600 IN CAA 0 iodef "mailto:sec@example.com"\n',
    );
    expect(res.stderr).toMatch(/another CA\s+example\.com\s+other-ca\.invalid/);
    expect(res.stderr).toMatch(/proof holds\n$/);
  });

  it('from discovered accounts, as JSON with every format and the proof', async () => {
    const res = await runCli(['caa', 'suggest', 'example.com', '--acme-dir', join(dir, 'acme.sh'), '--json']);
    expect(res.code).toBe(0);
    const [out] = jsonLines(res.stdout) as [
      {
        records: { text: string }[];
        formats: Record<string, string>;
        proof: { holds: boolean; rows: unknown[] };
      },
    ];
    expect(out.records.map((r) => r.text)).toEqual([
      `0 issue "letsencrypt.org; accounturi=${LE}; validationmethods=dns-01"`,
      '0 issuewild ";"',
    ]);
    expect(Object.keys(out.formats)).toEqual(['zone', 'generic', 'octodns', 'terraform']);
    expect(out.formats.generic).toContain('IN TYPE257 \\# ');
    expect(out.proof.holds).toBe(true);
    expect(out.proof.rows.length).toBeGreaterThanOrEqual(6);
  });

  it('prints octoDNS and Terraform', async () => {
    const base = ['caa', 'suggest', 'example.com', '--ca', 'letsencrypt.org', '--account-uri', LE];
    const octo = await runCli([...base, '--format', 'octodns']);
    expect(octo.stdout).toContain("'':\n  - type: CAA\n");
    const tf = await runCli([...base, '--format', 'terraform']);
    expect(tf.stdout).toContain('resource "aws_route53_record" "caa_example_com" {');
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['caa', 'suggest', 'example.com', '--acme-dir', join(dir, 'nothing')])).code).toBe(
      2,
    );
    expect(
      (await runCli(['caa', 'suggest', 'example.com', '--ca', 'a', '--account-uri', LE, '--format', 'x']))
        .code,
    ).toBe(2);
  });
});
