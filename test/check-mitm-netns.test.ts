/**
 * The issue's scenario for `certvigil mitm learn` / `check mitm`, end to end: network namespaces
 * client ── r1 ── r2 ── server (src/lab/netns.ts), TLS servers on ports 443 and 5222 in the
 * server namespace, and the built binary run inside the client namespace (as root: `traceroute -T`
 * needs CAP_NET_RAW). The baseline is learned; then r1 sends port 5222 through an extra box — the
 * check goes CRITICAL naming the port and the new hop; with the detour off, OK again. IPv4 and IPv6.
 *
 * Skipped, with the reason in its title, where namespaces cannot be created (not root, no `ip`);
 * CI runs as root and runs it.
 */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, jsonLines } from './cli-run.js';
import type { CliResult } from './cli-run.js';
import { TestCa } from './fixtures/ct-log/index.js';
import { chainPem, privateKeyPem } from './fixtures/tls/index.js';
import { createTopology, namespacesSupported } from './harness/netns.js';
import type { Topology } from './harness/netns.js';

const support = await namespacesSupported();
const skip = support.ok ? null : support.reason;

/** TLS on 443 and 5222, every address of the server namespace; cert and key from files. */
const SERVER_SCRIPT = `
const tls = require('node:tls');
const fs = require('node:fs');
const [certFile, keyFile] = process.argv.slice(1);
const options = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
let pending = 2;
for (const port of [443, 5222]) {
  tls.createServer(options, (s) => s.end()).on('tlsClientError', () => {}).listen({ host: '::', port }, () => {
    if (--pending === 0) console.log('ready');
  });
}`;

describe.skipIf(skip !== null)(
  `check mitm through network namespaces${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let topo: Topology;
    let server: ChildProcess;
    let work: string;

    /** The certvigil binary, run inside the client namespace. */
    const cli = (args: string[]): Promise<CliResult> =>
      new Promise((resolve) => {
        execFile(
          'ip',
          ['netns', 'exec', topo.clientNs, process.execPath, CLI, ...args],
          { env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      });

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'certvigil-mitm-netns-'));
      const ca = await TestCa.create();
      const cert = ca.issue({ dnsNames: ['xmpp.example.test'] });
      await writeFile(join(work, 'cert.pem'), chainPem(cert.der, cert.chain));
      await writeFile(join(work, 'key.pem'), privateKeyPem(cert.privateKey));
      topo = await createTopology();
      server = topo.spawnIn(
        topo.serverNs,
        [process.execPath, '-e', SERVER_SCRIPT, join(work, 'cert.pem'), join(work, 'key.pem')],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      await new Promise<void>((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 10_000);
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          if (output.includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        };
        server.stdout?.on('data', onData);
        server.stderr?.on('data', onData);
      });
    }, 60_000);

    afterAll(async () => {
      await topo?.destroy();
      if (work) await rm(work, { recursive: true, force: true });
    });

    for (const family of [4, 6] as const) {
      it(`IPv${family}: learned → OK; detour on 5222 → CRITICAL naming 5222 and the new hop; detour off → OK`, async () => {
        const target = family === 4 ? topo.serverV4 : topo.serverV6;
        const mitmHop = family === 4 ? topo.hops.mitm.v4 : topo.hops.mitm.v6;
        const state = ['--state-dir', join(work, `state-${family}`), '-t', '20'];
        await topo.setDetour([]);

        const learn = await cli([
          'mitm',
          'learn',
          target,
          '--ports',
          '443,5222',
          '--rounds',
          '2',
          '--json',
          ...state,
        ]);
        expect(learn.code, learn.stderr).toBe(0);
        const learned = jsonLines(learn.stdout) as {
          port: number;
          jarms: string[];
          lastHops: string[][];
          hopCounts: number[];
        }[];
        expect(learned.map((b) => [b.port, b.hopCounts])).toEqual([
          [443, [3]],
          [5222, [3]],
        ]);
        for (const b of learned) expect(b.jarms[0]).toMatch(/^[0-9a-f]{62}$/);

        const ok = await cli(['check', 'mitm', target, ...state]);
        expect(ok.code, ok.stdout + ok.stderr).toBe(0);
        expect(ok.stdout).toMatch(/^CERTVIGIL OK - /);

        await topo.setDetour([5222]);
        const bad = await cli(['check', 'mitm', target, '--json', ...state]);
        expect(bad.code, bad.stdout + bad.stderr).toBe(2);
        const [result] = jsonLines(bad.stdout) as {
          findings: { id: string; severity: string; address: string; message: string }[];
        }[];
        const critical = result?.findings.filter((f) => f.severity === 'critical') ?? [];
        expect(critical.map((f) => f.id)).toEqual(['path-changed']);
        expect(critical[0]?.address).toMatch(/:5222$/);
        expect(critical[0]?.message).toContain(mitmHop);
        expect(critical[0]?.message).toMatch(/4 hops to the target \(learned: 3\)/);
        // Port 443 did not change.
        expect(
          result?.findings.find((f) => f.address.endsWith(':443') && f.id === 'path-consistent'),
        ).toBeDefined();

        const text = await cli(['check', 'mitm', target, ...state]);
        expect(text.stdout.split('\n')[0]).toMatch(
          /^CERTVIGIL CRITICAL - .*port 5222 path changed on this port only/,
        );

        await topo.setDetour([]);
        const again = await cli(['check', 'mitm', target, ...state]);
        expect(again.code, again.stdout).toBe(0);
      });
    }
  },
);
