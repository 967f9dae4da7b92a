/**
 * @module probe/mitm-types
 * Shared types of the machine-in-the-middle probes (`certvigil jarm`, `mitm learn`, `check mitm`):
 * a JARM fingerprint per port, the TCP-traceroute path per destination port, and the learned
 * baseline they are compared with. Types only.
 *
 * Why per port: in the jabber.ru interception (2023) the extra box sat in the path of the XMPP
 * ports only, and it terminated TLS with its own stack, so both the last hops and the TLS
 * fingerprint changed on those ports and nowhere else.
 */

import type { MitmBaselineRecord } from '../store/index.js';

/** The result of fingerprinting one `host:port` (salesforce/jarm v1.0). */
export interface JarmResult {
  /** `host:port` as given. */
  target: string;
  /** The address the probes went to. */
  address: string;
  port: number;
  /** 62 hex characters; 62 zeros when nothing answered with TLS. */
  jarm: string;
  /** The pre-hash string: the 10 probe results `cipher|version|alpn|extensions`, comma-joined. */
  raw: string;
  /** Why probes failed (connect errors, timeouts), for diagnostics; empty when all answered. */
  errors: string[];
  elapsedMs: number;
}

/** One TTL of a TCP traceroute: the addresses that answered (ICMP time exceeded, or the target). */
export interface TraceHop {
  ttl: number;
  /** Distinct responding addresses, in the order seen; empty when every probe timed out (`*`). */
  addresses: string[];
  /** Round-trip times in ms of the probes that got an answer. */
  rttMs: number[];
}

/** A TCP traceroute (SYNs with increasing TTL) to one destination port. */
export interface TraceResult {
  target: string;
  address: string;
  port: number;
  family: 4 | 6;
  hops: TraceHop[];
  /** Whether the destination itself answered (SYN-ACK or RST), and at which TTL. */
  reached: boolean;
  hopCount: number | null;
  /** The tool and the command line used (e.g. `traceroute -T -n -q 3 -w 1 -p 5222 …`). */
  method: string;
}

/** The last hops before the destination, the part of the path that an interception changes. */
export interface LastHops {
  /** Up to N responding addresses before the target, nearest to the target last. */
  hops: string[];
  hopCount: number | null;
}

/** What `mitm learn` stores per target and port (the store's `MitmBaselineRecord`). */
export type PortBaseline = MitmBaselineRecord;
