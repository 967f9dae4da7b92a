/**
 * `iodef send --resolver`: the https: iodef host named in the zone is resolved through the given
 * resolver (`hostResolverVia`), as a CA resolves everything through its own — here the lab's
 * embedded DNS responder serving a zone no system resolver knows. The report is delivered over
 * HTTPS (RFC 6546) to a real `certvigil iodef serve` with a certificate of the lab CA (LabIssuer),
 * exactly as `certvigil lab` wires it (src/cli/lab/world.ts, scenario.ts). The SSRF guard still
 * applies to the addresses found there; a host missing from the zone is a delivery error.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabIssuer, LabZone, startDnsResponder } from '../src/lab/index.js';
import type { DnsQueryLog, DnsResponder } from '../src/lab/index.js';
import { CLI, jsonLines, runCli } from './cli-run.js';
import { findFreePort } from './harness/processes.js';

const IODEF_HOST = 'iodef.example.lab';
let work: string;
let dns: DnsResponder;
let port: number;
let receiver: ChildProcess | null = null;
let receiverErr = '';
let caFile: string;
const queries: DnsQueryLog[] = [];
const owner = (): string => join(work, 'owner-state');

interface Delivery {
  kind: string;
  outcome?: string;
  status?: string;
  recipient: string;
  error?: string | null;
}

function sendArgs(name: string, state: string, extra: string[] = ['--allow-private-addresses']): string[] {
  return [
    'iodef',
    'send',
    name,
    '--ca',
    'ca.example.lab',
    '--ca-name',
    'certvigil test CA',
    '--method',
    'http-01',
    '--validation-succeeded',
    '--resolver',
    dns.endpoint,
    '--state-dir',
    join(work, state),
    '--from',
    'iodef-reports@ca.example.lab',
    '--https-ca-file',
    caFile,
    ...extra,
  ];
}

async function storedReports(): Promise<{ summary: { names: string[] } }[]> {
  const list = await runCli(['iodef', 'list', '--state-dir', owner(), '--json']);
  expect(list.code, list.stderr).toBe(0);
  return jsonLines(list.stdout) as { summary: { names: string[] } }[];
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-lab-iodef-'));
  port = await findFreePort();

  // The receiver's certificate for the zone's iodef host, from the lab CA the reporter trusts.
  const issuer = await LabIssuer.create({ commonName: 'certvigil test CA' });
  const cert = issuer.issue({ dnsNames: [IODEF_HOST] });
  caFile = join(work, 'ca.pem');
  await writeFile(caFile, issuer.certificatePem);
  await writeFile(join(work, 'receiver.pem'), cert.fullChainPem);
  await writeFile(join(work, 'receiver.key'), cert.privateKeyPem ?? '', { mode: 0o600 });

  const zone = new LabZone({ apexes: ['example.lab'] });
  zone.set(IODEF_HOST, 'A', ['127.0.0.1']);
  zone.set('victim.example.lab', 'CAA', [
    { flags: 0, tag: 'issue', value: 'other-ca.example' },
    { flags: 0, tag: 'iodef', value: `https://${IODEF_HOST}:${port}/` },
  ]);
  zone.set('private.example.lab', 'CAA', [
    { flags: 0, tag: 'issue', value: 'other-ca.example' },
    { flags: 0, tag: 'iodef', value: `https://${IODEF_HOST}:${port}/` },
  ]);
  zone.set('lost.example.lab', 'CAA', [
    { flags: 0, tag: 'issue', value: 'other-ca.example' },
    { flags: 0, tag: 'iodef', value: `https://nowhere.example.lab:${port}/` },
  ]);
  dns = await startDnsResponder({ zone, host: '127.0.0.1', onQuery: (q) => queries.push(q) });

  receiver = spawn(
    process.execPath,
    [
      CLI,
      'iodef',
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--state-dir',
      owner(),
      '--tls-cert',
      join(work, 'receiver.pem'),
      '--tls-key',
      join(work, 'receiver.key'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  receiver.stdout?.resume();
  receiver.stderr?.on('data', (d: Buffer) => (receiverErr += d.toString()));
  for (let i = 0; i < 200 && !receiverErr.includes('iodef receiver on'); i++) await sleep(50);
  expect(receiverErr).toContain(`https://127.0.0.1:${port}`);
}, 60_000);

afterAll(async () => {
  if (receiver && receiver.exitCode === null) {
    const exited = new Promise((r) => receiver?.once('exit', r));
    receiver.kill('SIGTERM');
    await exited;
  }
  await dns?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('iodef send --resolver → iodef serve over HTTPS (lab DNS, lab CA)', () => {
  it('resolves the iodef host through --resolver and delivers; the receiver stores the report', async () => {
    const r = await runCli(sendArgs('victim.example.lab', 'ca-state'));
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout) as unknown as Delivery[];
    expect(lines.filter((l) => l.kind === 'enqueue').map((l) => [l.outcome, l.recipient])).toEqual([
      ['enqueued', `https://${IODEF_HOST}:${port}/`],
    ]);
    const delivery = lines.find((l) => l.kind === 'delivery');
    expect(delivery?.status, delivery?.error ?? '').toBe('sent');
    // The iodef host's addresses came from the lab responder (no system resolver knows .lab).
    const asked = queries.filter((q) => q.name?.toLowerCase() === IODEF_HOST).map((q) => q.type);
    expect(asked).toEqual(expect.arrayContaining(['A', 'AAAA']));
    const stored = await storedReports();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.summary.names).toEqual(['victim.example.lab']);
  });

  it('the SSRF guard still applies to addresses found through --resolver (loopback refused without --allow-private-addresses)', async () => {
    const before = (await storedReports()).length;
    const r = await runCli(sendArgs('private.example.lab', 'ca-state-private', []));
    expect(r.code, r.stderr).toBe(0);
    const delivery = (jsonLines(r.stdout) as unknown as Delivery[]).find((l) => l.kind === 'delivery');
    expect(delivery?.status).toBe('gave-up');
    expect(delivery?.error).toMatch(
      /refused: iodef\.example\.lab resolves to 127\.0\.0\.1, a \w+ address \(SSRF guard\)/,
    );
    expect(await storedReports()).toHaveLength(before);
  });

  it('an iodef host missing from the zone is a delivery error naming the lookup (NXDOMAIN), nothing is received', async () => {
    const before = (await storedReports()).length;
    const r = await runCli(sendArgs('lost.example.lab', 'ca-state-lost'));
    expect(r.code, r.stderr).toBe(0);
    const delivery = (jsonLines(r.stdout) as unknown as Delivery[]).find((l) => l.kind === 'delivery');
    expect(delivery?.status).not.toBe('sent');
    expect(delivery?.error).toMatch(
      /cannot resolve nowhere\.example\.lab: lookup failed \(A NXDOMAIN, AAAA NXDOMAIN\)/,
    );
    expect(await storedReports()).toHaveLength(before);
  });
});
