/**
 * Issue 12: certificate fields are outside text. A CA whose name carries terminal escapes, a bidi
 * override and CR/LF (with a forged status line after it) must not reach Nagios' status text or an
 * operator's terminal raw, in the plugin text or in --json.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSafeText } from '../src/sanitize.js';
import { jsonLines, runCli } from './cli-run.js';
import { TestCa, writeLogList } from './fixtures/ct-log/index.js';
import { chainPem, pem, privateKeyPem, startNodeTlsServer } from './fixtures/tls/index.js';
import type { NodeTlsServer } from './fixtures/tls/index.js';

const HOSTILE_CN = 'Evil \u001b]0;owned\u0007\u001b[2J CA \u202etset.\r\nCERTVIGIL OK - all fine\u2028x';
let work: string;
let server: NodeTlsServer;
let args: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-hostile-'));
  const ca = await TestCa.create({ commonName: HOSTILE_CN });
  const leaf = ca.issue({ dnsNames: ['www.example.test'] });
  server = await startNodeTlsServer({
    chainPem: chainPem(leaf.der, leaf.chain),
    keyPem: privateKeyPem(leaf.privateKey),
  });
  const caFile = join(work, 'ca.pem');
  await writeFile(caFile, pem(ca.certificate, 'CERTIFICATE'));
  const logList = join(work, 'loglist.json');
  await writeLogList(logList, []);
  args = [
    'check',
    'endpoint',
    `127.0.0.1:${server.port}`,
    '--sni',
    'www.example.test',
    '--ca-file',
    caFile,
    '--log-list',
    logList,
    '--ct-policy',
    'none',
    '--no-ct-proof',
    '--expect-issuer',
    'Someone Else',
    '-t',
    '5',
  ];
}, 30_000);

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('check endpoint: hostile certificate fields', () => {
  it('plugin text: escaped, the forged status line stays inside the real one', async () => {
    const r = await runCli(args);
    expect(r.code, r.stdout).toBe(2);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CERTVIGIL CRITICAL - /);
    expect(lines.filter((l) => l.startsWith('CERTVIGIL '))).toHaveLength(1);
    for (const l of lines) expect(isSafeText(l), l).toBe(true);
    // The DN formatter escapes controls, bidi overrides and U+2028 as RFC 4514 hex pairs of their
    // UTF-8 bytes (`\1b`, `\e2\80\ae`); the sanitiser guards whatever else comes from outside.
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('\\e2\\80\\aetset.');
    expect(r.stdout).toContain('\\e2\\80\\a8x');
  });

  it('--json: nothing raw on the terminal, findings intact', async () => {
    const r = await runCli([...args, '--json']);
    expect(r.code, r.stdout).toBe(2);
    expect(isSafeText(r.stdout.trimEnd())).toBe(true);
    const [result] = jsonLines(r.stdout) as { findings: { id: string; message: string }[] }[];
    const unexpected = result?.findings.find((f) => f.id === 'issuer-unexpected');
    expect(unexpected?.message).toMatch(/issuer CN=Evil .*CERTVIGIL OK - all fine\\e2\\80\\a8x/);
    expect(unexpected?.message).not.toMatch(/[\r\n\u202e\u2028]/);
  });
});
