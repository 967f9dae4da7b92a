/**
 * @module dns
 * Public surface of the DNS layer: typed responses, the stub resolver and resolver configuration.
 */
export type {
  DnsEndpoint,
  DnsFlags,
  DnsRecord,
  DnsRecordData,
  DnsResponse,
  ExtendedDnsError,
  QueryOptions,
  Rcode,
} from './types.js';
export { StubResolver } from './resolver.js';
export type { DnsClient, ResolverOptions } from './resolver.js';
export type { UdpPoolOptions } from './udp-pool.js';
export { loadResolvConf, parseEndpoint, parseResolvConf } from './resolv-conf.js';
export type { ResolvConf } from './resolv-conf.js';
export {
  canonicalName,
  decodeResponse,
  encodeQuery,
  EDNS_UDP_PAYLOAD_SIZE,
  indicatesDnssecBogus,
  rcodeName,
} from './message.js';
export { formatEndpoint } from './transport.js';
export type { DnsErrorCode } from './errors.js';
