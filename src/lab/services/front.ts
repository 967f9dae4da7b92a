/**
 * @module lab/services/front
 * The hosting provider's network in front of the victim's services, where the 2023 attacker sat:
 * one public port per service. Normally a plain TCP relay (the client sees the real server's TLS,
 * byte for byte). `intercept` switches chosen services to the attacker's TLS-terminating proxy
 * for new connections: it presents the attacker's certificate with the attacker's TLS stack
 * (tls-profiles.ts, so JARM differs), opens its own TLS session to the real server without
 * verifying it, and relays the plaintext both ways. Ports not chosen stay a pure relay: in 2023
 * only the XMPP ports (5222, 5223) were intercepted, 443 was not.
 *
 * On the STARTTLS port the proxy plays the XMPP server up to `<proceed/>` itself (RFC 6120 §5.4),
 * terminates TLS, then does its own STARTTLS dialogue and TLS towards the backend; the client's
 * stream restart after TLS goes through to the real server, which answers it.
 *
 * @example
 * const front = await startFront({ backends: victim.ports });
 * front.intercept({ services: ['xmppStarttls', 'xmppTls'], cert: { chainPem, keyPem } });
 * front.stopIntercepting();
 * await front.close();
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { ServiceLimits } from './bounds.js';
import { SocketSet, closeServer, limitsOf, listen, loopbackHost, relay } from './bounds.js';
import type { ServiceCertificate } from './tls-profiles.js';
import { ATTACKER_TLS, contextOptions } from './tls-profiles.js';
import type { ServiceName, ServicePorts } from './victim.js';
import { SERVICE_NAMES } from './victim.js';
import { startTlsToBackend } from './xmpp-client.js';
import { serveXmppBeforeTls } from './xmpp-server.js';
import { streamError } from './xmpp-wire.js';
import { LabError } from '../errors.js';

export interface FrontOptions {
  /** Loopback address of the public ports. Default 127.0.0.1. */
  host?: string;
  /** The real services' ports (e.g. `victim.ports`). */
  backends: ServicePorts;
  /** Where the backends listen. Default: `host`. */
  backendHost?: string;
  /** Fixed public ports; 0 or absent: ephemeral. */
  ports?: Partial<ServicePorts>;
  /** The XMPP domain the proxy claims before `<proceed/>`. Default `jabber.lab`. */
  xmppDomain?: string;
  limits?: ServiceLimits;
}

export interface InterceptOptions {
  services: ServiceName[];
  /** The attacker's certificate (leaf + chain) and key. */
  cert: ServiceCertificate;
}

export interface Front {
  host: string;
  /** The public ports, one per service. */
  ports: ServicePorts;
  /** Services whose new connections go to the attacker's proxy now. */
  intercepted(): ServiceName[];
  /**
   * New connections to `services` get the attacker's proxy with `cert` (replacing any earlier
   * set and certificate); open connections keep what they have. Throws LAB_INVALID_REQUEST on an
   * unknown service or an unusable certificate/key pair.
   */
  intercept(options: InterceptOptions): void;
  /** Back to the plain relay on every port, for new connections. */
  stopIntercepting(): void;
  /** Stops listening and destroys every open connection (both sides). Idempotent. */
  close(): Promise<void>;
}

export async function startFront(options: FrontOptions): Promise<Front> {
  const host = loopbackHost(options.host);
  const backendHost = loopbackHost(options.backendHost ?? host);
  const domain = options.xmppDomain ?? 'jabber.lab';
  const limits = limitsOf(options.limits);
  const sockets = new SocketSet();
  let intercepted = new Set<ServiceName>();

  // The attacker's TLS servers, one per service, never listening: the front hands them sockets.
  const attacker = new Map<ServiceName, tls.Server>();
  for (const service of SERVICE_NAMES) {
    const server = tls.createServer({ ...ATTACKER_TLS.context, handshakeTimeout: limits.handshakeTimeoutMs });
    server.on('secureConnection', (client: TLSSocket) => proxy(service, client));
    // With a listener Node leaves the socket open on a handshake error or time-out: close it here.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    attacker.set(service, server);
  }

  const backendTls = (socket: Socket | undefined, port: number, servername: string): TLSSocket =>
    sockets.guard(
      tls.connect({
        ...(socket === undefined ? { host: backendHost, port } : { socket }),
        // The attacker does not care who the backend is (it knows): no verification.
        rejectUnauthorized: false,
        servername,
      }),
      limits.idleTimeoutMs,
    );

  /** After the client's TLS with the attacker: a TLS session of the attacker's own to the backend. */
  const proxy = (service: ServiceName, client: TLSSocket): void => {
    sockets.guard(client, limits.idleTimeoutMs);
    const port = options.backends[service];
    // The client's SNI, passed on like a transparent proxy would; never an IP literal (RFC 6066 §3
    // forbids it, and Node warns on one).
    const sni = typeof client.servername === 'string' ? client.servername : '';
    const servername = sni !== '' && net.isIP(sni) === 0 ? sni : domain;
    if (service !== 'xmppStarttls') {
      relay(client, backendTls(undefined, port, servername));
      return;
    }
    // Hold the client's stream restart until the backend's TLS is up.
    client.pause();
    const raw = sockets.guard(net.connect({ host: backendHost, port }), limits.idleTimeoutMs);
    startTlsToBackend(raw, domain, limits.handshakeTimeoutMs).then(
      () => {
        raw.setTimeout(0);
        relay(client, backendTls(raw, port, servername));
      },
      () => {
        // RFC 6120 §4.9.3.16: the server could not reach the remote side it needed.
        if (!client.destroyed) client.end(streamError('remote-connection-failed'));
      },
    );
  };

  const accept = (service: ServiceName, socket: Socket): void => {
    sockets.guard(socket, limits.idleTimeoutMs);
    if (!intercepted.has(service)) {
      relay(
        socket,
        sockets.guard(
          net.connect({ host: backendHost, port: options.backends[service] }),
          limits.idleTimeoutMs,
        ),
      );
      return;
    }
    const handTo = attacker.get(service) as tls.Server;
    const handOff = (plain: Socket): void => {
      // The TLS socket now owns the handle: the time-out moves to it (SocketSet.guard says why).
      plain.setTimeout(0);
      handTo.emit('connection', plain);
    };
    if (service === 'xmppStarttls')
      serveXmppBeforeTls(socket, { domain, timeoutMs: limits.handshakeTimeoutMs }, (s) =>
        handOff(s as Socket),
      );
    else handOff(socket);
  };

  const listeners = new Map<ServiceName, net.Server>();
  for (const service of SERVICE_NAMES) {
    const server = net.createServer((socket) => accept(service, socket));
    server.maxConnections = limits.maxConnections;
    listeners.set(service, server);
  }

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const closing = [...listeners.values()].map((server) => closeServer(server));
    sockets.destroyAll();
    await Promise.all(closing);
  };

  try {
    const ports = {} as ServicePorts;
    for (const service of SERVICE_NAMES) {
      const server = listeners.get(service) as net.Server;
      ports[service] = await listen(server, host, options.ports?.[service] ?? 0, `front ${service}`);
    }
    return {
      host,
      ports,
      intercepted: () => [...intercepted],
      intercept({ services, cert }) {
        const unknown = services.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
        if (unknown.length > 0)
          throw new LabError('LAB_INVALID_REQUEST', `unknown services: ${unknown.join(', ')}`);
        let context;
        try {
          context = contextOptions(ATTACKER_TLS, cert);
          tls.createSecureContext(context);
        } catch (err) {
          throw new LabError(
            'LAB_INVALID_REQUEST',
            `unusable attacker certificate: ${(err as Error).message}`,
            { cause: err },
          );
        }
        for (const service of services) attacker.get(service)?.setSecureContext(context);
        intercepted = new Set(services);
      },
      stopIntercepting() {
        intercepted = new Set();
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
