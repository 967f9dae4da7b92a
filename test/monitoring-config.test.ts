/**
 * Issue 14, "Fits Icinga and Nagios as shipped": the shipped definitions (contrib/icinga2/certvigil.conf,
 * contrib/nagios/certvigil.cfg) and the examples in docs/monitoring-plugin.md are
 * - complete: every long flag of each `check …` command's --help has an Icinga argument and a
 *   Nagios macro (so a flag added later fails here until the definitions catch up), and nothing in
 *   them names a flag the command does not have;
 * - valid for the real programs: `icinga2 daemon -C` and `nagios4 -v` accept them;
 * - run right: a real Icinga 2 daemon runs the built CLI through them; the argv it builds, the
 *   state, the output and the perfdata it parsed are read back from its state file.
 * Nothing is written outside a temporary directory (Icinga's paths are moved there by constants).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './cli-run.js';
import { TestCa, writeLogList } from './fixtures/ct-log/index.js';
import { chainPem, pem, privateKeyPem, startNodeTlsServer } from './fixtures/tls/index.js';
import type { NodeTlsServer } from './fixtures/tls/index.js';
import { parsePerfdata, parsePluginOutput } from './plugin-output-parser.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ICINGA_CONF = join(ROOT, 'contrib/icinga2/certvigil.conf');
const NAGIOS_CFG = join(ROOT, 'contrib/nagios/certvigil.cfg');
const DOCS = join(ROOT, 'docs/monitoring-plugin.md');
const ICINGA2 = '/usr/sbin/icinga2';
const NAGIOS4 = '/usr/sbin/nagios4';

/** `certvigil check X` → its Icinga CheckCommand and Nagios command. */
const COMMANDS = ['endpoint', 'endpoints', 'mitm', 'monitor'] as const;
type CheckName = (typeof COMMANDS)[number];
const DEFINITION: Record<CheckName, string> = {
  endpoint: 'certvigil_endpoint',
  endpoints: 'certvigil_endpoints',
  mitm: 'certvigil_mitm',
  monitor: 'certvigil_monitor',
};

/**
 * Flags of --help that have no place in a monitoring definition, with the reason. Keep it short:
 * every other flag must be in both definitions.
 */
const NOT_IN_DEFINITIONS: Record<string, string> = {
  '--help': 'prints the help, not a check',
  '--version': 'prints the version, not a check',
  '--json': 'one JSON object is not plugin output (no status line, no perfdata)',
  '--log-level':
    'logs go to stderr, which Icinga 2 appends to the plugin output; set $CERTVIGIL_LOG_LEVEL in the environment instead',
};

interface HelpFlag {
  long: string;
  short?: string;
}

/** The options of `certvigil check NAME --help` (its own and the global ones it lists). */
function parseHelpFlags(help: string): HelpFlag[] {
  const flags: HelpFlag[] = [];
  for (const line of help.split('\n')) {
    const m = /^ {2}(?:(-[A-Za-z0-9]), )?(--[a-z0-9][a-z0-9_-]*)/.exec(line);
    if (m) flags.push({ long: m[2] ?? '', ...(m[1] ? { short: m[1] } : {}) });
  }
  return flags;
}

/** Short and long spellings → the long flag. */
function longNames(flags: readonly HelpFlag[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of flags) {
    out.set(f.long, f.long);
    if (f.short) out.set(f.short, f.long);
  }
  return out;
}

interface IcingaArgument {
  name: string;
  flag: string;
  valueVar?: string;
  setIfVar?: string;
  repeat: boolean;
}

/** The arguments of each `object CheckCommand` in an Icinga 2 file (our files' layout: no nested braces in an argument). */
function parseIcinga(text: string): Map<string, IcingaArgument[]> {
  const out = new Map<string, IcingaArgument[]>();
  const blocks = text.split(/^object CheckCommand /m).slice(1);
  for (const block of blocks) {
    const name = /^"([^"]+)"/.exec(block)?.[1] ?? '';
    const args: IcingaArgument[] = [];
    for (const m of block.matchAll(/"([^"]+)" = \{([^{}]*)\}/g)) {
      const [, argName = '', body = ''] = m;
      const key = /key = "([^"]+)"/.exec(body)?.[1] ?? argName;
      const valueVar = /value = "\$([a-z0-9_]+)\$"/.exec(body)?.[1];
      const setIfVar = /set_if = "\$([a-z0-9_]+)\$"/.exec(body)?.[1];
      args.push({
        name: argName,
        flag: key,
        ...(valueVar ? { valueVar } : {}),
        ...(setIfVar ? { setIfVar } : {}),
        repeat: /repeat_key = true/.test(body),
      });
    }
    out.set(name, args);
  }
  return out;
}

/** command_name → command_line of each `define command` in a Nagios object file. */
function parseNagios(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/define command \{([^}]*)\}/g)) {
    const body = m[1] ?? '';
    const name = /^\s*command_name\s+(\S+)/m.exec(body)?.[1] ?? '';
    const line = /^\s*command_line\s+(.+)$/m.exec(body)?.[1] ?? '';
    out.set(name, line.trim());
  }
  return out;
}

/** `$_SERVICECERTVIGIL_CA_FILE$` ↔ `--ca-file`: the macro of a flag holds the flag and its value. */
function nagiosMacroFlags(commandLine: string): string[] {
  return [...commandLine.matchAll(/\$_SERVICECERTVIGIL_([A-Z0-9_]+)\$/g)].map(
    (m) => `--${(m[1] ?? '').toLowerCase().replace(/_/g, '-')}`,
  );
}

/** Flags written literally on a Nagios command line (e.g. `--hostname $HOSTADDRESS$`). */
function nagiosLiteralFlags(commandLine: string): string[] {
  return commandLine.split(/\s+/).filter((t) => /^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(t));
}

/** The ```LANG fenced blocks of the docs: the examples users copy, validated with the shipped files. */
function docBlocks(lang: string): string[] {
  const text = readFileSync(DOCS, 'utf8');
  return [...text.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1] ?? '');
}

function run(
  command: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const helps = new Map<CheckName, HelpFlag[]>();
let icinga: Map<string, IcingaArgument[]>;
let nagios: Map<string, string>;
let work: string;

/** Icinga's paths (cache, state, logs, pid, spool) moved into `dir`, running as whoever runs the test. */
function icingaDefines(dir: string): string[] {
  const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  return [
    `-DConfiguration.RunAsUser=${userInfo().username}`,
    `-DConfiguration.RunAsGroup=${group}`,
    ...['CacheDir', 'DataDir', 'LogDir', 'InitRunDir', 'SpoolDir'].map((c) => `-DConfiguration.${c}=${dir}`),
    `-DConfiguration.PidPath=${join(dir, 'icinga2.pid')}`,
  ];
}

/** A value for every variable of a command: switches true, repeatable flags two values. */
function icingaVars(args: IcingaArgument[], prefix: string): string[] {
  const vars: string[] = [];
  for (const a of args) {
    if (a.setIfVar) vars.push(`${prefix}vars.${a.setIfVar} = true`);
    if (a.valueVar)
      vars.push(
        a.repeat
          ? `${prefix}vars.${a.valueVar} = [ "${a.valueVar}-1", "${a.valueVar}-2" ]`
          : `${prefix}vars.${a.valueVar} = "${a.valueVar}"`,
      );
  }
  return vars;
}

beforeAll(async () => {
  for (const c of COMMANDS) {
    const r = await runCli(['check', c, '--help']);
    expect(r.code, r.stderr).toBe(0);
    helps.set(c, parseHelpFlags(r.stdout));
  }
  icinga = parseIcinga(await readFile(ICINGA_CONF, 'utf8'));
  nagios = parseNagios(await readFile(NAGIOS_CFG, 'utf8'));
  work = await mkdtemp(join(tmpdir(), 'certvigil-moncfg-'));
  // nagios4 drops to its compiled-in user (nagios) before it reads the configuration: let it in.
  await chmod(work, 0o755);
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('shipped definitions cover every flag', () => {
  it('each check command lists -V/--version and its exit statuses in --help', async () => {
    for (const c of COMMANDS) {
      const r = await runCli(['check', c, '--help']);
      expect(r.stdout, c).toMatch(/^ {2}-V, --version /m);
      expect(r.stdout, c).toMatch(/Exit status: (0 OK, 1 WARNING, 2 CRITICAL|the worst)/);
    }
  });

  it('the exclusion list names only flags that exist', () => {
    const all = new Set([...helps.values()].flat().map((f) => f.long));
    for (const flag of Object.keys(NOT_IN_DEFINITIONS)) expect(all.has(flag), flag).toBe(true);
  });

  it.each(COMMANDS)('icinga2 CheckCommand for `check %s`: every flag, and only real ones', (c) => {
    const flags = helps.get(c) ?? [];
    const toLong = longNames(flags);
    const args = icinga.get(DEFINITION[c]);
    expect(args, `object CheckCommand "${DEFINITION[c]}"`).toBeDefined();
    const covered = new Set(
      (args ?? []).filter((a) => a.flag.startsWith('-')).map((a) => toLong.get(a.flag) ?? a.flag),
    );
    const missing = flags.map((f) => f.long).filter((f) => !(f in NOT_IN_DEFINITIONS) && !covered.has(f));
    expect(missing, `flags of \`check ${c}\` without an argument in ${ICINGA_CONF}`).toEqual([]);
    const unknown = [...covered].filter((f) => !flags.some((h) => h.long === f));
    expect(unknown, 'arguments for flags the command does not have').toEqual([]);
    // Every argument is driven by a variable: a value, or set_if for a switch.
    for (const a of args ?? []) expect(a.valueVar ?? a.setIfVar, a.name).toBeDefined();
  });

  it.each(COMMANDS)('nagios command for `check %s`: every flag, and only real ones', (c) => {
    const flags = helps.get(c) ?? [];
    const line = nagios.get(DEFINITION[c]);
    expect(line, `define command ${DEFINITION[c]}`).toBeDefined();
    const toLong = longNames(flags);
    // A macro name cannot tell `_` from `-` (`--require-no-tls1_1` ↔ _CERTVIGIL_REQUIRE_NO_TLS1_1).
    const norm = (f: string): string => f.replace(/_/g, '-');
    const covered = new Set(
      [...nagiosMacroFlags(line ?? ''), ...nagiosLiteralFlags(line ?? '')].map((f) =>
        norm(toLong.get(f) ?? f),
      ),
    );
    const missing = flags
      .map((f) => f.long)
      .filter((f) => !(f in NOT_IN_DEFINITIONS) && !covered.has(norm(f)));
    expect(missing, `flags of \`check ${c}\` without a macro in ${NAGIOS_CFG}`).toEqual([]);
    const unknown = [...covered].filter((f) => !flags.some((h) => norm(h.long) === f));
    expect(unknown, 'macros for flags the command does not have').toEqual([]);
    expect(line, 'the extra-flags slot').toContain('$ARG1$');
  });

  it('the nagios template certvigil-service declares every macro of the commands, empty', async () => {
    const text = await readFile(NAGIOS_CFG, 'utf8');
    const template =
      /define service \{\s*name\s+certvigil-service\s+register\s+0\n([^}]*)\}/.exec(text)?.[1] ?? '';
    const declared = template
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const used = [
      ...new Set(
        [...nagios.values()].flatMap((line) =>
          [...line.matchAll(/\$_SERVICE(CERTVIGIL_[A-Z0-9_]+)\$/g)].map((m) => `_${m[1] ?? ''}`),
        ),
      ),
    ];
    expect([...declared].sort()).toEqual([...used].sort());
  });

  it('nagios `check mitm` has no state directory built in', () => {
    const line = nagios.get('certvigil_mitm') ?? '';
    expect(line).not.toMatch(/--state-dir\s/);
    expect(line).not.toMatch(/\/var\/lib\//);
    expect(line).toContain('$_SERVICECERTVIGIL_STATE_DIR$');
  });

  it('the docs carry no CheckCommand or command definition of their own', () => {
    const docs = readFileSync(DOCS, 'utf8');
    expect(docs).not.toMatch(/object CheckCommand/);
    expect(docs).not.toMatch(/define command/);
    expect(docs).toContain('contrib/icinga2/certvigil.conf');
    expect(docs).toContain('contrib/nagios/certvigil.cfg');
  });
});

describe('icinga2 daemon -C', () => {
  const validate = async (name: string, extra: string): Promise<{ code: number; out: string }> => {
    const dir = join(work, `icinga-${name}`);
    await mkdir(dir, { recursive: true });
    const conf = join(dir, 'icinga2.conf');
    // The docs' examples use the Monitoring Plugins' CheckCommands (hostalive): <plugins> wants PluginDir.
    await writeFile(
      conf,
      `const PluginDir = "/usr/lib/nagios/plugins"\ninclude <itl>\ninclude <plugins>\ninclude "${ICINGA_CONF}"\n${extra}\n`,
    );
    const r = await run(ICINGA2, ['daemon', '-C', '-c', conf, '-x', 'warning', ...icingaDefines(dir)]);
    return { code: r.code, out: r.stdout + r.stderr };
  };

  it('accepts the shipped CheckCommands with the docs examples and every variable set', async () => {
    const services = COMMANDS.map(
      (c, i) =>
        `object Service "all-vars-${c}" {\n  host_name = "moncfg-host"\n  check_command = "${DEFINITION[c]}"\n` +
        `${icingaVars(icinga.get(DEFINITION[c]) ?? [], '  ').join('\n')}\n  vars.unused_${i} = 1\n}`,
    );
    const examples = docBlocks('icinga2');
    expect(examples.length, 'icinga2 examples in the docs').toBeGreaterThanOrEqual(2);
    const r = await validate(
      'ok',
      [
        `object Host "moncfg-host" { check_command = "dummy"; address = "127.0.0.1" }`,
        ...services,
        ...examples,
      ].join('\n'),
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/critical\//);
  }, 60_000);

  it('and refuses a broken one (the validator is really consulted)', async () => {
    const r = await validate(
      'broken',
      'object Host "h" { check_command = "dummy" }\nobject Service "s" { host_name = "h"; check_command = "certvigil_endpoitn" }',
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/certvigil_endpoitn/);
  }, 60_000);
});

const NAGIOS_SCAFFOLD = `
define timeperiod {
    timeperiod_name 24x7
    alias           always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}
define command {
    command_name    moncfg_notify
    command_line    /bin/true
}
define contact {
    contact_name                    moncfg-admin
    host_notifications_enabled      0
    service_notifications_enabled   0
    host_notification_period        24x7
    service_notification_period     24x7
    host_notification_options       n
    service_notification_options    n
    host_notification_commands      moncfg_notify
    service_notification_commands   moncfg_notify
}
define host {
    name                  generic-host
    register              0
    max_check_attempts    3
    check_period          24x7
    notification_period   24x7
    contacts              moncfg-admin
}
define service {
    name                  generic-service
    register              0
    max_check_attempts    3
    check_interval        5
    retry_interval        1
    check_period          24x7
    notification_period   24x7
    contacts              moncfg-admin
}
define host {
    use        generic-host
    host_name  moncfg-host
    address    127.0.0.1
}
`;

describe('nagios4 -v', () => {
  const validate = async (name: string, objects: string): Promise<{ code: number; out: string }> => {
    const dir = join(work, `nagios-${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'objects.cfg'), objects);
    // Nagios (as its own user) must be able to write there, as on a real host.
    await mkdir(join(dir, 'checkresults'));
    await chmod(join(dir, 'checkresults'), 0o1777);
    const main = join(dir, 'nagios.cfg');
    await writeFile(
      main,
      [
        `cfg_file=${NAGIOS_CFG}`,
        `cfg_file=${join(dir, 'objects.cfg')}`,
        `lock_file=${join(dir, 'nagios.lock')}`,
        `temp_file=${join(dir, 'nagios.tmp')}`,
        `status_file=${join(dir, 'status.dat')}`,
        `log_file=${join(dir, 'nagios.log')}`,
        `check_result_path=${join(dir, 'checkresults')}`,
        `object_cache_file=${join(dir, 'objects.cache')}`,
        `precached_object_file=${join(dir, 'objects.precache')}`,
        // What a Debian nagios.cfg strips from output macros.
        'illegal_macro_output_chars=`~$&|\'"<>',
        '',
      ].join('\n'),
    );
    const r = await run(NAGIOS4, ['-v', main]);
    return { code: r.code, out: r.stdout + r.stderr };
  };

  it('accepts the shipped commands with the docs examples and every macro set', async () => {
    const services = COMMANDS.map((c) => {
      const line = nagios.get(DEFINITION[c]) ?? '';
      const macros = [
        ...new Set([...line.matchAll(/\$_SERVICE(CERTVIGIL_[A-Z0-9_]+)\$/g)].map((m) => m[1] ?? '')),
      ];
      return [
        'define service {',
        '    use                  certvigil-service,generic-service',
        '    host_name            moncfg-host',
        `    service_description  all macros ${c}`,
        `    check_command        ${DEFINITION[c]}!--extra`,
        ...macros.map(
          (m) => `    _${m}  --${m.slice('CERTVIGIL_'.length).toLowerCase().replace(/_/g, '-')} x`,
        ),
        '}',
      ].join('\n');
    });
    const examples = docBlocks('nagios');
    expect(examples.length, 'nagios examples in the docs').toBeGreaterThanOrEqual(1);
    const r = await validate('ok', [NAGIOS_SCAFFOLD, ...services, ...examples].join('\n'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Total Errors:\s+0/);
    expect(r.out).toMatch(/Checked 4 commands|Checked \d+ commands/);
  }, 60_000);

  it('and refuses a broken one (the validator is really consulted)', async () => {
    const r = await validate(
      'broken',
      `${NAGIOS_SCAFFOLD}\ndefine service {\n use generic-service\n host_name moncfg-host\n service_description x\n check_command certvigil_endpoitn\n}\n`,
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/certvigil_endpoitn/);
  }, 60_000);
});

/** Icinga's state file: `LEN:JSON,` records (a netstring per object). */
function readIcingaState(path: string): Map<string, Record<string, unknown>> {
  const data = readFileSync(path);
  const out = new Map<string, Record<string, unknown>>();
  let i = 0;
  while (i < data.length) {
    const colon = data.indexOf(0x3a, i);
    if (colon === -1) break;
    const len = Number(data.subarray(i, colon).toString('ascii'));
    const obj = JSON.parse(data.subarray(colon + 1, colon + 1 + len).toString('utf8')) as {
      name: string;
      update: Record<string, unknown>;
    };
    out.set(obj.name, obj.update);
    i = colon + 1 + len + 1;
  }
  return out;
}

interface IcingaCheckResult {
  command: string[];
  exit_status: number;
  state: number;
  output: string;
  performance_data: string[];
}

describe('a real Icinga 2 runs the built CLI through the shipped CheckCommands', () => {
  let server: NodeTlsServer;
  let results: Map<string, IcingaCheckResult>;

  beforeAll(async () => {
    const dir = join(work, 'icinga-run');
    await mkdir(dir, { recursive: true });
    // A CA whose name holds a pipe: in the text it must not start perfdata for Icinga.
    const ca = await TestCa.create({ commonName: 'Pipe | Test CA' });
    const leaf = ca.issue({ dnsNames: ['www.example.test'] });
    server = await startNodeTlsServer({
      chainPem: chainPem(leaf.der, leaf.chain),
      keyPem: privateKeyPem(leaf.privateKey),
    });
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, pem(ca.certificate, 'CERTIFICATE'));
    const logList = join(dir, 'loglist.json');
    await writeLogList(logList, []);
    const endpointsYaml = join(dir, 'endpoints.yaml');
    await writeFile(
      endpointsYaml,
      `logList: ${logList}\nendpoints:\n  - { target: "127.0.0.1:${server.port}", sni: www.example.test, caFile: ${caFile}, ctPolicy: none, ctProof: false, timeout: 5 }\n`,
    );
    const ran = join(dir, 'ran');
    const bin = join(dir, 'certvigil');
    await writeFile(
      bin,
      `#!/bin/sh\n"${process.execPath}" "${CLI}" "$@"\nrc=$?\nprintf '%s\\n' "$*" >> "${ran}"\nexit $rc\n`,
    );
    const echo = join(dir, 'echo-args');
    await writeFile(echo, `#!/bin/sh\nprintf '%s\\n' "$*" >> "${ran}"\necho "CERTVIGIL OK - args"\n`);
    await chmod(bin, 0o755);
    await chmod(echo, 0o755);
    const endpointVars = [
      'vars.certvigil_host = "127.0.0.1"',
      `vars.certvigil_port = ${server.port}`,
      'vars.certvigil_sni = "www.example.test"',
      `vars.certvigil_ca_file = "${caFile}"`,
      `vars.certvigil_log_list = "${logList}"`,
      'vars.certvigil_ct_policy = "none"',
      'vars.certvigil_no_ct_proof = true',
      'vars.certvigil_timeout = "5s"',
    ];
    const service = (name: string, command: string, vars: string[], binPath = bin): string =>
      `object Service "${name}" {\n  host_name = "h"\n  check_command = "${command}"\n  check_interval = 2s\n  retry_interval = 2s\n` +
      `  vars.certvigil_bin = "${binPath}"\n${vars.map((v) => `  ${v}`).join('\n')}\n}`;
    const services = [
      service('endpoint-ok', 'certvigil_endpoint', endpointVars),
      service('endpoint-pinned', 'certvigil_endpoint', [
        ...endpointVars,
        `vars.certvigil_pins = [ "${'00'.repeat(32)}", "${'11'.repeat(32)}" ]`,
        'vars.certvigil_expect_issuer = [ "Someone | Else" ]',
      ]),
      service('endpoints', 'certvigil_endpoints', [`vars.certvigil_endpoints_config = "${endpointsYaml}"`]),
      service('monitor', 'certvigil_monitor', [`vars.certvigil_state_dir = "${join(dir, 'no-state')}"`]),
      service('mitm', 'certvigil_mitm', [
        `vars.certvigil_state_dir = "${join(dir, 'no-state')}"`,
        'vars.certvigil_mitm_no_trace = true',
        'vars.certvigil_mitm_target = "127.0.0.1"',
      ]),
      ...COMMANDS.map((c) =>
        service(`all-${c}`, DEFINITION[c], icingaVars(icinga.get(DEFINITION[c]) ?? [], ''), echo),
      ),
    ];
    const conf = join(dir, 'icinga2.conf');
    await writeFile(
      conf,
      [
        'include <itl>',
        `include "${ICINGA_CONF}"`,
        'object CheckerComponent "checker" { }',
        'object Host "h" { check_command = "dummy"; address = "127.0.0.1"; enable_active_checks = false }',
        ...services,
      ].join('\n'),
    );
    const daemon = spawn(ICINGA2, ['daemon', '-c', conf, '-x', 'warning', ...icingaDefines(dir)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    daemon.stdout.on('data', (d: Buffer) => (log += d.toString()));
    daemon.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    // Every service has run once when the wrapper logged as many distinct command lines.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const lines = existsSync(ran)
        ? new Set(readFileSync(ran, 'utf8').split('\n').filter(Boolean))
        : new Set();
      if (lines.size >= services.length) break;
      if (Date.now() > deadline || daemon.exitCode !== null) {
        daemon.kill('SIGKILL');
        throw new Error(`icinga2 ran ${lines.size} of ${services.length} services: ${log}`);
      }
      await sleep(250);
    }
    await sleep(1500); // let Icinga process the last result
    daemon.kill('SIGTERM'); // a clean shutdown writes the state file
    await Promise.race([exited, sleep(20_000).then(() => daemon.kill('SIGKILL'))]);
    const state = readIcingaState(join(dir, 'icinga2.state'));
    results = new Map();
    for (const [name, update] of state) {
      const r = update.last_check_result as IcingaCheckResult | null | undefined;
      if (name.startsWith('h!') && r) results.set(name.slice(2), r);
    }
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
  });

  const get = (name: string): IcingaCheckResult => {
    const r = results.get(name);
    if (!r) throw new Error(`no check result for ${name}: ${[...results.keys()].join(', ')}`);
    return r;
  };

  it('passes every variable as its flag (switches alone, arrays repeated)', () => {
    for (const c of COMMANDS) {
      const r = get(`all-${c}`);
      const argv = r.command.slice(1);
      expect(argv.slice(0, 2)).toEqual(['check', c]);
      const flags = helps.get(c) ?? [];
      for (const f of flags) {
        if (f.long in NOT_IN_DEFINITIONS) continue;
        expect(
          argv.includes(f.long) || (f.short !== undefined && argv.includes(f.short)),
          `${c}: ${f.long} in ${argv.join(' ')}`,
        ).toBe(true);
      }
      for (const a of icinga.get(DEFINITION[c]) ?? []) {
        if (a.valueVar && a.repeat) {
          const i = argv.indexOf(`${a.valueVar}-1`);
          expect(argv.slice(i - 1, i + 3), a.name).toEqual([
            a.flag,
            `${a.valueVar}-1`,
            a.flag,
            `${a.valueVar}-2`,
          ]);
        } else if (a.valueVar && a.name !== '(target)') {
          expect(argv[argv.indexOf(a.valueVar) - 1], a.name).toBe(a.flag);
        }
      }
    }
    // The mitm target comes last, after every option.
    expect(get('all-mitm').command.at(-1)).toBe('certvigil_mitm_target');
  });

  // A good endpoint of a private CA: OK (CT is not required of it), and Icinga's state is the CLI's.
  const expectGood = (output: string): void => {
    expect(output, output).toMatch(/^CERTVIGIL OK - /);
    expect(output, output).not.toMatch(/^(CERTVIGIL CRITICAL|CERTVIGIL UNKNOWN|\[CRITICAL\]|\[UNKNOWN\])/m);
  };

  it('good endpoint: the state, status line and perfdata as Icinga parsed them', () => {
    const r = get('endpoint-ok');
    expect(r.command).toContain('--no-ct-proof');
    expectGood(r.output);
    expect(r.output).toMatch(/^CERTVIGIL \w+ - 127\.0\.0\.1:\d+/);
    expect(r.state).toBe(r.output.startsWith('CERTVIGIL OK') ? 0 : 1);
    expect(r.exit_status).toBe(r.state);
    const labels = r.performance_data.map((p) => parsePerfdata(p)[0]?.label);
    expect(labels).toEqual(expect.arrayContaining(['days', 'addresses', 'failed']));
    const days = r.performance_data.find((p) => p.startsWith('days='));
    expect(days).toMatch(/^days=\d+;20;15;0$/);
  });

  it('CRITICAL endpoint with a pipe in the issuer: state 2, the pipe does not leak into perfdata', () => {
    const r = get('endpoint-pinned');
    expect(r.command.filter((a) => a === '--pin')).toHaveLength(2);
    expect(r.state).toBe(2);
    expect(r.output).toMatch(/^CERTVIGIL CRITICAL - /);
    expect(r.output).toMatch(/pin-mismatch/);
    // Long output is kept (Icinga: everything but the perfdata), and only our labels are perfdata.
    expect(r.output.split('\n').length).toBeGreaterThan(1);
    for (const p of r.performance_data) expect(parsePerfdata(p)).toHaveLength(1);
    expect(r.performance_data.map((p) => p.split('=')[0])).toEqual(
      expect.arrayContaining(['days', 'handshake', 'addresses', 'failed']),
    );
    expect(r.performance_data.join(' ')).not.toMatch(/Test CA|Else/);
  });

  it('the guidelines parser reads the same status, text and perfdata as Icinga', async () => {
    for (const name of ['endpoint-ok', 'endpoint-pinned']) {
      const icingaResult = get(name);
      // The same argv, run directly: what Icinga parsed, read by the parser of the guidelines.
      const direct = await runCli(icingaResult.command.slice(1));
      const parsed = parsePluginOutput(direct.stdout);
      expect(parsed.status, name).toBe(['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][icingaResult.state]);
      expect(parsed.text, name).toBe(icingaResult.output.split('\n')[0]?.trimEnd());
      expect(
        parsed.perfdata.map((p) => p.label),
        name,
      ).toEqual(icingaResult.performance_data.map((p) => parsePerfdata(p)[0]?.label));
      expect(parsed.longOutput.length, name).toBe(icingaResult.output.split('\n').length - 1);
    }
  });

  it('endpoints, monitor and mitm: the states the CLI meant', () => {
    const many = get('endpoints');
    expectGood(many.output);
    expect(many.state).toBe(many.output.startsWith('CERTVIGIL OK') ? 0 : 1);
    for (const name of ['monitor', 'mitm']) {
      expect(get(name).state, name).toBe(3);
      expect(get(name).output, name).toMatch(/^CERTVIGIL UNKNOWN - /);
    }
  });
});

describe('a real Nagios 4 runs the built CLI through the shipped commands', () => {
  let server: NodeTlsServer;
  /** service description → [state id, output, perfdata, long output] as Nagios handed them on. */
  const results = new Map<string, { state: number; output: string; perfdata: string; longOutput: string }>();
  const argvs: string[][] = [];

  beforeAll(async () => {
    const dir = join(work, 'nagios-run');
    await mkdir(dir, { recursive: true });
    const ca = await TestCa.create({ commonName: 'Pipe | Nagios Test CA' });
    const leaf = ca.issue({ dnsNames: ['www.example.test'] });
    server = await startNodeTlsServer({
      chainPem: chainPem(leaf.der, leaf.chain),
      keyPem: privateKeyPem(leaf.privateKey),
    });
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, pem(ca.certificate, 'CERTIFICATE'));
    const logList = join(dir, 'loglist.json');
    await writeLogList(logList, []);
    // Nagios runs checks as its own user (nagios): its files are its own, as on a real host.
    const own = join(dir, 'nagios');
    await mkdir(join(own, 'checkresults'), { recursive: true });
    const ran = join(own, 'ran');
    const bin = join(dir, 'certvigil');
    await writeFile(
      bin,
      `#!/bin/sh\n{ printf '%s\\n' "$@"; echo ---; } >> "${ran}"\nexec "${process.execPath}" "${CLI}" "$@"\n`,
    );
    await chmod(bin, 0o755);
    const commands = (await readFile(NAGIOS_CFG, 'utf8')).replaceAll('/usr/local/bin/certvigil', bin);
    await writeFile(join(dir, 'commands.cfg'), commands);
    const endpoint = [
      `_CERTVIGIL_PORT --port ${server.port}`,
      '_CERTVIGIL_SNI --sni www.example.test',
      `_CERTVIGIL_CA_FILE --ca-file ${caFile}`,
      `_CERTVIGIL_LOG_LIST --log-list ${logList}`,
      '_CERTVIGIL_CT_POLICY --ct-policy none',
      '_CERTVIGIL_NO_CT_PROOF --no-ct-proof',
      '_CERTVIGIL_TIMEOUT --timeout 5',
    ];
    const service = (name: string, command: string, vars: string[]): string =>
      [
        'define service {',
        '    use                  certvigil-service,generic-service',
        '    host_name            moncfg-host',
        `    service_description  ${name}`,
        `    check_command        ${command}`,
        '    check_interval       2',
        '    retry_interval       2',
        '    max_check_attempts   1',
        ...vars.map((v) => `    ${v}`),
        '}',
      ].join('\n');
    const services = [
      service('endpoint-ok', 'certvigil_endpoint', endpoint),
      service('endpoint-pinned', 'certvigil_endpoint', [
        ...endpoint,
        `_CERTVIGIL_PIN --pin ${'00'.repeat(32)} --pin ${'11'.repeat(32)}`,
      ]),
      service('monitor', 'certvigil_monitor!--max-age 2h', [
        `_CERTVIGIL_STATE_DIR --state-dir ${join(dir, 'no-state')}`,
      ]),
    ];
    await writeFile(join(dir, 'objects.cfg'), [NAGIOS_SCAFFOLD, ...services].join('\n'));
    const perf = join(own, 'service-perfdata');
    await writeFile(
      join(dir, 'nagios.cfg'),
      [
        `cfg_file=${join(dir, 'commands.cfg')}`,
        `cfg_file=${join(dir, 'objects.cfg')}`,
        `lock_file=${join(own, 'nagios.lock')}`,
        `temp_file=${join(own, 'nagios.tmp')}`,
        `temp_path=${own}`,
        `status_file=${join(own, 'status.dat')}`,
        `log_file=${join(own, 'nagios.log')}`,
        `state_retention_file=${join(own, 'retention.dat')}`,
        'retain_state_information=0',
        `check_result_path=${join(own, 'checkresults')}`,
        `command_file=${join(own, 'nagios.cmd')}`,
        `query_socket=${join(own, 'nagios.qh')}`,
        // Nothing under /var/lib/nagios4: every path Nagios writes is in the work directory.
        `object_cache_file=${join(own, 'objects.cache')}`,
        `precached_object_file=${join(own, 'objects.precache')}`,
        'check_external_commands=0',
        'use_syslog=0',
        'enable_notifications=0',
        // Seconds instead of minutes: check_interval 2 is every 2 s.
        'interval_length=1',
        'max_service_check_spread=1',
        'check_result_reaper_frequency=1',
        // What a Debian nagios.cfg strips from output macros.
        'illegal_macro_output_chars=`~$&|\'"<>',
        'process_performance_data=1',
        `service_perfdata_file=${perf}`,
        'service_perfdata_file_mode=a',
        'service_perfdata_file_template=$SERVICEDESC$\t$SERVICESTATEID$\t$SERVICEOUTPUT$\t$SERVICEPERFDATA$\t$LONGSERVICEOUTPUT$',
        '',
      ].join('\n'),
    );
    execFileSync('chown', ['-R', 'nagios:nagios', own]);
    // The environment of a Nagios service: its own HOME (as systemd gives User=nagios), not ours.
    const daemon = spawn(NAGIOS4, [join(dir, 'nagios.cfg')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: own, LANG: 'C.UTF-8' },
    });
    let log = '';
    daemon.stdout.on('data', (d: Buffer) => (log += d.toString()));
    daemon.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
    const deadline = Date.now() + 45_000;
    try {
      for (;;) {
        results.clear();
        if (existsSync(perf))
          for (const line of readFileSync(perf, 'utf8').split('\n')) {
            const [name = '', state = '', output = '', perfdata = '', longOutput = ''] = line.split('\t');
            if (name !== '') results.set(name, { state: Number(state), output, perfdata, longOutput });
          }
        if (results.size >= services.length) break;
        if (Date.now() > deadline || daemon.exitCode !== null)
          throw new Error(`nagios4 reported ${results.size} of ${services.length} services: ${log}`);
        await sleep(250);
      }
    } finally {
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000).then(() => daemon.kill('SIGKILL'))]);
    }
    const text = readFileSync(ran, 'utf8');
    for (const chunk of text.split('---\n')) if (chunk.trim() !== '') argvs.push(chunk.trimEnd().split('\n'));
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('empty macros vanish: no stray `$`, the set ones arrive as flag and value', () => {
    expect(argvs.length).toBeGreaterThanOrEqual(3);
    for (const argv of argvs) {
      expect(
        argv.filter((a) => a.includes('$')),
        argv.join(' '),
      ).toEqual([]);
      expect(
        argv.filter((a) => a === ''),
        argv.join(' '),
      ).toEqual([]);
    }
    const pinned = argvs.find((a) => a.includes('--pin'));
    expect(pinned?.filter((a) => a === '--pin')).toHaveLength(2);
    expect(argvs.find((a) => a[1] === 'monitor')?.slice(-2)).toEqual(['--max-age', '2h']);
  });

  it('states, status text and perfdata as Nagios took them apart', () => {
    const ok = results.get('endpoint-ok');
    expect(ok?.output, ok?.output).toMatch(/^CERTVIGIL OK - 127\.0\.0\.1:\d+/);
    expect(ok?.state).toBe(ok?.output.startsWith('CERTVIGIL OK') ? 0 : 1);
    expect(ok?.perfdata).toMatch(/(^| )days=\d+;20;15;0( |$)/);
    const pinned = results.get('endpoint-pinned');
    expect(pinned?.state).toBe(2);
    expect(pinned?.output).toMatch(/^CERTVIGIL CRITICAL - /);
    expect(pinned?.longOutput).toMatch(/pin-mismatch/);
    // The pipe in the CA's name did not cut the text short or leak into perfdata.
    expect(parsePerfdata(pinned?.perfdata ?? '').map((p) => p.label)).toEqual(
      expect.arrayContaining(['days', 'handshake', 'addresses', 'failed']),
    );
    expect(pinned?.perfdata).not.toMatch(/Nagios Test CA/);
    const monitor = results.get('monitor');
    expect(monitor?.state).toBe(3);
    expect(monitor?.output).toMatch(/^CERTVIGIL UNKNOWN - no certvigil state at /);
  });
});

describe('plugin output follows the monitoring-plugins guidelines', () => {
  it.each([
    ['days=62;20;15;0 scts=2;;;0 handshake=0.041s;;;0', ['days', 'scts', 'handshake']],
    ["'a b'=1 'it''s'=2c;1:;~:3;0;10", ['a b', "it's"]],
    ['days=-3;20;15;0', ['days']],
  ])('parses %s', (text, labels) => {
    expect(parsePerfdata(text).map((p) => p.label)).toEqual(labels);
  });

  it.each(['days=3x', 'days=', 'a=1;2;3;4;5;6', 'x=1;abc', 'CA CERTVIGIL=1 OK'])('refuses %s', (text) => {
    expect(() => parsePerfdata(text)).toThrow();
  });
});
