/**
 * @module lab/netns-tls
 * TLS listeners inside a namespace of the lab's topology (by default the server's), for the
 * traceroute part of `certvigil lab`: `mitm learn`/`check mitm` run in the client namespace need a
 * TLS service on each port they trace. A child process (`ip netns exec NS node -e SCRIPT`), since a
 * process's sockets belong to the namespace it runs in; the certificate, key and TLS profile reach
 * it on stdin (never on the command line or on disk), and it exits when its stdin closes, so it
 * cannot outlive the lab (and `Topology.destroy()` kills it anyway).
 */
import type { ChildProcess } from 'node:child_process';
import { LabError } from './errors.js';
import type { Topology } from './netns.js';
import type { ServiceCertificate, TlsProfile } from './services/tls-profiles.js';
import { VICTIM_TLS, chainOf } from './services/tls-profiles.js';

export interface NamespaceTlsOptions {
  /** Ports to listen on, on every address of the namespace (dual-stack `::`). */
  ports: number[];
  cert: ServiceCertificate;
  /** Default: the victim's profile, so JARM and certificate there match the loopback services. */
  profile?: TlsProfile;
  /** Namespace; default the topology's server namespace. */
  ns?: string;
  /** Time to wait for every port to listen. Default 10 s. */
  readyTimeoutMs?: number;
}

export interface NamespaceTlsListeners {
  ports: number[];
  /** Stops the listeners (ends the child's stdin, SIGKILL after 2 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * The child: one TLS server per port; each connection is closed right after the handshake (the
 * detectors need the handshake only), or after 10 s, or on any error. Prints `ready` once all
 * ports listen, `error: …` and exits 1 when one cannot.
 */
const SCRIPT = `
const tls = require('node:tls');
let input = '';
let servers = [];
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  if (servers.length > 0) return;
  input += chunk;
  const nl = input.indexOf('\\n');
  if (nl < 0) return;
  const config = JSON.parse(input.slice(0, nl));
  let pending = config.ports.length;
  for (const port of config.ports) {
    const server = tls.createServer(config.options, (socket) => { socket.on('error', () => {}); socket.end(); });
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    server.on('connection', (socket) => { socket.on('error', () => {}); socket.setTimeout(10000, () => socket.destroy()); });
    server.maxConnections = 128;
    server.once('error', (err) => { console.log('error: port ' + port + ': ' + err.message); process.exit(1); });
    server.listen({ host: '::', port }, () => { if (--pending === 0) console.log('ready'); });
    servers.push(server);
  }
});
process.stdin.on('end', () => process.exit(0));
`;

export async function startNamespaceTlsListeners(
  topology: Pick<Topology, 'serverNs' | 'spawnIn'>,
  options: NamespaceTlsOptions,
): Promise<NamespaceTlsListeners> {
  const ports = [...new Set(options.ports)];
  if (ports.length === 0 || ports.some((p) => !(Number.isInteger(p) && p > 0 && p < 65536)))
    throw new LabError('LAB_INVALID_REQUEST', `ports must be 1–65535 (got ${options.ports.join(', ')})`);
  const profile = options.profile ?? VICTIM_TLS;
  const config = {
    ports,
    options: {
      ...profile.context,
      cert: chainOf(options.cert),
      key: options.cert.keyPem,
      ...(profile.alpn === undefined ? {} : { ALPNProtocols: profile.alpn }),
      handshakeTimeout: 10_000,
    },
  };
  const ns = options.ns ?? topology.serverNs;
  const child: ChildProcess = topology.spawnIn(ns, [process.execPath, '-e', SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => undefined);
  child.stdin?.write(`${JSON.stringify(config)}\n`);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(
          new LabError(
            'LAB_START_FAILED',
            `TLS listeners in ${ns}: ${why}${output ? `: ${output.trim().slice(0, 500)}` : ''}`,
          ),
        );
      };
      const timer = setTimeout(() => fail('not ready in time'), options.readyTimeoutMs ?? 10_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (/^ready$/m.test(output)) {
          clearTimeout(timer);
          resolve();
        } else if (/^error: /m.test(output)) fail('cannot listen');
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err) => fail(err.message));
      child.once('exit', (code) => fail(`exited with ${code}`));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, stop };
}
