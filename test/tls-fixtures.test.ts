/**
 * The TLS fixtures are real, and the raw hello reader reads them: OCSP responses that `openssl ocsp`
 * parses and verifies and src/x509 takes the SCT list from; an `openssl s_server` that `openssl
 * s_client -ct -status` sees sending both the SCT TLS extension (RFC 6962 §3.3.1) and a stapled OCSP
 * response (RFC 6066 §8); Node TLS servers on several loopback addresses. Then
 * `probeTlsExtensionScts` (src/probe/tls-hello.ts) against each of them, and its socket loop against
 * a scripted raw server (split records, silence, early close, garbage, byte limit).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCa, TestLog, sctList } from './fixtures/ct-log/index.js';
import type { IssuedCertificate } from './fixtures/ct-log/index.js';
import {
  chainPem,
  ocspErrorResponse,
  ocspResponse,
  pem,
  privateKeyPem,
  startNodeTlsServer,
  startOpensslServer,
} from './fixtures/tls/index.js';
import type { NodeTlsServer, OpensslServer } from './fixtures/tls/index.js';
import { sctListsFromOcspResponse } from '../src/x509/index.js';
import { TlsHelloError, probeTlsExtensionScts, readServerHello } from '../src/probe/index.js';
import type { ServerHelloFacts } from '../src/probe/index.js';

const work = mkdtempSync(join(tmpdir(), 'certvigil-tls-fixtures-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs openssl in `work`; resolves with stdout+stderr and the exit code (never rejects on status). */
async function openssl(args: string[], input = ''): Promise<{ code: number; output: string }> {
  const child = execFile('openssl', args, { cwd: work, encoding: 'utf8', timeout: 20_000 });
  child.stdin?.end(input);
  let output = '';
  child.stdout?.on('data', (d: string) => (output += d));
  child.stderr?.on('data', (d: string) => (output += d));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  return { code, output };
}

function probe(
  host: string,
  port: number,
  serverName: string | null,
  timeoutMs = 5_000,
): Promise<ServerHelloFacts> {
  return probeTlsExtensionScts(net.connect({ host, port }), serverName, { timeoutMs });
}

const hex = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : Buffer.from(bytes).toString('hex');

interface Pki {
  ca: TestCa;
  log: TestLog;
  leaf: IssuedCertificate;
  list: Buffer;
  ocsp: Buffer;
}

async function pki(keyType: 'ec-p256' | 'rsa-2048' = 'ec-p256', name = 'www.example.test'): Promise<Pki> {
  const ca = await TestCa.create({ keyType });
  const log = new TestLog({ name: 'certvigil tls test log' });
  const leaf = ca.issue({ dnsNames: [name] });
  // RFC 6962 §3.3: SCTs delivered by TLS extension or OCSP are for the certificate itself (x509_entry).
  // A minute old: OpenSSL checks SCTs against the session time in whole seconds ("sct future timestamp").
  const list = sctList([log.addCertificate(leaf, { timestamp: Date.now() - 60_000 }).sct]);
  return { ca, log, leaf, list, ocsp: ocspResponse(ca, leaf, { sctList: list }) };
}

describe('OCSP fixture (RFC 6960 §4.2.1, RFC 6962 §3.3)', () => {
  for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
    it(`openssl ocsp parses and verifies it; src/x509 reads the SCT list (${keyType} CA)`, async () => {
      const { ca, leaf, list, ocsp } = await pki(keyType);
      writeFileSync(join(work, `resp-${keyType}.der`), ocsp);
      writeFileSync(join(work, `ca-${keyType}.pem`), pem(ca.certificate, 'CERTIFICATE'));
      writeFileSync(join(work, `leaf-${keyType}.pem`), pem(leaf.der, 'CERTIFICATE'));

      const text = await openssl(['ocsp', '-respin', `resp-${keyType}.der`, '-resp_text', '-noverify']);
      expect(text.code, text.output).toBe(0);
      expect(text.output).toContain('OCSP Response Status: successful (0x0)');
      expect(text.output).toContain('Cert Status: good');
      expect(text.output).toContain('CT Certificate SCTs');
      expect(text.output).toMatch(/Signed Certificate Timestamp:\s+Version\s+: v1 \(0x0\)/);

      const verified = await openssl([
        'ocsp',
        '-respin',
        `resp-${keyType}.der`,
        '-CAfile',
        `ca-${keyType}.pem`,
        '-issuer',
        `ca-${keyType}.pem`,
        '-VAfile',
        `ca-${keyType}.pem`,
        '-cert',
        `leaf-${keyType}.pem`,
      ]);
      expect(verified.code, verified.output).toBe(0);
      expect(verified.output).toContain('Response verify OK');
      expect(verified.output).toContain(`leaf-${keyType}.pem: good`);

      const found = sctListsFromOcspResponse(ocsp);
      expect(found).toHaveLength(1);
      expect(hex(found[0]?.sctList ?? null)).toBe(list.toString('hex'));
    });
  }

  it('responder by key with the CA certificate included verifies with -CAfile alone; no SCTs when none given', async () => {
    const { ca, leaf } = await pki();
    const der = ocspResponse(ca, leaf, { responderId: 'key', includeCaCertificate: true, nextUpdate: null });
    writeFileSync(join(work, 'bykey.der'), der);
    writeFileSync(join(work, 'ca-bykey.pem'), pem(ca.certificate, 'CERTIFICATE'));
    const verified = await openssl(['ocsp', '-respin', 'bykey.der', '-CAfile', 'ca-bykey.pem', '-resp_text']);
    expect(verified.output).toContain('Response verify OK');
    expect(verified.output).toMatch(/Responder Id: [0-9A-F]{40}/);
    expect(verified.output).not.toContain('CT Certificate SCTs');
    expect(sctListsFromOcspResponse(der)).toEqual([]);
    expect(sctListsFromOcspResponse(ocspErrorResponse(3))).toEqual([]);
  });

  it('a tampered response fails verification (the signature really covers the data)', async () => {
    const { ca, ocsp } = await pki();
    const bad = Buffer.from(ocsp);
    const at = bad.indexOf(Buffer.from([0x80, 0x00])); // certStatus good → flip a byte before it
    bad[at - 1] = (bad[at - 1] ?? 0) ^ 1;
    writeFileSync(join(work, 'bad.der'), bad);
    writeFileSync(join(work, 'ca-bad.pem'), pem(ca.certificate, 'CERTIFICATE'));
    const verified = await openssl([
      'ocsp',
      '-respin',
      'bad.der',
      '-CAfile',
      'ca-bad.pem',
      '-VAfile',
      'ca-bad.pem',
    ]);
    expect(verified.output).not.toContain('Response verify OK');
  });
});

describe('openssl s_server with -serverinfo and -status_file', () => {
  let p: Pki;
  let server: OpensslServer;
  beforeAll(async () => {
    p = await pki();
    server = await startOpensslServer({
      chainPem: chainPem(p.leaf.der, p.leaf.chain),
      keyPem: privateKeyPem(p.leaf.privateKey),
      ocspResponseDer: p.ocsp,
      serverInfoSctList: p.list,
    });
  });
  afterAll(async () => server.stop());

  it('openssl s_client -ct -status sees the SCT (validated against the test log) and the OCSP response', async () => {
    // CTLOG_STORE_load_file(3) format: the test log's key, so s_client validates the SCT itself.
    writeFileSync(
      join(work, 'ctlogs.cnf'),
      `enabled_logs = test\n[test]\ndescription = certvigil tls test log\nkey = ${p.log.spki.toString('base64')}\n`,
    );
    writeFileSync(join(work, 'sclient-ca.pem'), pem(p.ca.certificate, 'CERTIFICATE'));
    const { output } = await openssl([
      's_client',
      '-connect',
      `127.0.0.1:${server.port}`,
      '-servername',
      'www.example.test',
      '-tls1_2',
      '-ct',
      '-ctlogfile',
      'ctlogs.cnf',
      '-status',
      '-CAfile',
      'sclient-ca.pem',
    ]);
    expect(output, server.logs()).toContain('OCSP Response Status: successful (0x0)');
    expect(output).toContain('SCTs present (2)'); // one by TLS extension, one in the OCSP response
    expect(output).toContain(`Log ID    : ${hexColons(p.log.logId)}`);
    expect(output).toContain('SCT validation status: valid');
  });

  it('probeTlsExtensionScts returns the configured SCT list and OCSP response byte for byte', async () => {
    const facts = await probe('127.0.0.1', server.port, 'www.example.test');
    expect(facts.version).toBe(0x0303);
    expect(hex(facts.sctList)).toBe(p.list.toString('hex'));
    expect(hex(facts.ocspResponse)).toBe(p.ocsp.toString('hex'));
    expect(facts.certificates.map(hex)).toEqual([p.leaf.der, p.ca.certificate].map(hex));
    expect(facts.serverHelloDone).toBe(true);
    expect(facts.alert).toBeNull();
    expect(facts.extensions.map((e) => e.type)).toContain(18);
  });

  it("Node's own client (requestOCSP) receives the same stapled response", async () => {
    // `requestOCSP` is a TLSSocket option tls.connect passes through; @types/node omits it.
    const options: tls.ConnectionOptions & { requestOCSP: boolean } = {
      host: '127.0.0.1',
      port: server.port,
      servername: 'www.example.test',
      requestOCSP: true,
      ca: pem(p.ca.certificate, 'CERTIFICATE'),
      maxVersion: 'TLSv1.2',
    };
    const socket = tls.connect(options);
    try {
      const [response] = (await once(socket, 'OCSPResponse')) as [Buffer];
      expect(response.toString('hex')).toBe(p.ocsp.toString('hex'));
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  it('without SNI, and without asking for OCSP/SCTs, the server sends neither', async () => {
    const facts = await probeTlsExtensionScts(net.connect({ host: '127.0.0.1', port: server.port }), null, {
      timeoutMs: 5_000,
      requestOcsp: false,
      requestScts: false,
    });
    expect(facts.sctList).toBeNull();
    expect(facts.ocspResponse).toBeNull();
    expect(facts.certificates).toHaveLength(2);
  });
});

/** OpenSSL's SCT printout: uppercase hex bytes joined by ':' over lines of 16 bytes. */
function hexColons(bytes: Buffer): string {
  return [...bytes.subarray(0, 16)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

describe('a TLS 1.3-only openssl s_server', () => {
  let server: OpensslServer;
  beforeAll(async () => {
    const p = await pki();
    server = await startOpensslServer({
      chainPem: chainPem(p.leaf.der, p.leaf.chain),
      keyPem: privateKeyPem(p.leaf.privateKey),
      ocspResponseDer: p.ocsp,
      serverInfoSctList: p.list,
      tls13: true,
    });
  });
  afterAll(async () => server.stop());

  it('answers our TLS 1.2 hello with a protocol_version alert: reported, sctList null, no hang', async () => {
    const started = Date.now();
    const facts = await probe('127.0.0.1', server.port, 'www.example.test');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(facts.alert).toEqual({ level: 2, description: 70 });
    expect(facts.version).toBe(0);
    expect(facts.sctList).toBeNull();
    expect(facts.ocspResponse).toBeNull();
  });
});

describe('Node TLS servers (no SCT extension; OCSP via OCSPRequest; SNI; two addresses, one port)', () => {
  let a: Pki;
  let b: Pki;
  const servers: NodeTlsServer[] = [];
  beforeAll(async () => {
    a = await pki('ec-p256', 'a.example.test');
    b = await pki('rsa-2048', 'b.example.test');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('staples OCSP, sends certificates, no sctList', async () => {
    const server = await startNodeTlsServer({
      chainPem: chainPem(a.leaf.der, a.leaf.chain),
      keyPem: privateKeyPem(a.leaf.privateKey),
      ocspResponseDer: a.ocsp,
    });
    servers.push(server);
    const facts = await probe(server.host, server.port, 'a.example.test');
    expect(facts.version).toBe(0x0303);
    expect(facts.sctList).toBeNull();
    expect(facts.certificates.map(hex)).toEqual([a.leaf.der, a.ca.certificate].map(hex));
    expect(hex(facts.ocspResponse)).toBe(a.ocsp.toString('hex'));
    expect(server.ocspStapled).toBe(1);
    expect(server.serverNames).toEqual(['a.example.test']);
  });

  it('a second server on 127.0.0.2 and the same port serves another certificate; SNI map picks by name', async () => {
    const first = await startNodeTlsServer({
      chainPem: chainPem(a.leaf.der, a.leaf.chain),
      keyPem: privateKeyPem(a.leaf.privateKey),
    });
    servers.push(first);
    const second = await startNodeTlsServer({
      host: '127.0.0.2',
      port: first.port,
      sni: {
        'b.example.test': {
          chainPem: chainPem(b.leaf.der, b.leaf.chain),
          keyPem: privateKeyPem(b.leaf.privateKey),
        },
        'a.example.test': {
          chainPem: chainPem(a.leaf.der, a.leaf.chain),
          keyPem: privateKeyPem(a.leaf.privateKey),
        },
      },
    });
    servers.push(second);
    expect(second.port).toBe(first.port);
    const one = await probe('127.0.0.1', first.port, 'b.example.test');
    const two = await probe('127.0.0.2', first.port, 'b.example.test');
    const twoA = await probe('127.0.0.2', first.port, 'a.example.test');
    expect(hex(one.certificates[0] ?? null)).toBe(a.leaf.der.toString('hex'));
    expect(hex(two.certificates[0] ?? null)).toBe(b.leaf.der.toString('hex'));
    expect(hex(twoA.certificates[0] ?? null)).toBe(a.leaf.der.toString('hex'));
    expect(two.ocspResponse).toBeNull();
  });

  it('listens on ::1', async () => {
    const server = await startNodeTlsServer({
      host: '::1',
      chainPem: chainPem(b.leaf.der, b.leaf.chain),
      keyPem: privateKeyPem(b.leaf.privateKey),
      ocspResponseDer: b.ocsp,
    });
    servers.push(server);
    const facts = await probe('::1', server.port, 'b.example.test');
    expect(hex(facts.certificates[0] ?? null)).toBe(b.leaf.der.toString('hex'));
    expect(hex(facts.ocspResponse)).toBe(b.ocsp.toString('hex'));
  });
});

describe('readServerHello against a scripted raw server', () => {
  /** A TCP server that plays `script` to each connection (after reading the ClientHello). */
  async function rawServer(
    script: (socket: net.Socket) => void,
  ): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => script(socket));
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
      port,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  /** A TLS 1.2 flight: ServerHello (with SCT ext), Certificate, CertificateStatus, ServerHelloDone. */
  function flight(): { bytes: Buffer; sct: Buffer; cert: Buffer; ocsp: Buffer } {
    const sct = Buffer.from('000b0009616263646566676869', 'hex');
    const cert = Buffer.from('3003020101', 'hex');
    const ocsp = Buffer.from('30030a0100', 'hex');
    const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
    const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
    const msg = (type: number, body: Buffer): Buffer =>
      Buffer.concat([Buffer.from([type]), u24(body.length), body]);
    const exts = Buffer.concat([u16(18), u16(sct.length), sct]);
    const hello = Buffer.concat([
      u16(0x0303),
      Buffer.alloc(32, 7),
      Buffer.from([0]),
      u16(0xc02f),
      Buffer.from([0]),
      u16(exts.length),
      exts,
    ]);
    const certMsg = Buffer.concat([u24(cert.length + 3), u24(cert.length), cert]);
    const status = Buffer.concat([Buffer.from([1]), u24(ocsp.length), ocsp]);
    const hs = Buffer.concat([msg(2, hello), msg(11, certMsg), msg(22, status), msg(14, Buffer.alloc(0))]);
    // Two records, split in the middle of the Certificate message.
    const cut = 60;
    const record = (body: Buffer): Buffer => Buffer.concat([Buffer.from([22, 3, 3]), u16(body.length), body]);
    return { bytes: Buffer.concat([record(hs.subarray(0, cut)), record(hs.subarray(cut))]), sct, cert, ocsp };
  }

  it('reassembles a flight sent one byte per TCP segment', async () => {
    const f = flight();
    const server = await rawServer((socket) => {
      socket.setNoDelay(true);
      let i = 0;
      const next = (): void => {
        if (i >= f.bytes.length || socket.destroyed) return;
        socket.write(f.bytes.subarray(i, i + 1));
        i++;
        setTimeout(next, 1);
      };
      next();
    });
    try {
      const facts = await probe('127.0.0.1', server.port, 'x.test');
      expect(hex(facts.sctList)).toBe(f.sct.toString('hex'));
      expect(hex(facts.ocspResponse)).toBe(f.ocsp.toString('hex'));
      expect(facts.certificates.map(hex)).toEqual([f.cert.toString('hex')]);
    } finally {
      await server.close();
    }
  });

  const failures: [string, (socket: net.Socket) => void, string, object][] = [
    ['silence', () => undefined, 'TLS_HELLO_TIMEOUT', { timeoutMs: 300 }],
    ['close after half a flight', (s) => s.end(flight().bytes.subarray(0, 40)), 'TLS_HELLO_CLOSED', {}],
    ['an HTTP answer', (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'), 'TLS_HELLO_MALFORMED', {}],
    [
      'an endless handshake message',
      (s) => {
        s.write(Buffer.from([22, 3, 3, 0, 4, 2, 0xff, 0xff, 0xff])); // ServerHello of 16 MiB
        const filler = Buffer.concat([Buffer.from([22, 3, 3, 0x40, 0x00]), Buffer.alloc(0x4000)]);
        for (let i = 0; i < 8; i++) s.write(filler);
      },
      'TLS_HELLO_TOO_LARGE',
      { maxBytes: 64 * 1024 },
    ],
  ];
  for (const [name, script, code, extra] of failures) {
    it(`${name} → ${code}`, async () => {
      const server = await rawServer(script);
      try {
        const socket = net.connect({ host: '127.0.0.1', port: server.port });
        const error = await probeTlsExtensionScts(socket, 'x.test', { timeoutMs: 5_000, ...extra }).then(
          () => null,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(TlsHelloError);
        expect((error as TlsHelloError).code).toBe(code);
        expect(socket.destroyed).toBe(true);
      } finally {
        await server.close();
      }
    });
  }

  it('a refused connection is TLS_HELLO_NETWORK', async () => {
    const server = await rawServer(() => undefined);
    const { port } = server;
    await server.close();
    await expect(probe('127.0.0.1', port, 'x.test')).rejects.toMatchObject({
      code: 'TLS_HELLO_NETWORK',
      name: 'TlsHelloError',
    });
  });

  it('an AbortSignal ends the wait with TLS_HELLO_ABORTED', async () => {
    const server = await rawServer(() => undefined);
    try {
      const socket = net.connect({ host: '127.0.0.1', port: server.port });
      await new Promise((resolve) => socket.once('connect', resolve));
      const reading = readServerHello(socket, { timeoutMs: 10_000, signal: AbortSignal.timeout(100) });
      await expect(reading).rejects.toMatchObject({ code: 'TLS_HELLO_ABORTED' });
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});
