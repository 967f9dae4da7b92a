/**
 * @module dns/udp-pool
 * Connected UDP sockets shared by the queries to one server, replies routed to their query by ID.
 *
 * Why: the profile of issue 19 showed a fresh socket per query (create, bind, connect, close) as the
 * largest cost a warm-cache CAA decision had outside the resolver itself (~28% of the CPU time not
 * spent waiting). Sharing a socket keeps what makes UDP answers hard to spoof (RFC 5452):
 *
 * - the socket is connected, so the kernel drops datagrams from any peer but the server (§9.1);
 * - every query carries a random 16-bit ID (chosen by the resolver), used once per socket, and a
 *   reply is offered only to the query with that ID, whose `accept` also checks the question
 *   section; a reply that fails either match is dropped, never accepted, and the query keeps
 *   waiting until its own deadline;
 * - the source port stays unpredictable (§9.2, §10): each socket is bound to a kernel-chosen random
 *   port and serves at most `maxQueriesPerSocket` queries within `maxSocketAgeMs`, then a new one
 *   takes over, so a port learnt by an off-path attacker (e.g. the ICMP side channel of SAD DNS)
 *   is worth little and soon gone.
 *
 * What sharing does change: an error on the socket (an ICMP "port unreachable", ECONNREFUSED) or
 * bytes from the server that are no DNS message at all fail every query in flight on that socket,
 * not just one. Both say something about the server, not one query, and failing is the closed side
 * (RFC 8659 §3: a CAA lookup that cannot be completed forbids issuance); a forger who knew the port
 * could do no more than that with one datagram per query before.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { CertvigilError } from '../errors.js';
import { formatEndpoint, networkError, sameAddress, withDeadline } from './transport.js';
import type { AcceptReply, Exchange } from './transport.js';
import type { DnsEndpoint } from './types.js';

export interface UdpPoolOptions {
  /** Queries one socket serves before a new one (a new random source port) takes over. Default 256. */
  maxQueriesPerSocket?: number;
  /** Milliseconds a socket takes new queries for, from its creation. Default 1,000. */
  maxSocketAgeMs?: number;
  /** An idle socket is closed after this many milliseconds without a query in flight. Default 1,000. */
  idleMs?: number;
  /**
   * Queries in flight on one socket; more open another socket beside it. Default 64. All replies to
   * a socket queue in its one kernel receive buffer (~208 KiB by default) while the event loop is
   * busy: with 450 queries in flight (4 requests of 100 names) it overflowed and dropped replies,
   * and each drop cost a whole timeout. 64 replies of up to 1,232 bytes (EDNS_UDP_PAYLOAD_SIZE,
   * ~2.3 KiB each in kernel memory) fit.
   */
  maxInFlightPerSocket?: number;
}

/** What a socket tells its pool: it takes no new queries any more; it is closed. */
interface SocketEvents {
  retired(s: SharedSocket): void;
  closed(s: SharedSocket): void;
}

/** One shared socket: the queries in flight on it, by ID, and its life counters. */
class SharedSocket {
  readonly pending = new Map<number, Exchange>();
  /** Every ID sent from this socket (at most maxQueriesPerSocket of them). */
  private readonly used = new Set<number>();
  private assigned = 0;
  private retired = false;
  private closed = false;
  private connected = false;
  /** Queries started before `connect` completed, sent once it has. */
  private readonly queue: { wire: Buffer; exchange: Exchange }[] = [];
  private readonly socket: dgram.Socket;
  private readonly born = performance.now();
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    private readonly server: DnsEndpoint,
    private readonly limits: Required<UdpPoolOptions>,
    private readonly events: SocketEvents,
  ) {
    this.socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    // Unreferenced: a pooled socket alone never keeps the process alive (nobody has to call
    // close() before exit); a query in flight does, through its own deadline timer.
    this.socket.unref();
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0) this.close();
    }, this.limits.idleMs);
    this.idleTimer.unref();
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    // On a connected socket an ICMP "port unreachable" comes back as ECONNREFUSED (at once, not
    // after the timeout). It concerns the server, not one query: every query here fails with it.
    this.socket.on('error', (cause) => this.failAll(networkError(server, 'UDP', cause)));
    this.socket.connect(server.port, server.host, (err?: Error) => {
      if (err) return this.failAll(networkError(server, 'UDP', err));
      this.connected = true;
      for (const { wire, exchange } of this.queue.splice(0)) {
        if (!exchange.settled) this.send(wire, exchange);
      }
    });
  }

  /** Whether a new query with this ID may go out on this socket now; retires a used-up socket. */
  accepts(id: number): boolean {
    if (this.retired) return false;
    if (
      this.assigned >= this.limits.maxQueriesPerSocket ||
      performance.now() - this.born >= this.limits.maxSocketAgeMs
    ) {
      this.retire();
      return false;
    }
    // An ID is used once per socket, not merely once at a time: a late reply to a query that timed
    // out can then never be taken for the answer of a later query that drew the same ID.
    return this.pending.size < this.limits.maxInFlightPerSocket && !this.used.has(id);
  }

  /** Registers the exchange under `id` (never used here: see `accepts`) and sends; returns its release. */
  start(id: number, wire: Buffer, exchange: Exchange): () => void {
    this.assigned++;
    this.used.add(id);
    this.pending.set(id, exchange);
    if (this.connected) this.send(wire, exchange);
    else this.queue.push({ wire, exchange });
    return () => {
      if (this.pending.get(id) === exchange) this.pending.delete(id);
      if (this.pending.size > 0) return;
      if (this.retired) this.close();
      else this.idleTimer.refresh();
    };
  }

  /** No new queries; closes as soon as none is in flight. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.events.retired(this);
    if (this.pending.size === 0) this.close();
  }

  /** Fails what is in flight (each query settles once; later events are ignored) and closes. */
  failAll(err: Error): void {
    this.retire();
    for (const exchange of [...this.pending.values()]) exchange.fail(err);
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retire();
    clearTimeout(this.idleTimer);
    this.queue.length = 0;
    this.socket.close();
    this.events.closed(this);
  }

  private send(wire: Buffer, exchange: Exchange): void {
    try {
      this.socket.send(wire, (err) => {
        if (err) exchange.fail(networkError(this.server, 'UDP', err));
      });
    } catch (err) {
      exchange.fail(networkError(this.server, 'UDP', err as Error));
    }
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Off-path replies from another address or port are ignored, not trusted (RFC 5452 §9.1).
    if (rinfo.port !== this.server.port || !sameAddress(rinfo.address, this.server.host)) return;
    const owner = msg.length >= 2 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
    if (owner) {
      // The query with this ID decides; a reply for another question is dropped (RFC 5452 §9.1).
      owner.offer(msg);
      return;
    }
    // No query has this ID. A well-formed DNS message is a stray (a late reply to a query that
    // timed out, or a forgery): the first query it is shown to refuses it as not its own (the ID
    // differs, so none can accept it) and it is dropped. Bytes that are no DNS message at all mean
    // the server, the only peer a connected socket hears, is not speaking DNS: as with a socket per
    // query, each query waiting on it then fails with DNS_MALFORMED_RESPONSE instead of a timeout.
    for (const exchange of [...this.pending.values()]) {
      if (!exchange.offer(msg)) return;
    }
  }
}

/**
 * The shared UDP sockets of one resolver: per server, the sockets that take new queries (one, more
 * when many queries are in flight at once); retired ones stay open only until their last query
 * settles.
 */
export class UdpPool {
  private readonly limits: Required<UdpPoolOptions>;
  /** Per server (an entry per configured server, kept), the sockets that take new queries. */
  private readonly current = new Map<string, Set<SharedSocket>>();
  private readonly all = new Set<SharedSocket>();

  constructor(options: UdpPoolOptions = {}) {
    this.limits = {
      maxQueriesPerSocket: Math.max(1, options.maxQueriesPerSocket ?? 256),
      maxSocketAgeMs: Math.max(1, options.maxSocketAgeMs ?? 1000),
      idleMs: Math.max(1, options.idleMs ?? 1000),
      maxInFlightPerSocket: Math.max(1, options.maxInFlightPerSocket ?? 64),
    };
  }

  /** Sockets open now (in use or idle); for tests and diagnostics. */
  get openSockets(): number {
    return this.all.size;
  }

  /**
   * Sends `query` (whose first two bytes are its ID, RFC 1035 §4.1.1) and resolves with the first
   * reply `accept` takes, under the same deadline, abort and error rules as `exchangeUdp`.
   */
  exchange<T>(
    server: DnsEndpoint,
    query: Buffer,
    timeoutMs: number,
    accept: AcceptReply<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (query.length < 12) {
      return Promise.reject(new CertvigilError('DNS_BAD_NAME', 'a DNS query is at least 12 bytes'));
    }
    const id = query.readUInt16BE(0);
    return withDeadline(server, 'UDP', timeoutMs, accept, signal, (exchange) =>
      this.socketFor(server, id).start(id, query, exchange),
    );
  }

  /** Closes every socket; queries in flight fail with DNS_NETWORK. A later query opens a new one. */
  close(): void {
    const err = new CertvigilError('DNS_NETWORK', 'resolver closed');
    for (const s of [...this.all]) s.failAll(err);
  }

  private socketFor(server: DnsEndpoint, id: number): SharedSocket {
    const key = formatEndpoint(server);
    let open = this.current.get(key);
    if (!open) {
      open = new Set();
      this.current.set(key, open);
    }
    // The first socket with room takes the query. The same ID twice on one socket would make their
    // replies indistinguishable: such a query goes to another socket (port) instead.
    for (const s of open) if (s.accepts(id)) return s;
    const set = open;
    const fresh = new SharedSocket(server, this.limits, {
      retired: (s) => set.delete(s),
      closed: (s) => this.all.delete(s),
    });
    set.add(fresh);
    this.all.add(fresh);
    return fresh;
  }
}
