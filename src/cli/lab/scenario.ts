/**
 * @module cli/lab/scenario
 * The jabber.ru interception (2023), replayed step by step against the lab's world, with every
 * detector run as the certvigil command a user would run. The steps:
 *
 * 1. world   — DNS, CA, CT log, the victim's services and ACME client (world.ts);
 * 2. before  — CAA bound to the victim's ACME account (`caa suggest`, RFC 8657), baselines
 *              (`mitm learn`), the monitor catches up;
 * 3. attack  — the attacker orders from the same CA: refused by CAA (and reported by iodef), then,
 *              as in 2023 with only `issue "<ca>"`, issued, logged, and served on the XMPP ports;
 * 4. detect  — the internal check, the external check, the MITM check (and the last hops).
 */
import {
  decideCaaRefusal,
  decideInternalCheck,
  decideIodef,
  decideOtherPortsOk,
  decidePerPortChange,
  decidePin,
} from './detectors.js';
import type { DetectorId, DetectorResult } from './detectors.js';
import { sanitizeText } from '../../sanitize.js';
import type { Narrator } from './narrate.js';
import { jsonLinesOf } from './run-certvigil.js';
import type { CommandRun, Runner } from './run-certvigil.js';
import type { LabWorld, OrderOutcome } from './world-types.js';

export const STEPS = ['world', 'before', 'attack', 'detect'] as const;
export type StepName = (typeof STEPS)[number];

/** What the steps pass on to each other. */
interface Progress {
  results: Map<DetectorId, DetectorResult>;
  attacker: OrderOutcome | null;
  /** The `mitm learn` run of step 2, which the JARM verdict of step 4 cites. */
  learn: CommandRun | null;
  /** Runs certvigil commands within the lab's time budget. */
  run: Runner;
}

interface Suggested {
  records?: { presentation?: string; value?: string; tag?: string; flags?: number }[];
}

/** `caa suggest --json` → the records' presentation values (`0 issue "…"`). */
export function suggestedRecords(run: CommandRun): string[] {
  const [out] = jsonLinesOf(run.stdout) as Suggested[];
  const values: string[] = [];
  for (const r of out?.records ?? []) {
    if (typeof r.presentation === 'string') values.push(r.presentation.replace(/^.*?\bCAA\s+/, ''));
    else if (typeof r.tag === 'string' && typeof r.value === 'string')
      values.push(`${r.flags ?? 0} ${r.tag} "${r.value}"`);
  }
  return values;
}

/** The alerts `monitor` sent to its stdout sink (one JSON event per line), as their summary lines. */
export function alertSummaries(run: CommandRun): string[] {
  return (jsonLinesOf(run.stdout) as { summary?: unknown }[])
    .map((e) => (typeof e.summary === 'string' ? e.summary : null))
    .filter((t): t is string => t !== null);
}

function stateArgs(world: LabWorld): string[] {
  return ['--state-dir', world.paths.victimState];
}

function mitmArgs(world: LabWorld): string[] {
  const p = world.ports;
  return [
    world.host,
    '--ports',
    `${p.https},${p.xmppStarttls},${p.xmppTls}`,
    '--starttls',
    `${p.xmppStarttls}=xmpp`,
    '--sni',
    world.domain,
    '--no-trace',
    ...stateArgs(world),
  ];
}

function monitorArgs(world: LabWorld): string[] {
  return [
    'monitor',
    '--once',
    '--config',
    world.paths.monitorConfig,
    '--log-list',
    world.paths.logList,
    '--watchlist',
    world.paths.watchlist,
    '--inventory',
    world.paths.certbot,
    '--caa-resolver',
    world.dnsEndpoint,
    ...stateArgs(world),
  ];
}

/** `check endpoint` as an Icinga check of one of the victim's ports would run it. */
export function endpointArgs(world: LabWorld, port: number, starttls: boolean): string[] {
  return [
    'check',
    'endpoint',
    `${world.domain}:${port}`,
    ...(starttls ? ['--starttls', 'xmpp'] : []),
    '--resolver',
    world.dnsEndpoint,
    '-4',
    '--ca-file',
    world.paths.caRootPem,
    '--pin',
    world.victimSpkiSha256,
    '--log-list',
    world.paths.logList,
    // One lab log, so one operator: count SCTs (at least one, verified, with an inclusion proof)
    // without Chrome's two-operator rule.
    '--require-ct',
    '--ct-policy',
    'none',
    '--min-scts',
    '1',
    '--revocation',
    'off',
    ...stateArgs(world),
    '--json',
  ];
}

async function before(world: LabWorld, say: Narrator, progress: Progress): Promise<void> {
  say.step('Before the attack: bind CAA to the victim’s ACME account, learn the baselines');
  const suggest = await progress.run([
    'caa',
    'suggest',
    world.domain,
    '--acme-dir',
    world.paths.certbot,
    '--ca',
    world.caIssuerDomain,
    '--iodef',
    world.iodefUrl,
    '--json',
  ]);
  const records = suggestedRecords(suggest);
  say.command(
    suggest,
    suggest.code === 0
      ? `records for the victim’s account: ${records.join(' | ')}`
      : 'caa suggest failed: the zone keeps no CAA',
  );
  if (suggest.code !== 0 || records.length === 0)
    throw new Error(`caa suggest failed: ${suggest.stderr.split('\n')[0] ?? ''}`);
  await world.setCaa(records);
  await world.snapshotZone(world.paths.boundZoneFile);
  say.say(`the zone now publishes them (${world.paths.zoneFile})`);

  const learn = await progress.run(['mitm', 'learn', ...mitmArgs(world), '--rounds', '2', '--json']);
  say.command(learn, learn.code === 0 ? 'JARM fingerprints learned per port' : 'mitm learn failed');
  progress.learn = learn;

  const monitor = await progress.run(monitorArgs(world));
  const baselineAlerts = alertSummaries(monitor);
  say.command(
    monitor,
    monitor.code !== 0
      ? 'the monitor failed'
      : baselineAlerts.length === 0
        ? 'the monitor caught up with the CT log: every certificate is the victim’s own, no alert'
        : `the monitor caught up with ${baselineAlerts.length} alert(s) (unexpected before the attack)`,
  );
}

async function attack(world: LabWorld, say: Narrator, progress: Progress): Promise<void> {
  say.step('The attack: the interceptor gets a certificate from the same CA');
  say.say(
    'the attacker sits in front of the XMPP ports and answers the http-01 challenge for ' + world.domain,
  );
  const refused = await world.orderAsAttacker();
  say.say(
    refused.issued
      ? 'the CA ISSUED despite the RFC 8657 records (this is a failure of the lab)'
      : `the CA refused (${refused.stage ?? '?'} stage): ${refused.reason}`,
  );
  const caaCheck = await progress.run([
    'caa',
    'check',
    world.domain,
    '--ca',
    world.caIssuerDomain,
    '--account-uri',
    world.attackerAccountUri,
    '--method',
    'http-01',
    '--resolver',
    world.dnsEndpoint,
  ]);
  say.command(caaCheck, caaCheck.code === 1 ? 'denied for the attacker’s account' : 'not denied');
  progress.results.set(
    'caa-accounturi-refusal',
    decideCaaRefusal(
      {
        refused: !refused.issued,
        stage: refused.stage,
        reason: refused.reason,
        validationSucceeded: refused.validationSucceeded,
        accountUri: world.attackerAccountUri,
      },
      caaCheck,
    ),
  );

  // The CA's side of RFC 8659 §4.4: report the refused issuance to the iodef URL of the zone.
  const send = await progress.run([
    'iodef',
    'send',
    world.domain,
    '--ca',
    world.caIssuerDomain,
    '--ca-name',
    world.caName,
    '--account-uri',
    world.attackerAccountUri,
    '--method',
    'http-01',
    '--validation-succeeded',
    '--resolver',
    world.dnsEndpoint,
    '--state-dir',
    world.paths.caState,
    '--from',
    `iodef-reports@${world.caIssuerDomain}`,
    '--https-ca-file',
    world.paths.caRootPem,
    '--allow-private-addresses',
  ]);
  say.command(
    send,
    send.code === 0
      ? 'the CA reported the refusal to the owner (IODEF, RFC 6546)'
      : 'the report was not sent',
  );
  const list = await progress.run(['iodef', 'list', '--state-dir', world.paths.iodefState, '--json']);
  say.command(list, `${jsonLinesOf(list.stdout).length} report(s) at the owner’s receiver`);
  progress.results.set('iodef-report-received', decideIodef(world.domain, send, list));

  say.say(
    `2023 replayed: the zone names only the CA (0 issue "${world.caIssuerDomain}"), no account binding`,
  );
  await world.setCaa([`0 issue "${world.caIssuerDomain}"`]);
  const issued = await world.orderAsAttacker();
  if (!issued.issued || issued.chainPem === null || issued.keyPem === null)
    throw new Error(`the attacker's order was refused without account binding: ${issued.reason}`);
  progress.attacker = issued;
  say.say(`issued to the attacker: serial ${issued.serialHex ?? '?'}, logged in the CT log with an SCT`);
  world.publishLog();
  await world.intercept(issued.chainPem, issued.keyPem);
  say.say(
    `the interceptor now terminates TLS on ports ${world.ports.xmppStarttls} (STARTTLS) and ${world.ports.xmppTls} with it; ${world.ports.https} is untouched`,
  );
}

async function detect(world: LabWorld, say: Narrator, progress: Progress): Promise<void> {
  say.step('Detection');
  const attacker = progress.attacker;
  const monitor = await progress.run(monitorArgs(world));
  const alerts = alertSummaries(monitor);
  say.command(
    monitor,
    monitor.code === 0 ? `the monitor caught up and sent ${alerts.length} alert(s)` : 'the monitor failed',
  );
  for (const a of alerts) say.say(`  alert: ${sanitizeText(a, { maxLength: 300 })}`);
  const unknown = await progress.run(['certs', 'list', '--unknown', '--json', ...stateArgs(world)]);
  say.command(unknown, `${jsonLinesOf(unknown.stdout).length} certificate(s) that are not the victim’s`);
  progress.results.set(
    'ct-internal-check',
    decideInternalCheck(attacker?.spkiSha256 ?? '', monitor, unknown),
  );

  const p = world.ports;
  const xmpp = await progress.run(endpointArgs(world, p.xmppStarttls, true));
  say.command(xmpp, `port ${p.xmppStarttls} (XMPP, STARTTLS)`);
  const xmpps = await progress.run(endpointArgs(world, p.xmppTls, false));
  say.command(xmpps, `port ${p.xmppTls} (XMPP, direct TLS)`);
  const https = await progress.run(endpointArgs(world, p.https, false));
  say.command(https, `port ${p.https} (HTTPS)`);
  progress.results.set(
    'external-check-pin',
    decidePin([
      { label: `port ${p.xmppStarttls}`, run: xmpp },
      { label: `port ${p.xmppTls}`, run: xmpps },
    ]),
  );
  progress.results.set(
    'external-check-other-ports-ok',
    decideOtherPortsOk([{ label: `port ${p.https}`, run: https }]),
  );

  const check = await progress.run(['check', 'mitm', ...mitmArgs(world), '--json']);
  say.command(check, 'JARM per port against the baseline');
  if (progress.learn !== null)
    progress.results.set(
      'jarm-change',
      decidePerPortChange('jarm-change', 'jarm-changed', [p.xmppStarttls, p.xmppTls], check, progress.learn),
    );
}

export interface ScenarioOptions {
  /** Stop after this step (with --keep, the world is left on disk to explore). */
  lastStep: StepName;
  run: Runner;
}

export interface ScenarioOutcome {
  results: Map<DetectorId, DetectorResult>;
  /** Why the scenario stopped early (`--step`, or a step that broke); null when it ran through. */
  stopReason: string | null;
  /** The user asked for the stop (`--step`): the later detectors are not expected. */
  stoppedByStep: boolean;
}

/**
 * Runs the steps after `world` (which the caller built) up to `lastStep`. A step that breaks ends
 * the run with its reason; the caller marks every detector without a verdict as not run: the lab
 * never reports a detector it did not see.
 */
export async function runScenario(
  world: LabWorld,
  say: Narrator,
  options: ScenarioOptions,
): Promise<ScenarioOutcome> {
  const progress: Progress = { results: new Map(), attacker: null, learn: null, run: options.run };
  const order: [StepName, (w: LabWorld, s: Narrator, p: Progress) => Promise<void>][] = [
    ['before', before],
    ['attack', attack],
    ['detect', detect],
  ];
  for (const [name, step] of order) {
    if (STEPS.indexOf(name) > STEPS.indexOf(options.lastStep))
      return {
        results: progress.results,
        stopReason: `stopped after step ${options.lastStep} (--step)`,
        stoppedByStep: true,
      };
    try {
      await step(world, say, progress);
    } catch (err) {
      const reason = `step ${name} failed: ${err instanceof Error ? err.message : String(err)}`;
      say.say(`!! ${reason}`);
      return { results: progress.results, stopReason: reason, stoppedByStep: false };
    }
  }
  return { results: progress.results, stopReason: null, stoppedByStep: false };
}
