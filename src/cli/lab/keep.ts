/**
 * @module cli/lab/keep
 * What `certvigil lab --keep DIR` tells the user about the world it left behind: where each piece
 * is and the commands that explore it, offline (the state, the zone, the inventory) or live again
 * (`certvigil lab serve DIR` brings the DNS, the CA's CT log and the services back up).
 */
import { shellQuote } from './run-certvigil.js';
import type { LabWorld } from './world-types.js';

export function keepNote(world: LabWorld): string[] {
  const p = world.paths;
  const q = shellQuote;
  return [
    '',
    `The lab's world is kept in ${p.root}:`,
    `  zone file           ${p.zoneFile} (as it ended: 2023's records), ${p.boundZoneFile} (with RFC 8657)`,
    `  CA root (trust)     ${p.caRootPem}`,
    `  CT log + log list   ${p.ctDir}, ${p.logList}`,
    `  victim's certbot    ${p.certbot}`,
    `  victim's state      ${p.victimState} (monitor store, MITM baselines)`,
    `  iodef reports       ${p.iodefState}`,
    `  attacker's cert     ${p.attackerDir}`,
    'Explore it:',
    `  certvigil certs list --unknown --state-dir ${q(p.victimState)}`,
    `  certvigil iodef list --state-dir ${q(p.iodefState)}`,
    `  certvigil acme accounts --acme-dir ${q(p.certbot)}`,
    `  certvigil caa evaluate ${world.domain} --zone ${q(p.boundZoneFile)} --ca ${world.caIssuerDomain} --account-uri ${q(world.attackerAccountUri)} --method http-01   # RFC 8657 records: DENY`,
    `  certvigil caa evaluate ${world.domain} --zone ${q(p.zoneFile)} --ca ${world.caIssuerDomain} --account-uri ${q(world.attackerAccountUri)} --method http-01   # the 2023 records: ALLOW`,
    `  certvigil status --state-dir ${q(p.victimState)}`,
    `  certvigil user add lab --role admin --state-dir ${q(p.victimState)}   # then the dashboard:`,
    `  certvigil serve --state-dir ${q(p.victimState)} --listen 127.0.0.1:8080`,
    `Serve it again (DNS, CT log, services with the interceptor in place) and run the summary's commands:`,
    `  certvigil lab serve ${q(p.root)}`,
  ];
}
