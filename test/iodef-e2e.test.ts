/**
 * CAA iodef end to end, as the issue describes it: the CAA engine (real Knot + Unbound) denies a
 * request for a name whose CAA has `iodef mailto:` and `iodef https:` targets; `certvigil iodef
 * send` (the CA-side reporter) delivers to a real SMTP server (aiosmtpd) on loopback and, over
 * HTTPS, to `certvigil iodef serve` (the owner-side receiver) running as its own process; the
 * receiver stores and alerts; `iodef list` shows the report in one line; every document is valid
 * against the official IODEF v2 XSD (xmllint). Sending the same denial again reports nothing new.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, jsonLines, runCli } from './cli-run.js';
import { TestCa } from './fixtures/ct-log/index.js';
import { chainPem, privateKeyPem } from './fixtures/tls/index.js';
import { startDnsStack } from './harness/dns-stack.js';
import type { DnsStack } from './harness/dns-stack.js';
import { findFreePort } from './harness/processes.js';
import { startSmtpServer } from './harness/smtp.js';
import type { SmtpServer } from './harness/smtp.js';

const XSD = fileURLToPath(new URL('vectors/iodef/iodef-2.0.xsd', import.meta.url));

let work: string;
let dns: DnsStack;
let smtp: SmtpServer;
let receiverPort: number;
let receiver: ChildProcess | null = null;
let receiverOut = '';
let caFile: string;
const resolver = (): string => `${dns.resolver.host}:${dns.resolver.port}`;

function xmllintValid(document: string, file: string): { ok: boolean; output: string } {
  try {
    execFileSync('xmllint', ['--noout', '--nonet', '--schema', XSD, file], { stdio: 'pipe' });
    return { ok: true, output: document.slice(0, 0) };
  } catch (e) {
    return { ok: false, output: String((e as { stderr?: Buffer }).stderr ?? e) };
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-iodef-e2e-'));
  receiverPort = await findFreePort();
  [dns, smtp] = await Promise.all([
    startDnsStack({
      extraRecords: [
        'reported CAA 0 issue "other-ca.example"',
        'reported CAA 0 iodef "mailto:security@caa.test"',
        `reported CAA 0 iodef "https://localhost:${receiverPort}/iodef"`,
        'quiet CAA 0 issue "other-ca.example"',
        'welcome CAA 0 issue "vigil-ca.example"',
        'welcome CAA 0 iodef "mailto:security@caa.test"',
      ],
    }),
    startSmtpServer(),
  ]);
  // The receiver's certificate, for localhost, from a CA the reporter is told to trust.
  const ca = await TestCa.create();
  const cert = ca.issue({ dnsNames: ['localhost'] });
  caFile = join(work, 'receiver-ca.pem');
  await writeFile(caFile, chainPem(ca.certificate, []));
  await writeFile(join(work, 'receiver.pem'), chainPem(cert.der, cert.chain));
  await writeFile(join(work, 'receiver.key'), privateKeyPem(cert.privateKey));
}, 90_000);

afterAll(async () => {
  receiver?.kill('SIGTERM');
  await Promise.all([dns?.stop(), smtp?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('iodef build (CLI contract)', () => {
  it('denied with iodef targets: prints an IODEF v2 document valid against the XSD, exit 0', async () => {
    const r = await runCli([
      'iodef',
      'build',
      'reported.caa.test',
      '--ca',
      'vigil-ca.example',
      '--method',
      'dns-01',
      '--resolver',
      resolver(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('urn:ietf:params:xml:ns:iodef-2.0');
    expect(r.stdout).toContain('reported.caa.test');
    expect(r.stdout).toContain('issuer-not-authorized');
    const file = join(work, 'built.xml');
    await writeFile(file, r.stdout);
    const valid = xmllintValid(r.stdout, file);
    expect(valid.ok, valid.output).toBe(true);
  });

  it('no report due — allowed, or denied without an iodef target: exit 1 with the reason', async () => {
    const allowed = await runCli([
      'iodef',
      'build',
      'welcome.caa.test',
      '--ca',
      'vigil-ca.example',
      '--resolver',
      resolver(),
    ]);
    expect(allowed.code).toBe(1);
    expect(allowed.stdout).toBe('');
    expect(allowed.stderr).toMatch(/CAA allows issuance for welcome\.caa\.test/);
    const quiet = await runCli([
      'iodef',
      'build',
      'quiet.caa.test',
      '--ca',
      'vigil-ca.example',
      '--resolver',
      resolver(),
    ]);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toMatch(/names no iodef target/);
  });
});

describe('iodef send without an SMTP relay (issue 12)', () => {
  it('a mailto: target and no --smtp is a usage error: exit 2, one line, nothing enqueued or created', async () => {
    const dir = join(work, 'no-smtp-state');
    const r = await runCli([
      'iodef',
      'send',
      'reported.caa.test',
      '--ca',
      'vigil-ca.example',
      '--resolver',
      resolver(),
      '--state-dir',
      dir,
      '--from',
      'caa-reports@vigil-ca.example',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^certvigil: the iodef target mailto:security@caa\.test needs an SMTP relay: give --smtp/,
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('iodef send → SMTP and → iodef serve over HTTPS', () => {
  const state = () => join(work, 'ca-state');
  const owner = () => join(work, 'owner-state');
  /** The CA reports a refusal after http-01 validation had succeeded (the high-risk case). */
  const sendArgs = (): string[] => [
    'iodef',
    'send',
    'reported.caa.test',
    '--ca',
    'vigil-ca.example',
    '--method',
    'http-01',
    '--validation-succeeded',
    '--resolver',
    resolver(),
    '--state-dir',
    state(),
    '--smtp',
    `${smtp.host}:${smtp.port}`,
    '--from',
    'caa-reports@vigil-ca.example',
    '--https-ca-file',
    caFile,
    '--allow-private-addresses',
  ];

  beforeAll(async () => {
    receiver = spawn(
      process.execPath,
      [
        CLI,
        'iodef',
        'serve',
        '--listen',
        `127.0.0.1:${receiverPort}`,
        '--path',
        '/iodef',
        '--state-dir',
        owner(),
        '--tls-cert',
        join(work, 'receiver.pem'),
        '--tls-key',
        join(work, 'receiver.key'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    receiver.stdout?.on('data', (d: Buffer) => (receiverOut += d.toString()));
    let err = '';
    receiver.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    for (let i = 0; i < 100 && !err.includes('iodef receiver on'); i++) await sleep(50);
    expect(err).toContain(`https://127.0.0.1:${receiverPort}`);
  });

  it('delivers the report by mail (text + IODEF attachment) and by RFC 6546 POST; the receiver stores and alerts', async () => {
    const send = await runCli(sendArgs());
    expect(send.code, send.stdout + send.stderr).toBe(0);
    const lines = jsonLines(send.stdout) as {
      kind: string;
      outcome?: string;
      status?: string;
      recipient: string;
    }[];
    expect(lines.filter((l) => l.kind === 'enqueue').map((l) => l.outcome)).toEqual(['enqueued', 'enqueued']);
    expect(lines.filter((l) => l.kind === 'delivery').map((l) => l.status)).toEqual(['sent', 'sent']);

    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.envelope.rcptTo).toEqual(['security@caa.test']);
    expect(mail?.raw.toString()).toContain('reported.caa.test');

    // The receiver stored it and alerted (no sink configured: JSON lines on its stdout).
    for (let i = 0; i < 50 && !receiverOut.includes('reported.caa.test'); i++) await sleep(50);
    expect(receiverOut).toContain('reported.caa.test');
    const list = await runCli(['iodef', 'list', '--state-dir', owner(), '--json']);
    const stored = jsonLines(list.stdout) as {
      schemaValid: boolean;
      line: string;
      summary: { names: string[] };
    }[];
    expect(stored).toHaveLength(1);
    expect(stored[0]?.schemaValid).toBe(true);
    expect(stored[0]?.summary.names).toContain('reported.caa.test');
    expect(stored[0]?.line).toMatch(/^HIGH/);
    const human = await runCli(['iodef', 'list', '--state-dir', owner()]);
    expect(human.stdout.trim().split('\n')).toHaveLength(1);
    expect(human.stdout).toMatch(/reported\.caa\.test.*issuer-not-authorized/);
  });

  it('the same denial again within the window: deduplicated, nothing new is sent', async () => {
    const again = await runCli(sendArgs());
    expect(again.code).toBe(0);
    const lines = jsonLines(again.stdout) as { kind: string; outcome?: string }[];
    expect(lines.filter((l) => l.kind === 'enqueue').map((l) => l.outcome)).toEqual([
      'duplicate',
      'duplicate',
    ]);
    expect(lines.filter((l) => l.kind === 'delivery')).toEqual([]);
    await sleep(200);
    expect(await smtp.messages()).toHaveLength(1);
  });

  it('without --allow-private-addresses the https target resolving to loopback is refused at send time (SSRF guard)', async () => {
    const before = (await runCli(['iodef', 'list', '--state-dir', owner(), '--json'])).stdout;
    const r = await runCli([
      'iodef',
      'send',
      'reported.caa.test',
      '--ca',
      'another-ca.example',
      '--resolver',
      resolver(),
      '--state-dir',
      join(work, 'ssrf-state'),
      '--from',
      'caa-reports@vigil-ca.example',
      '--smtp',
      `${smtp.host}:${smtp.port}`,
      '--https-ca-file',
      caFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout) as {
      kind: string;
      recipient: string;
      status?: string;
      error?: string;
    }[];
    const https = lines.find((l) => l.kind === 'delivery' && l.recipient.startsWith('https:'));
    expect(https?.status).toBe('gave-up');
    expect(https?.error).toMatch(/loopback|private|non-public/i);
    // The receiver got nothing new.
    expect((await runCli(['iodef', 'list', '--state-dir', owner(), '--json'])).stdout).toBe(before);
  });
});
