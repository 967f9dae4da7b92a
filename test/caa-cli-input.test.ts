/**
 * Issue 12, bad input for the CAA and ACME commands: every case exits 2 with exactly one line on
 * stderr (`certvigil: …`, control bytes escaped), nothing on stdout, before any DNS query, and
 * creates nothing (the binary runs in an empty temporary directory that must stay empty).
 * Also: `caa suggest` keeps stdout for the records alone, and every command's --help states its
 * exit statuses.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, jsonLines } from './cli-run.js';
import type { CliResult } from './cli-run.js';

let base: string;
let files: { empty: string; binary: string; zone: string; dir: string; stateDir: string };

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certvigil-caa-input-'));
  const fx = join(base, 'fixtures');
  await mkdir(join(fx, 'dir'), { recursive: true });
  files = {
    empty: join(fx, 'empty.zone'),
    binary: join(fx, 'binary.zone'),
    zone: join(fx, 'example.zone'),
    dir: join(fx, 'dir'),
    stateDir: join(fx, 'no-such-state'),
  };
  await writeFile(files.empty, '');
  await writeFile(files.binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe]));
  await writeFile(
    files.zone,
    '$ORIGIN example.com.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN CAA 0 issue "letsencrypt.org"\n',
  );
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Runs the built binary with `cwd` in a fresh empty directory; returns the result and what it left there. */
async function runIn(args: string[]): Promise<CliResult & { left: string[] }> {
  const cwd = await mkdtemp(join(base, 'cwd-'));
  const res = await new Promise<CliResult>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      // HOME inside cwd: a default that writes under HOME would show up as a leftover too.
      { cwd, env: { ...process.env, NO_COLOR: '1', HOME: cwd }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
  return { ...res, left: await readdir(cwd) };
}

const LE = 'letsencrypt.org';
const ACCT = 'https://acme-v02.api.letsencrypt.org/acme/acct/1';
/** A resolver nobody should ever reach: every case must fail before the first query. */
const NO_QUERY = ['--resolver', '192.0.2.1:53', '--timeout', '5s', '--attempts', '1'];
const check = (...extra: string[]): string[] => [
  'caa',
  'check',
  'www.example.com',
  '--ca',
  LE,
  ...NO_QUERY,
  ...extra,
];

const CASES: [string, () => string[], RegExp][] = [
  // --ca (RFC 8659 §4.2 issuer-domain-name)
  [
    'caa check --ca URL',
    () => ['caa', 'check', 'x.example', '--ca', 'https://letsencrypt.org', ...NO_QUERY],
    /--ca .*not a URL/,
  ],
  [
    'caa check --ca with a space',
    () => ['caa', 'check', 'x.example', '--ca', 'lets encrypt.org', ...NO_QUERY],
    /--ca .*spaces/,
  ],
  [
    'caa check --ca empty label',
    () => ['caa', 'check', 'x.example', '--ca', 'letsencrypt..org', ...NO_QUERY],
    /--ca .*empty label/,
  ],
  [
    'caa check --ca IP',
    () => ['caa', 'check', 'x.example', '--ca', '192.0.2.1', ...NO_QUERY],
    /--ca .*IP address/,
  ],
  [
    'caa check --ca empty',
    () => ['caa', 'check', 'x.example', '--ca', '', ...NO_QUERY],
    /--ca needs an issuer domain/,
  ],
  [
    'caa check --ca label over 63',
    () => ['caa', 'check', 'x.example', '--ca', `${'a'.repeat(64)}.org`, ...NO_QUERY],
    /--ca .*at most 63/,
  ],
  // --method (RFC 8555, IANA ACME Validation Methods, RFC 8657 §4 ca-)
  [
    'caa check --method unknown',
    () => check('--method', 'http01'),
    /--method must be an ACME validation method: http-01, dns-01, tls-alpn-01/,
  ],
  ['caa check --method upper case', () => check('--method', 'DNS-01'), /lower case/],
  ['caa check --method tls-sni-01 (reserved)', () => check('--method', 'tls-sni-01'), /--method must be/],
  // --account-uri (https URL)
  [
    'caa check --account-uri http',
    () => check('--account-uri', 'http://acme.example/acct/1'),
    /--account-uri .*https/,
  ],
  ['caa check --account-uri not a URL', () => check('--account-uri', 'acct-1'), /--account-uri .*not a URL/],
  ['caa check --account-uri with ";"', () => check('--account-uri', `${ACCT};x=1`), /--account-uri .*";"/],
  // names
  [
    'caa check empty label',
    () => ['caa', 'check', 'www..example.com', '--ca', LE, ...NO_QUERY],
    /invalid name: empty label/,
  ],
  [
    'caa check label over 63',
    () => ['caa', 'check', `${'a'.repeat(64)}.example`, '--ca', LE, ...NO_QUERY],
    /label of 64 characters/,
  ],
  [
    'caa check name over 253',
    () => ['caa', 'check', `${'a.'.repeat(127)}example`, '--ca', LE, ...NO_QUERY],
    /domain name of 261 characters \(at most 253\)/,
  ],
  [
    'caa check control bytes',
    () => ['caa', 'check', 'a\x1b[31m.example', '--ca', LE, ...NO_QUERY],
    /control character .*"a\\x1B\[31m\.example"/,
  ],
  [
    'caa check a URL as name',
    () => ['caa', 'check', 'https://example.com/', '--ca', LE, ...NO_QUERY],
    /not a URL/,
  ],
  // resolver flags
  [
    'caa check --resolver bad port',
    () => ['caa', 'check', 'x.example', '--ca', LE, '--resolver', '127.0.0.1:99999'],
    /port must be 1-65535/,
  ],
  [
    'caa check --resolver [::1',
    () => ['caa', 'check', 'x.example', '--ca', LE, '--resolver', '[::1'],
    /unbalanced brackets/,
  ],
  [
    'caa check --resolver hex port',
    () => ['caa', 'check', 'x.example', '--ca', LE, '--resolver', '127.0.0.1:0x35'],
    /port must be/,
  ],
  [
    'caa check --resolver name',
    () => ['caa', 'check', 'x.example', '--ca', LE, '--resolver', 'dns.example:53'],
    /IP address/,
  ],
  ['caa check --timeout 0', () => check('--timeout', '0'), /--timeout must be between 10ms and 1m/],
  ['caa check --timeout huge', () => check('--timeout', '99999999999999'), /--timeout must be between/],
  ['caa check --timeout words', () => check('--timeout', 'soon'), /--timeout must be a duration/],
  ['caa check --attempts 0', () => check('--attempts', '0'), /--attempts must be a positive integer/],
  ['caa check --attempts huge', () => check('--attempts', '1000'), /--attempts must be at most 10/],
  ['caa check --attempts negative', () => check('--attempts=-1'), /--attempts must be a positive integer/],
  // caa evaluate
  [
    'caa evaluate missing zone',
    () => ['caa', 'evaluate', '--zone', join(base, 'nope.zone'), 'example.com', '--ca', LE],
    /cannot read zone file .*no such file/,
  ],
  [
    'caa evaluate empty zone',
    () => ['caa', 'evaluate', '--zone', files.empty, 'example.com', '--ca', LE],
    /has no records/,
  ],
  [
    'caa evaluate directory',
    () => ['caa', 'evaluate', '--zone', files.dir, 'example.com', '--ca', LE],
    /is a directory/,
  ],
  [
    'caa evaluate binary',
    () => ['caa', 'evaluate', '--zone', files.binary, 'example.com', '--ca', LE],
    /is not text/,
  ],
  [
    'caa evaluate name outside the zone',
    () => ['caa', 'evaluate', '--zone', files.zone, 'exmaple.com', '--ca', LE],
    /outside the zone .*example\.com/,
  ],
  [
    'caa evaluate --method',
    () => ['caa', 'evaluate', '--zone', files.zone, 'example.com', '--ca', LE, '--method', 'nope'],
    /--method must be/,
  ],
  [
    'caa evaluate --ca',
    () => ['caa', 'evaluate', '--zone', files.zone, 'example.com', '--ca', 'le/org'],
    /--ca must be/,
  ],
  [
    'caa evaluate --origin with a space',
    () => ['caa', 'evaluate', '--zone', files.zone, 'example.com', '--ca', LE, '--origin', 'exa mple.com'],
    /--origin must be a domain name/,
  ],
  // caa suggest
  [
    'caa suggest --iodef http:',
    () => [
      'caa',
      'suggest',
      'example.com',
      '--ca',
      LE,
      '--account-uri',
      ACCT,
      '--iodef',
      'http://iodef.example.com/',
    ],
    /--iodef: http: sends reports in clear text/,
  ],
  [
    'caa suggest --iodef ftp:',
    () => [
      'caa',
      'suggest',
      'example.com',
      '--ca',
      LE,
      '--account-uri',
      ACCT,
      '--iodef',
      'ftp://iodef.example.com/',
    ],
    /--iodef: only mailto: and https:/,
  ],
  [
    'caa suggest --iodef mailto: without address',
    () => ['caa', 'suggest', 'example.com', '--ca', LE, '--account-uri', ACCT, '--iodef', 'mailto:security'],
    /--iodef: "security" is not an e-mail address/,
  ],
  [
    'caa suggest --iodef with a newline',
    () => [
      'caa',
      'suggest',
      'example.com',
      '--ca',
      LE,
      '--account-uri',
      ACCT,
      '--iodef',
      'https://a\n.example.com/',
    ],
    /--iodef: spaces, control/,
  ],
  [
    'caa suggest --format',
    () => ['caa', 'suggest', 'example.com', '--ca', LE, '--account-uri', ACCT, '--format', 'yaml'],
    /--format must be one of/,
  ],
  [
    'caa suggest bad domain',
    () => ['caa', 'suggest', 'example..com', '--ca', LE, '--account-uri', ACCT],
    /invalid name/,
  ],
  [
    'caa suggest wildcard domain',
    () => ['caa', 'suggest', '*.example.com', '--ca', LE, '--account-uri', ACCT],
    /wildcard is not allowed/,
  ],
  [
    'caa suggest --account-uri http',
    () => ['caa', 'suggest', 'example.com', '--ca', LE, '--account-uri', 'http://x.example/1'],
    /--account-uri .*https/,
  ],
  [
    'caa suggest --method',
    () => ['caa', 'suggest', 'example.com', '--ca', LE, '--account-uri', ACCT, '--method', 'dns'],
    /--method must be/,
  ],
  [
    'caa suggest missing --acme-dir',
    () => ['caa', 'suggest', 'example.com', '--acme-dir', join(base, 'no-such-dir')],
    /--acme-dir .*no such file or directory/,
  ],
  // caa audit
  [
    'caa audit --ns-port 0',
    () => ['caa', 'audit', 'example.com', '--ns-port', '0', ...NO_QUERY],
    /--ns-port must be a positive integer/,
  ],
  [
    'caa audit --ns-port 70000',
    () => ['caa', 'audit', 'example.com', '--ns-port', '70000', ...NO_QUERY],
    /--ns-port must be at most 65535/,
  ],
  [
    'caa audit --acme-method',
    () => ['caa', 'audit', 'example.com', '--acme-method', 'dns', ...NO_QUERY],
    /--acme-method must be/,
  ],
  [
    'caa audit missing --state-dir',
    () => ['caa', 'audit', 'example.com', '--state-dir', files.stateDir, ...NO_QUERY],
    /no certvigil state at/,
  ],
  ['caa audit bad domain', () => ['caa', 'audit', 'exa mple.com', ...NO_QUERY], /invalid name/],
  [
    'caa audit --timeout',
    () => ['caa', 'audit', 'example.com', '--resolver', '192.0.2.1', '--timeout', '-5'],
    /--timeout must be/,
  ],
  // acme accounts
  [
    'acme accounts missing --acme-dir',
    () => ['acme', 'accounts', '--acme-dir', join(base, 'no-such-dir')],
    /--acme-dir .*no such file or directory/,
  ],
  ['acme accounts --ca', () => ['acme', 'accounts', '--ca', 'https://ca.example/'], /--ca must be/],
];

describe('bad input: exit 2, one stderr line, nothing on stdout, nothing created', () => {
  it.each(CASES)('%s', async (_name, args, message) => {
    const started = Date.now();
    const res = await runIn(args());
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).toBe('');
    const lines = res.stderr.split('\n').filter((l) => l !== '');
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^certvigil: /);
    expect(lines[0]).toMatch(message);
    // eslint-disable-next-line no-control-regex
    expect(res.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(res.left).toEqual([]);
    // Nothing was asked: 192.0.2.1 (TEST-NET-1) would have taken the whole 5 s timeout.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('the missing --state-dir and --acme-dir were not created', async () => {
    await runIn(['caa', 'audit', 'example.com', '--state-dir', files.stateDir, ...NO_QUERY]);
    await runIn(['acme', 'accounts', '--acme-dir', join(base, 'no-such-dir')]);
    expect((await readdir(join(base, 'fixtures'))).sort()).toEqual([
      'binary.zone',
      'dir',
      'empty.zone',
      'example.zone',
    ]);
    expect(await readdir(base)).not.toContain('no-such-dir');
  });
});

describe('caa suggest output', () => {
  const args = ['caa', 'suggest', 'example.com', '--ca', LE, '--account-uri', ACCT, '--method', 'dns-01'];

  it('--format terraform: stdout is exactly the Terraform resource (a valid caa.tf); the proof is on stderr', async () => {
    const res = await runIn([...args, '--format', 'terraform', '--iodef', 'mailto:security@example.com']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^resource "aws_route53_record" "caa_example_com" \{\n/);
    expect(res.stdout).toMatch(/\n\}\n$/);
    expect(res.stdout).not.toMatch(/proof|holds|case {2}/);
    expect(res.stdout).toContain('iodef \\"mailto:security@example.com\\"');
    expect(res.stderr).toMatch(/proof holds/);
    expect(res.left).toEqual([]);
  });

  it('--format zone: one presentation line per record on stdout, nothing else', async () => {
    const res = await runIn([...args, '--format', 'zone']);
    expect(res.code).toBe(0);
    for (const l of res.stdout.trimEnd().split('\n'))
      expect(l).toMatch(/^example\.com\. 3600 IN CAA \d+ \w+ ".*"$/);
  });

  it('--json: one JSON object on stdout, with the proof inside', async () => {
    const res = await runIn([...args, '--json']);
    expect(res.code).toBe(0);
    const [out, ...rest] = jsonLines(res.stdout);
    expect(rest).toEqual([]);
    expect(out).toHaveProperty('proof.holds', true);
    expect(res.stderr).toBe('');
  });

  it('--iodef https: is accepted when well-formed', async () => {
    const res = await runIn([...args, '--iodef', 'https://iodef.example.com/rid']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('iodef "https://iodef.example.com/rid"');
  });
});

describe('--help states the exit statuses', () => {
  it.each(['caa', 'caa check', 'caa audit', 'caa suggest', 'caa evaluate', 'acme', 'acme accounts'])(
    '%s --help',
    async (cmd) => {
      const res = await runIn([...cmd.split(' '), '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/Exit status: /);
    },
  );
});
