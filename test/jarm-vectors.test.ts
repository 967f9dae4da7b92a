/**
 * `jarmFingerprint` against every server of test/vectors/jarm/jarm.json, each started here exactly
 * as the vector describes it (openssl s_server with the vector's flags, Node's tls.createServer
 * with its options, a plain TCP server, a closed port) on 127.0.0.1 with a fresh self-signed
 * CN=localhost certificate of the vector's key type. Both the hash and the pre-hash string must be
 * what jarm.py v1.0 computed for the same configuration. Plus: IPv6 (::1), JARM through SMTP
 * STARTTLS (Postfix), the timeout rules, and `jarmMany`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JARM_EMPTY_RAW, JARM_ZERO_HASH, jarmFingerprint, jarmMany } from '../src/probe/index.js';
import { jsonLines, runCli } from './cli-run.js';
import { startOpensslServer } from './fixtures/tls/openssl-server.js';
import { LOOPBACK, findFreePort } from './harness/processes.js';
import { startSmtpDaemon } from './harness/tls-daemons.js';

interface JarmVector {
  name: string;
  server: 'openssl' | 'node' | 'none';
  command: string;
  key: 'rsa2048' | 'p256' | null;
  jarm: string;
  raw: string;
}

const vectors = (
  JSON.parse(readFileSync(new URL('vectors/jarm/jarm.json', import.meta.url), 'utf8')) as {
    vectors: JarmVector[];
  }
).vectors;

interface KeyPair {
  certPem: string;
  keyPem: string;
}

let dir: string;
const keys: Partial<Record<'rsa2048' | 'p256', KeyPair>> = {};

function makeKeyPair(kind: 'rsa2048' | 'p256'): KeyPair {
  const keyFile = join(dir, `${kind}.key`);
  const certFile = join(dir, `${kind}.pem`);
  const newkey =
    kind === 'rsa2048' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...newkey,
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
    ],
    { stdio: 'ignore' },
  );
  return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

function keyPair(kind: 'rsa2048' | 'p256' | null): KeyPair {
  if (kind === null) throw new Error('vector has no key');
  const found = keys[kind];
  if (!found) throw new Error(`no ${kind} key pair`);
  return found;
}

/** A running server for one vector and how to stop it. */
interface Running {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** The s_server flags of a vector's command line beyond the ones our fixture sets itself. */
function opensslExtraArgs(command: string): string[] {
  const tokens = command.split(/\s+/);
  expect(tokens.slice(0, 2)).toEqual(['openssl', 's_server']);
  const extra: string[] = [];
  for (let i = 2; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (t === '-cert' || t === '-key' || t === '-accept') i++;
    else if (t !== '-www' && t !== '-quiet') extra.push(t);
  }
  return extra;
}

/** The Node TLS options each Node vector's command line spells out (checked against the text). */
const NODE_OPTIONS: Record<string, { command: string; options: tls.TlsOptions }> = {
  'node-rsa-default': { command: 'tls.createServer({key, cert})', options: {} },
  'node-ec-tls13-only': {
    command: "tls.createServer({key, cert, minVersion: 'TLSv1.3'})",
    options: { minVersion: 'TLSv1.3' },
  },
  'node-rsa-tls12-alpn': {
    command: "tls.createServer({key, cert, maxVersion: 'TLSv1.2', ALPNProtocols: ['h2', 'http/1.1']})",
    options: { maxVersion: 'TLSv1.2', ALPNProtocols: ['h2', 'http/1.1'] },
  },
};

function listen(server: net.Server, host: string): Promise<Running> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no address'));
      resolve({
        host,
        port: address.port,
        stop: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function startNodeTls(options: tls.TlsOptions, pair: KeyPair, host = LOOPBACK): Promise<Running> {
  const server = tls.createServer({ ...options, key: pair.keyPem, cert: pair.certPem }, (s) => s.end());
  server.on('tlsClientError', () => undefined);
  return listen(server, host);
}

async function startVector(v: JarmVector): Promise<Running> {
  switch (v.server) {
    case 'openssl': {
      const pair = keyPair(v.key);
      const server = await startOpensslServer({
        chainPem: pair.certPem,
        keyPem: pair.keyPem,
        extraArgs: opensslExtraArgs(v.command),
      });
      return { host: server.host, port: server.port, stop: () => server.stop() };
    }
    case 'node': {
      if (v.name === 'plain-tcp-not-tls') {
        expect(v.command).toBe(
          "net.createServer(s => s.on('data', () => s.end('HTTP/1.0 400 Bad\\r\\n\\r\\n')))",
        );
        const server = net.createServer((s) => {
          s.on('error', () => undefined);
          s.on('data', () => s.end('HTTP/1.0 400 Bad\r\n\r\n'));
        });
        return listen(server, LOOPBACK);
      }
      const known = NODE_OPTIONS[v.name];
      if (!known) throw new Error(`no Node server for vector ${v.name}`);
      expect(v.command).toBe(known.command);
      return startNodeTls(known.options, keyPair(v.key));
    }
    case 'none':
      return { host: LOOPBACK, port: await findFreePort(), stop: () => Promise.resolve() };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'certvigil-jarm-'));
  keys.rsa2048 = makeKeyPair('rsa2048');
  keys.p256 = makeKeyPair('p256');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('JARM of the vectors’ servers equals jarm.py’s', () => {
  it('covers every vector', () => {
    expect(vectors.map((v) => v.name)).toEqual([
      'osl-rsa-default',
      'osl-ec-default',
      'osl-rsa-no-tls13',
      'osl-rsa-alpn',
      'node-rsa-default',
      'node-ec-tls13-only',
      'node-rsa-tls12-alpn',
      'plain-tcp-not-tls',
      'closed-port',
    ]);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_, v) => {
    const server = await startVector(v);
    try {
      const result = await jarmFingerprint(`${server.host}:${server.port}`, { timeoutMs: 5_000 });
      expect(result.raw).toBe(v.raw);
      expect(result.jarm).toBe(v.jarm);
      expect(result.address).toBe(server.host);
      expect(result.port).toBe(server.port);
      if (v.server === 'none') expect(result.errors).toHaveLength(10);
      else expect(result.errors).toEqual([]);
      // Stable: a second scan gives the same.
      const again = await jarmFingerprint(server.host, { port: server.port });
      expect(again.jarm).toBe(v.jarm);
    } finally {
      await server.stop();
    }
  });
});

describe('JARM over IPv6, STARTTLS, timeouts', () => {
  it('fingerprints a server on ::1 like the same server on 127.0.0.1', async () => {
    const vector = vectors.find((v) => v.name === 'node-rsa-default');
    if (!vector) throw new Error('no node-rsa-default vector');
    const server = await startNodeTls({}, keyPair('rsa2048'), '::1');
    try {
      const result = await jarmFingerprint(`[::1]:${server.port}`);
      expect(result.address).toBe('::1');
      expect(result.raw).toBe(vector.raw);
      expect(result.jarm).toBe(vector.jarm);
    } finally {
      await server.stop();
    }
  });

  it('fingerprints the TLS stack behind SMTP STARTTLS (Postfix), stably', async () => {
    const smtp = await startSmtpDaemon(keyPair('rsa2048'));
    try {
      const options = { port: smtp.ports.smtp, starttls: 'smtp' as const, serverName: 'mail.example.test' };
      const first = await jarmFingerprint(LOOPBACK, options);
      const second = await jarmFingerprint(LOOPBACK, options);
      expect(first.errors, smtp.describeLogs()).toEqual([]);
      expect(first.jarm).not.toBe(JARM_ZERO_HASH);
      expect(first.jarm).toMatch(/^[0-9a-f]{62}$/);
      expect(second.jarm).toBe(first.jarm);
      expect(second.raw).toBe(first.raw);
      // Without the dialogue the SMTP greeting is garbage to a TLS client.
      const plain = await jarmFingerprint(LOOPBACK, { port: smtp.ports.smtp, timeoutMs: 2_000 });
      expect(plain.jarm).toBe(JARM_ZERO_HASH);
    } finally {
      await smtp.stop();
    }
  });

  it('a server that never answers: zeros within the timeout (jarm.py: any timeout empties all)', async () => {
    const sockets: net.Socket[] = [];
    const server = await listen(
      net.createServer((s) => {
        s.on('error', () => undefined);
        sockets.push(s);
      }),
      LOOPBACK,
    );
    try {
      const started = performance.now();
      const result = await jarmFingerprint(LOOPBACK, { port: server.port, timeoutMs: 300 });
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(result.raw).toBe(JARM_EMPTY_RAW);
      expect(result.jarm).toBe(JARM_ZERO_HASH);
      expect(result.errors).toHaveLength(10);
      expect(result.errors[0]).toMatch(/no reply within 300 ms/);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });

  it('one stalled probe empties everything (reference) or only itself (per-probe)', async () => {
    const pair = keyPair('rsa2048');
    const backend = await startNodeTls({}, pair);
    // A proxy in front of the Node server that swallows the connection carrying the first probe
    // (TLS 1.2, cipher list starting 0x0016 0x0033) and forwards all others.
    const held: net.Socket[] = [];
    const proxy = await listen(
      net.createServer((client) => {
        client.on('error', () => undefined);
        client.once('data', (hello: Buffer) => {
          if (hello[2] === 3 && hello.subarray(76, 82).toString('hex') === '008a00160033') {
            held.push(client);
            return;
          }
          const upstream = net.connect({ host: LOOPBACK, port: backend.port }, () => upstream.write(hello));
          upstream.on('error', () => client.destroy());
          upstream.pipe(client);
          client.pipe(upstream);
        });
      }),
      LOOPBACK,
    );
    try {
      const reference = await jarmFingerprint(LOOPBACK, { port: proxy.port, timeoutMs: 400 });
      expect(reference.raw).toBe(JARM_EMPTY_RAW);
      expect(reference.errors).toHaveLength(1);
      const perProbe = await jarmFingerprint(LOOPBACK, {
        port: proxy.port,
        timeoutMs: 400,
        timeouts: 'per-probe',
      });
      const expected = vectors.find((v) => v.name === 'node-rsa-default')?.raw.split(',') ?? [];
      expect(perProbe.raw.split(',')).toEqual(['|||', ...expected.slice(1)]);
    } finally {
      for (const s of held) s.destroy();
      await proxy.stop();
      await backend.stop();
    }
  });

  it('jarmMany: targets in order, bad ones zeroed with a reason', async () => {
    const server = await startNodeTls({}, keyPair('rsa2048'));
    const closed = await findFreePort();
    try {
      const results = await jarmMany(
        [`${LOOPBACK}:${server.port}`, `${LOOPBACK}:${closed}`, 'bad:99999', `${LOOPBACK}:${server.port}`],
        { concurrency: 2, timeoutMs: 2_000 },
      );
      const node = vectors.find((v) => v.name === 'node-rsa-default')?.jarm;
      expect(results.map((r) => r.jarm)).toEqual([node, JARM_ZERO_HASH, JARM_ZERO_HASH, node]);
      expect(results[2]?.errors[0]).toMatch(/bad target "bad:99999": port must be 1-65535/);
    } finally {
      await server.stop();
    }
  });

  it('aborts at once on the signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    await expect(jarmFingerprint(LOOPBACK, { port: 1, signal: controller.signal })).rejects.toThrow(
      'stop now',
    );
  });
});

describe('certvigil jarm (the CLI contract)', () => {
  it('prints one JSON object per target with target, jarm and raw; every vector at once, in order', async () => {
    const servers = await Promise.all(vectors.map((v) => startVector(v)));
    try {
      const targets = servers.map((s) => `${s.host}:${s.port}`);
      const r = await runCli(['jarm', ...targets, '--json', '--probe-timeout', '5000']);
      expect(r.code, r.stderr).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines.map((l) => l.target)).toEqual(targets);
      expect(lines.map((l) => l.jarm)).toEqual(vectors.map((v) => v.jarm));
      expect(lines.map((l) => l.raw)).toEqual(vectors.map((v) => v.raw));
      const human = await runCli(['jarm', targets[0] ?? '', '--raw']);
      expect(human.stdout).toBe(
        `${targets[0] ?? ''} ${vectors[0]?.jarm ?? ''}\n  ${vectors[0]?.raw ?? ''}\n`,
      );
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  it.each([
    ['127.0.0.1:99999', /port must be 1-65535/],
    ['[::1', /IPv6 address in brackets/],
  ])('a bad target %s is a usage error (exit 2, one line, nothing probed)', async (target, why) => {
    const r = await runCli(['jarm', `127.0.0.1:${1}`, target]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(why);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
