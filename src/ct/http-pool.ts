/**
 * @module ct/http-pool
 * The connection pools of one CT log client: a keep-alive `undici.Agent` for direct requests and
 * one `undici.ProxyAgent` per proxy in use (`ct/proxy` decides which, from HTTPS_PROXY / HTTP_PROXY /
 * NO_PROXY), each made on first use, or a dispatcher the caller gave, used as is.
 *
 * undici itself is loaded on the first request rather than with this module: `check endpoint`
 * imports the CT client but, with `--ct-policy none`, `--min-scts 0` or a private CA, never asks a
 * log anything, and undici is the largest package a plugin run would otherwise load (~20 ms).
 */
import type { Dispatcher, ProxyAgent } from 'undici';
import type * as Undici from 'undici';
import { proxyFor } from './proxy.js';
import type { ProxyConfig } from './proxy.js';

let undiciModule: Promise<typeof Undici> | undefined;
/** undici, imported once, on first use. */
export function undici(): Promise<typeof Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}

/** The pool for a request: a dispatcher and the proxy it goes through, or why the proxy is unusable. */
export type PoolChoice = { dispatcher: Dispatcher; proxy?: string } | { badProxy: unknown };

export class DispatcherPool {
  /** Whether the pools are ours to make and close (no dispatcher was given). */
  readonly owned: boolean;
  /** The pool given in the options, or ours once the first request has made it. */
  private dispatcher: Dispatcher | undefined;
  /** One pool per proxy URL, made on first use (an unused HTTPS_PROXY costs nothing). */
  private readonly proxyAgents = new Map<string, ProxyAgent>();

  /**
   * @param given a caller's dispatcher, used as is (proxy settings are then ignored)
   * @param proxyConfig which proxy each URL goes through
   * @param connections connections per pool: one per request allowed in flight
   * @param localAddress source address of direct connections (a literal IP), or the kernel's choice
   */
  constructor(
    given: Dispatcher | undefined,
    private readonly proxyConfig: ProxyConfig,
    private readonly connections: number,
    private readonly localAddress?: string,
  ) {
    this.owned = given === undefined;
    this.dispatcher = given;
  }

  /** The proxy `url` goes through under these settings, or undefined (direct). */
  proxyFor(url: string | URL): string | undefined {
    return proxyFor(new URL(String(url)), this.proxyConfig);
  }

  /** The pool for `url`: direct, or the proxy's (HTTPS_PROXY / HTTP_PROXY unless NO_PROXY). */
  async choose(url: string): Promise<PoolChoice> {
    const proxy = this.owned ? this.proxyFor(url) : undefined;
    const { Agent, ProxyAgent } = await undici();
    if (proxy === undefined) {
      // Keep-alive pool; one connection per allowed in-flight request (HTTP/1.1, no pipelining).
      // undici 6 takes the source address as a Client option: a `connect: { localAddress }` would be
      // overridden by the Client's own (unset) one.
      this.dispatcher ??= new Agent({
        keepAliveTimeout: 30_000,
        connections: this.connections,
        pipelining: 1,
        ...(this.localAddress !== undefined ? { localAddress: this.localAddress } : {}),
      });
      return { dispatcher: this.dispatcher };
    }
    let agent = this.proxyAgents.get(proxy);
    if (agent === undefined) {
      try {
        agent = new ProxyAgent({
          uri: proxy,
          // http:// targets as absolute-form requests to the proxy (RFC 9112 §3.2.2), not CONNECT
          // tunnels: proxies commonly allow CONNECT to port 443 only. https:// still tunnels
          // (RFC 9110 §9.3.6), so TLS runs end to end with the log and the proxy sees no content.
          proxyTunnel: false,
          keepAliveTimeout: 30_000,
          connections: this.connections,
          pipelining: 1,
        });
      } catch (cause) {
        return { badProxy: cause };
      }
      this.proxyAgents.set(proxy, agent);
    }
    return { dispatcher: agent, proxy };
  }

  /** Closes the pools made here (waits for requests in flight); a given one is left alone. */
  async close(): Promise<void> {
    if (this.owned)
      await Promise.all([this.dispatcher?.close(), ...[...this.proxyAgents.values()].map((a) => a.close())]);
  }

  /** Like `close`, but drops open connections at once. */
  async destroy(): Promise<void> {
    if (this.owned)
      await Promise.all([
        this.dispatcher?.destroy(),
        ...[...this.proxyAgents.values()].map((a) => a.destroy()),
      ]);
  }
}
