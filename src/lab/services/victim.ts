/**
 * @module lab/services/victim
 * The victim's TLS services, "the real server" of the jabber.ru story: HTTPS (the untouched 443 of
 * 2023), XMPP client-to-server with STARTTLS (5222, RFC 6120 §5) and XMPP over direct TLS (5223,
 * XEP-0368), all with the victim's TLS profile (tls-profiles.ts) and one certificate that
 * `setCertificate` swaps in place (a renewal: new connections get the new one, open ones keep theirs).
 * Ephemeral loopback ports by default; the interceptor's front (front.ts) sits in front of them.
 *
 * @example
 * const victim = await startVictimServices({ cert: { chainPem, keyPem }, xmppDomain: 'jabber.lab' });
 * victim.ports.xmppStarttls; // e.g. 41235
 * victim.setCertificate(renewed);
 * await victim.close();
 */
import https from 'node:https';
import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { ServiceLimits } from './bounds.js';
import { SocketSet, closeServer, limitsOf, listen, loopbackHost } from './bounds.js';
import type { ServiceCertificate } from './tls-profiles.js';
import { VICTIM_TLS, contextOptions, serverOptions } from './tls-profiles.js';
import { serveXmppAfterTls, serveXmppBeforeTls } from './xmpp-server.js';

/** The services of the lab, by role (the port numbers are whatever was free). */
export const SERVICE_NAMES = ['https', 'xmppStarttls', 'xmppTls'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export type ServicePorts = Record<ServiceName, number>;

export interface VictimServicesOptions {
  /** Loopback address to listen on. Default 127.0.0.1. */
  host?: string;
  cert: ServiceCertificate;
  /** The XMPP service's domain: `from` of the server's stream header. Default `jabber.lab`. */
  xmppDomain?: string;
  /** Fixed ports; 0 or absent: ephemeral. */
  ports?: Partial<ServicePorts>;
  limits?: ServiceLimits;
}

export interface VictimServices {
  host: string;
  ports: ServicePorts;
  /** New connections present `cert` from now on (all three services). Throws on an unusable pair. */
  setCertificate(cert: ServiceCertificate): void;
  /** Stops listening and destroys every open connection. Idempotent. */
  close(): Promise<void>;
}

/** The HTTPS service's page: enough for a browser or curl to see who answers. */
function page(domain: string): string {
  return `<!doctype html><meta charset="utf-8"><title>${domain}</title><h1>${domain}</h1><p>The lab's XMPP service (the victim's real server).</p>\n`;
}

export async function startVictimServices(options: VictimServicesOptions): Promise<VictimServices> {
  const host = loopbackHost(options.host);
  const domain = options.xmppDomain ?? 'jabber.lab';
  const limits = limitsOf(options.limits);
  const sockets = new SocketSet();
  const tlsOptions = serverOptions(VICTIM_TLS, options.cert, limits.handshakeTimeoutMs);
  const xmpp = { domain, timeoutMs: limits.handshakeTimeoutMs };

  const onSecure = (socket: TLSSocket): void => {
    sockets.guard(socket, limits.idleTimeoutMs);
  };
  const onRaw = (socket: Socket): void => {
    sockets.track(socket);
  };

  const web = https.createServer(tlsOptions, (req, res) => {
    req.resume();
    const body = req.url === '/' ? page(domain) : 'not found\n';
    res.writeHead(req.url === '/' ? 200 : 404, {
      'content-type': 'text/html; charset=utf-8',
      connection: 'close',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  web.headersTimeout = limits.handshakeTimeoutMs;
  web.requestTimeout = limits.handshakeTimeoutMs;
  web.keepAliveTimeout = 1_000;

  // XEP-0368: TLS first, then the same stream as after STARTTLS.
  const direct = tls.createServer(tlsOptions, (socket) => serveXmppAfterTls(socket, xmpp));
  // 5222: plaintext until <proceed/>, then the socket is handed to a TLS server that never listens
  // itself ('connection' is how net.Server gives it a socket), so it has the same options,
  // handshake time-out and renewals as the others.
  const afterStarttls = tls.createServer(tlsOptions, (socket) => serveXmppAfterTls(socket, xmpp));
  const starttls = net.createServer((socket) => {
    sockets.guard(socket, limits.idleTimeoutMs);
    serveXmppBeforeTls(socket, xmpp, (plain) => {
      (plain as Socket).setTimeout(0);
      afterStarttls.emit('connection', plain);
    });
  });

  const tlsServers = [web, direct, afterStarttls];
  for (const server of tlsServers) {
    server.on('secureConnection', onSecure);
    // With a listener Node leaves the socket open on a handshake error or time-out: close it here.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
  }
  for (const server of [web, direct]) server.on('connection', onRaw);
  for (const server of [web, direct, starttls]) server.maxConnections = limits.maxConnections;

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const closing = [web, direct, starttls].map((server) => closeServer(server));
    web.closeAllConnections();
    sockets.destroyAll();
    await Promise.all(closing);
  };

  try {
    const ports: ServicePorts = {
      https: await listen(web, host, options.ports?.https ?? 0, 'victim HTTPS'),
      xmppStarttls: await listen(starttls, host, options.ports?.xmppStarttls ?? 0, 'victim XMPP STARTTLS'),
      xmppTls: await listen(direct, host, options.ports?.xmppTls ?? 0, 'victim XMPP direct TLS'),
    };
    return {
      host,
      ports,
      setCertificate(cert) {
        const context = contextOptions(VICTIM_TLS, cert);
        // Validate once before touching any server, so a bad pair leaves all three unchanged.
        tls.createSecureContext(context);
        for (const server of tlsServers) server.setSecureContext(context);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
