/**
 * @module cli/commands/lab
 * `certvigil lab [--json] [--keep DIR] [--step NAME]`: the jabber.ru interception (2023) replayed on
 * this machine, offline, with every detector run as the real certvigil command against it
 * (src/cli/lab/scenario.ts; the world is src/lab/, built by src/cli/lab/world.ts).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CertvigilError, errorMessage } from '../../errors.js';
import { ensureStateDir } from '../../state-files.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
import { DETECTORS, allAsExpected, lineOf, notRun, result } from '../lab/detectors.js';
import type { DetectorResult } from '../lab/detectors.js';
import { runLastHops } from '../lab/hops.js';
import { keepNote } from '../lab/keep.js';
import { makeNarrator } from '../lab/narrate.js';
import { runnerUntil } from '../lab/run-certvigil.js';
import { STEPS, runScenario } from '../lab/scenario.js';
import type { StepName } from '../lab/scenario.js';
import { formatSummary } from '../lab/summary.js';
import { serveWorld } from '../lab/serve-world.js';
import { buildWorld, writeCommandsFile } from '../lab/world.js';
import type { LabWorld } from '../lab/world-types.js';
import type { Logger } from '../logger.js';
import { makeStyle } from '../style.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface LabFlags {
  json?: boolean;
  keep?: string;
  step?: string;
}

/** The narration is progress on stderr: on by default, off with `--log-level silent`. */
function narrates(ctx: Ctx): boolean {
  return ctx.logger.level !== 'silent';
}

/** The commands' share of the 120 s the lab may take (issue 17's CONTRACT). */
const TIME_BUDGET_MS = 100_000;

/** --keep DIR must be new or empty: the lab never mixes its world into other files. */
async function keepDir(dir: string): Promise<string> {
  const path = resolve(dir);
  try {
    const st = await stat(path);
    if (!st.isDirectory()) throw new CertvigilError('USAGE', `--keep ${dir} exists and is not a directory`);
    if ((await readdir(path)).length > 0)
      throw new CertvigilError('USAGE', `--keep ${dir} is not empty: give a new or empty directory`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return path;
}

function parseStep(value: string | undefined): StepName {
  if (value === undefined) return 'detect';
  if ((STEPS as readonly string[]).includes(value)) return value as StepName;
  throw new CertvigilError(
    'USAGE',
    `--step must be one of ${STEPS.join(', ')} (got ${JSON.stringify(value)})`,
  );
}

/** Runs the lab and prints its verdicts; the exit status follows the CONTRACT of issue 17. */
async function runLab(flags: LabFlags, ctx: Ctx): Promise<void> {
  const lastStep = parseStep(flags.step);
  // The CONTRACT's 120 s, with room to close the world and print: no command starts after this.
  const run = runnerUntil(Date.now() + TIME_BUDGET_MS);
  const kept = flags.keep === undefined ? null : await keepDir(flags.keep);
  const root = kept ?? (await mkdtemp(resolve(tmpdir(), 'certvigil-lab-')));
  if (kept !== null) await ensureStateDir(kept);
  const say = makeNarrator(process.stderr, makeStyle(process.stderr), narrates(ctx));
  const results = new Map<string, DetectorResult>();
  let stopReason: string | null = null;
  let stoppedByStep = false;
  let world: LabWorld | null = null;
  // Ctrl-C or a supervisor's SIGTERM: close the world first (the iodef receiver is a child process,
  // the namespaces are kernel objects), then leave with the signal's conventional status.
  const onSignal = (signal: NodeJS.Signals): void => {
    say.say(`!! ${signal}: closing the lab's world`);
    void (world?.close() ?? Promise.resolve())
      .then(() => (kept === null ? rm(root, { recursive: true, force: true }) : undefined))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say.step('The world: DNS, CA, CT log, the victim’s services and ACME client');
    world = await buildWorld(root, say);
    const outcome = await runScenario(world, say, { lastStep, run });
    for (const [k, v] of outcome.results) results.set(k, v);
    stopReason = outcome.stopReason;
    stoppedByStep = outcome.stoppedByStep;
    if (stopReason === null) {
      // The namespaces are the one part that can fail after every other verdict is in.
      const hops = await runLastHops(world, say, run).catch((err: unknown) =>
        result('last-hop-change', false, true, `failed: ${errorMessage(err)}`),
      );
      results.set('last-hop-change', hops);
    }
    if (kept !== null) await world.save();
  } catch (err) {
    stopReason ??= `the world could not be built: ${errorMessage(err)}`;
    say.say(`!! ${stopReason}`);
  } finally {
    await world?.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  // A detector without a verdict is "not run" with the reason: expected when the lab broke (so the
  // run fails), not expected when the user stopped it early with --step.
  const isRoot = process.getuid?.() === 0;
  const ordered = DETECTORS.map(
    (d) =>
      results.get(d) ??
      notRun(d, stopReason ?? 'no verdict', !stoppedByStep && (d !== 'last-hop-change' || isRoot)),
  );
  if (flags.json) for (const r of ordered) await writeLine(jsonLine(lineOf(r)));
  else for (const line of formatSummary(ordered, makeStyle(process.stdout), kept)) await writeLine(line);
  if (kept !== null && world !== null) {
    await writeCommandsFile(world, ordered);
    for (const line of keepNote(world)) process.stderr.write(`${line}\n`);
  } else if (kept === null) await rm(root, { recursive: true, force: true });
  const passed = allAsExpected(ordered) && (stopReason === null || stoppedByStep);
  ctx.setExit(passed ? EXIT.OK : EXIT.FINDING);
}

/** `certvigil lab serve DIR`: the kept world live again until SIGINT/SIGTERM. */
async function serveLab(dir: string, ctx: Ctx): Promise<void> {
  const root = resolve(dir);
  const say = makeNarrator(process.stderr, makeStyle(process.stderr), narrates(ctx));
  const served = await serveWorld(root, say);
  say.say(`serving until Ctrl-C; the commands of the last run are in ${resolve(root, 'commands.txt')}`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await served.close();
  ctx.setExit(EXIT.OK);
}

export function registerLab(program: Command, ctx: Ctx): void {
  const lab = program
    .command('lab')
    .summary(
      'replay the jabber.ru interception (2023) on this machine, offline, and watch every detector fire',
    )
    .description(
      'Build a small world on loopback — an authoritative DNS server for jabber.lab., an ACME-like CA that\n' +
        'evaluates CAA (RFC 8659, RFC 8657) and logs to a local CT log (RFC 6962), the victim’s HTTPS and XMPP\n' +
        'services behind a front, its ACME client state — then replay the attack: the interceptor in front of\n' +
        'the XMPP ports asks the same CA for a certificate with its own account. With CAA bound to the victim’s\n' +
        'account it is refused (and the CA sends an iodef report); with the 2023 records it is issued and served.\n' +
        'Each detector is the real certvigil command (printed, to reproduce): caa check, iodef send/list, monitor +\n' +
        'certs list (internal check), check endpoint --pin (external check), check mitm (JARM per port) and, as\n' +
        'root with iproute2 and traceroute, the TCP-traceroute last hops through network namespaces.\n\n' +
        'Needs nothing but Node and no network beyond loopback. Steps: world, before, attack, detect (--step stops\n' +
        'after one; the detectors of later steps then read "not run", not expected). Narration goes to stderr\n' +
        '(`--log-level silent` turns it off); stdout holds the summary table, or with --json one object per\n' +
        'detector per line: {"detector","fired","expected","detail"}. `certvigil lab serve DIR` brings a kept\n' +
        'world back up on the same ports.',
    )
    .option('--json', 'one JSON object per detector, one per line')
    .option(
      '--keep <dir>',
      'leave the whole world (zone, CA, CT log, state) in DIR (new or empty) to explore',
    )
    .option('--step <name>', `stop after this step: ${STEPS.join(', ')}`)
    .addHelpText(
      'after',
      '\nExit status: 0 every detector fired as expected (last-hop-change is expected only as root, with\n' +
        '`ip` and `traceroute`), 1 a detector did not (or a step of the world broke: its detectors read\n' +
        '"not run" with the reason), 2 a usage error (one line on stderr, nothing created).',
    )
    .action((flags: LabFlags) => runLab(flags, ctx));
  lab
    .command('serve')
    .summary('serve a world kept with `certvigil lab --keep DIR` again, on the same ports, until Ctrl-C')
    .argument('<dir>', 'the directory given to --keep')
    .addHelpText(
      'after',
      '\nExit status: 0 stopped by SIGINT/SIGTERM, 2 DIR is not a kept lab world, or a port is taken\n' +
        '(one line on stderr).',
    )
    .action((dir: string) => serveLab(dir, ctx));
}
