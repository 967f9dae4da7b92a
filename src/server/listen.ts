/**
 * @module server/listen
 * Serves the app (`createApp`) on a socket: node:http, or node:https with a certificate and key.
 * `close()` stops accepting, ends idle keep-alive connections and waits for the requests in flight
 * (bounded: after `graceMs` the rest are cut), so SIGTERM ends the process promptly.
 */
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './types.js';

export interface ListenOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** PEM certificate chain and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  /** How long `close()` waits for requests in flight before cutting them (default 5 s). */
  graceMs?: number;
}

export interface Listening {
  /** `http://127.0.0.1:8080`, `https://[::1]:8443`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: Hono<AppEnv>, options: ListenOptions): Promise<Listening> {
  const grace = options.graceMs ?? 5_000;
  let server: Server | undefined;
  const ready = new Promise<AddressInfo>((resolve, reject) => {
    const s = (
      options.tls
        ? serve(
            {
              fetch: app.fetch,
              hostname: options.host,
              port: options.port,
              createServer: createHttpsServer,
              // Node's defaults: TLS 1.2 and 1.3 with forward-secret suites only.
              serverOptions: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' },
            },
            resolve,
          )
        : serve(
            { fetch: app.fetch, hostname: options.host, port: options.port, createServer: createHttpServer },
            resolve,
          )
    ) as Server;
    server = s;
    // A port in use or an address not on this host: reported, not thrown from an event.
    s.once('error', reject);
    // Slow clients must not hold sockets forever (slowloris): whole request in 30 s, headers in 20 s.
    s.requestTimeout = 30_000;
    s.headersTimeout = 20_000;
    s.keepAliveTimeout = 5_000;
  });
  const info = await ready;
  const s = server as Server;
  const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${info.port}`,
    port: info.port,
    close: () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => s.closeAllConnections(), grace);
        cut.unref();
        s.close(() => {
          clearTimeout(cut);
          resolve();
        });
        s.closeIdleConnections();
      }),
  };
}
