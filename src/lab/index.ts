/**
 * @module lab
 * The world of `certvigil lab`: everything the jabber.ru interception (2023) needs, on loopback and
 * with nothing but Node installed. The scenario that drives it lives in src/cli/lab/.
 */
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';

// DNS responder: the victim's zone, served authoritatively over UDP and TCP (src/lab/dns/)
export { LabZone } from './dns/zone.js';
export type { LabZoneOptions, ZoneAnswer } from './dns/zone.js';
export type { LabCaa, LabRdata, LabRrType, LabSoa, StoredRdata, ZoneRr } from './dns/records.js';
export { startDnsResponder } from './dns/responder.js';
export type { DnsQueryLog, DnsResponder, DnsResponderOptions } from './dns/responder.js';
