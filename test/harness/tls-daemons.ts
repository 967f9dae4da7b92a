/**
 * Real servers that offer STARTTLS on loopback ports, for the tests of `src/probe/starttls.ts`:
 * the dialogues are checked against the implementations that speak them in the wild, not only
 * against our own reading of the RFCs.
 *
 * - Postfix 3.7 (SMTP, RFC 3207, and the submission service, RFC 6409): a private instance with its
 *   own config_directory, queue_directory and data_directory, `master -d -c DIR` in the foreground.
 * - Dovecot 2.3 (IMAP RFC 9051, POP3 RFC 2595, ManageSieve RFC 5804): `dovecot -F -c FILE`.
 * - Prosody 0.12 (XMPP c2s and s2s, RFC 6120 §5): `prosody -F --config FILE`.
 * - OpenLDAP slapd (StartTLS extended operation, RFC 4511 §4.14): `slapd -d 0 -h URL -f FILE`.
 * - vsftpd 3 (AUTH TLS, RFC 4217): `vsftpd FILE` with `background=NO`.
 * - PostgreSQL 15 (SSLRequest): its own initdb cluster with `ssl=on` (test/harness/postgres.ts
 *   has no hook for server settings, so this file starts its own cluster in the same way).
 *
 * Each server gets a fresh temporary work directory holding its configuration, the certificate
 * chain and key it was given (PEM strings), and all its state; it runs in the foreground as our
 * child (`Daemon`), on free 127.0.0.1 ports (retried when a port was taken meanwhile), and `stop()`
 * (or the exit handlers and watchdog of processes.ts, if the test process dies) kills it and
 * removes the directory. The system services of these packages are never used or needed.
 *
 * Debian 12 packages: postfix, dovecot-imapd, dovecot-pop3d, dovecot-managesieved, prosody, slapd,
 * vsftpd, postgresql (ldap-utils is handy for debugging only). Postfix's master must run as root;
 * Prosody and PostgreSQL refuse root, so as root they run as their package's system user (via
 * `setpriv`, which execs in place) and get their files chowned. CI runs the tests as root.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Daemon,
  LOOPBACK,
  Watchdog,
  findFreePort,
  installExitHandlers,
  processesMentioning,
  runTool,
  trackWorkDir,
  untrackWorkDir,
} from './processes.js';

/** The certificate chain (leaf first) and private key a server presents, as PEM text. */
export interface TlsDaemonOptions {
  certPem: string;
  keyPem: string;
  /** The server's host name (Postfix myhostname, Prosody VirtualHost). Default mail.example.test. */
  hostname?: string;
}

export interface TlsDaemon<P extends string> {
  ports: Record<P, number>;
  workDir: string;
  /** Output of the daemon(s), for assertion messages. */
  describeLogs(): string;
  /** Stops the daemon(s) and removes workDir. Safe to call twice. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
export const DEFAULT_HOSTNAME = 'mail.example.test';

/** Whether a TCP connection to the port succeeds right now. */
async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export class DaemonStartError extends Error {
  constructor(
    message: string,
    /** The daemon exited during start-up: maybe it lost a race for a port; worth a retry. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DaemonStartError';
  }
}

interface UserIds {
  uid: number;
  gid: number;
}

export async function systemUser(name: string, packageName: string): Promise<UserIds> {
  try {
    const uid = Number((await runTool('id', ['-u', name], tmpdir())).trim());
    const gid = Number((await runTool('id', ['-g', name], tmpdir())).trim());
    return { uid, gid };
  } catch (cause) {
    throw new Error(`no \`${name}\` system user: install the Debian package ${packageName}`, { cause });
  }
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** `command args` run as `user` when we are root (setpriv execs in place: the PID stays the server's). */
export function asUser(user: UserIds | undefined, command: string, args: string[]): [string, string[]] {
  if (user === undefined) return [command, args];
  return [
    'setpriv',
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--reset-env', '--', command, ...args],
  ];
}

export function requireBinary(path: string, packageName: string): void {
  if (!existsSync(path)) throw new Error(`${path} not found: install the Debian package ${packageName}`);
}

/** Distinct free loopback ports, one per name. */
async function freePorts<P extends string>(names: readonly P[]): Promise<Record<P, number>> {
  const taken = new Set<number>();
  const ports = {} as Record<P, number>;
  for (const name of names) {
    let port = await findFreePort();
    while (taken.has(port)) port = await findFreePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}

/**
 * The life of one server: a work directory, a watchdog, daemons, and a `stop()` that undoes it
 * all. `start` is retried with fresh ports when the daemon exits during start-up.
 */
export async function runServer<P extends string>(
  prefix: string,
  portNames: readonly P[],
  start: (ctx: {
    workDir: string;
    ports: Record<P, number>;
    attempt: number;
    spawn: (name: string, command: string, args: string[]) => Daemon;
  }) => Promise<void>,
  shutdown: (daemon: Daemon) => Promise<void> = (daemon) => daemon.stop(),
): Promise<TlsDaemon<P>> {
  installExitHandlers();
  const workDir = await mkdtemp(join(tmpdir(), `certvigil-${prefix}-`));
  trackWorkDir(workDir);
  // Daemons that drop privileges (Postfix, Dovecot's login processes, Prosody, PostgreSQL) must be
  // able to walk into it.
  await chmod(workDir, 0o755);
  const watchdog = new Watchdog(workDir);
  const daemons: Daemon[] = [];
  let stopped: Promise<void> | undefined;
  const describeLogs = (): string => daemons.map((d) => d.describeLogs()).join('\n');
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await watchdog.release();
      await Promise.all(daemons.map(shutdown));
      // Per-connection children that outlive their parent (vsftpd) still mention the config path.
      for (const pid of processesMentioning(workDir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rm(workDir, { recursive: true, force: true });
      untrackWorkDir(workDir);
    })());

  try {
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(portNames);
      const spawn = (name: string, command: string, args: string[]): Daemon => {
        const daemon = new Daemon(name, command, args, workDir, join(workDir, `${name}-${attempt}.out`));
        daemons.push(daemon);
        if (daemon.pid > 0) watchdog.watch(daemon.pid);
        return daemon;
      };
      try {
        await start({ workDir, ports, attempt, spawn });
        return { ports, workDir, describeLogs, stop };
      } catch (err) {
        await Promise.all(daemons.map(shutdown));
        if (attempt >= 3 || !(err instanceof DaemonStartError && err.retryable)) throw err;
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Waits until every port accepts connections (and `ready`, if given, agrees). A daemon that exits
 * first fails the start (retryably: it may have lost a port race).
 */
export async function waitReady(
  daemon: Daemon,
  ports: number[],
  ready: () => boolean = () => true,
  failed: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (daemon.running && Date.now() < deadline) {
    const failure = failed();
    if (failure !== undefined)
      throw new DaemonStartError(`${daemon.name}: ${failure}\n${daemon.describeLogs()}`, true);
    if (ready()) {
      const results = await Promise.all(ports.map(accepts));
      if (results.every(Boolean)) return;
    }
    await sleep(50);
  }
  const exited = !daemon.running;
  const info = exited ? await daemon.exited : undefined;
  throw new DaemonStartError(
    `${daemon.name} ${
      exited
        ? `exited during start-up (code ${String(info?.code)}, signal ${String(info?.signal)})`
        : `did not accept connections on ${ports.join(', ')} within ${READY_TIMEOUT_MS} ms`
    }\n${daemon.describeLogs()}`,
    exited,
  );
}

export async function writeKeyPair(
  dir: string,
  options: TlsDaemonOptions,
  owner?: UserIds,
): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await writeFile(cert, options.certPem, { mode: 0o644 });
  await writeFile(key, options.keyPem, { mode: 0o600 });
  if (owner !== undefined) {
    await chown(cert, owner.uid, owner.gid);
    await chown(key, owner.uid, owner.gid);
  }
  return { cert, key };
}

// ---------------------------------------------------------------------------------------------
// Postfix

const POSTFIX_MASTER = '/usr/lib/postfix/sbin/master';

/**
 * Postfix: SMTP on `smtp` (STARTTLS offered, `smtpd_tls_security_level = may`) and the submission
 * service on `submission` (TLS required before anything else, as RFC 8314 §3.3 recommends).
 */
export async function startSmtpDaemon(options: TlsDaemonOptions): Promise<TlsDaemon<'smtp' | 'submission'>> {
  requireBinary(POSTFIX_MASTER, 'postfix');
  if (!isRoot())
    throw new Error("Postfix's master daemon must run as root; run these tests as root (CI does)");
  const postfixUser = await systemUser('postfix', 'postfix');
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  return runServer('postfix', ['smtp', 'submission'] as const, async ({ workDir, ports, attempt, spawn }) => {
    const configDir = join(workDir, `etc-${attempt}`);
    const queueDir = join(workDir, `queue-${attempt}`);
    const dataDir = join(workDir, `data-${attempt}`);
    await mkdir(configDir);
    await mkdir(queueDir, { mode: 0o755 });
    await mkdir(dataDir, { mode: 0o700 });
    await chown(dataDir, postfixUser.uid, postfixUser.gid);
    const { cert, key } = await writeKeyPair(configDir, options);
    const mainCf = [
      'compatibility_level = 3.6',
      `queue_directory = ${queueDir}`,
      `data_directory = ${dataDir}`,
      // postfix-files (what `postfix check` creates in the queue) comes from the package.
      'meta_directory = /etc/postfix',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      `myhostname = ${hostname}`,
      'mydestination =',
      'mynetworks = 127.0.0.0/8',
      'alias_maps =',
      'alias_database =',
      'biff = no',
      // Logs go to the daemon's captured output (postlogd), not to a syslog that may not exist.
      'maillog_file = /dev/stdout',
      `smtpd_tls_chain_files = ${key}, ${cert}`,
      'smtpd_tls_security_level = may',
      'smtpd_tls_loglevel = 1',
      '',
    ].join('\n');
    const masterCf = [
      `${LOOPBACK}:${ports.smtp} inet n - n - - smtpd`,
      `${LOOPBACK}:${ports.submission} inet n - n - - smtpd -o syslog_name=postfix/submission` +
        ' -o smtpd_tls_security_level=encrypt',
      'pickup unix n - n 60 1 pickup',
      'cleanup unix n - n - 0 cleanup',
      'qmgr unix n - n 300 1 qmgr',
      'tlsmgr unix - - n 1000? 1 tlsmgr',
      'rewrite unix - - n - - trivial-rewrite',
      'bounce unix - - n - 0 bounce',
      'defer unix - - n - 0 bounce',
      'trace unix - - n - 0 bounce',
      'verify unix - - n - 1 verify',
      'flush unix n - n 1000? 0 flush',
      'proxymap unix - - n - - proxymap',
      'smtp unix - - n - - smtp',
      'relay unix - - n - - smtp',
      'showq unix n - n - - showq',
      'error unix - - n - - error',
      'retry unix - - n - - error',
      'discard unix - - n - - discard',
      'local unix - n n - - local',
      'anvil unix - - n - 1 anvil',
      'scache unix - - n - 1 scache',
      'postlog unix-dgram n - n - 1 postlogd',
      '',
    ].join('\n');
    await writeFile(join(configDir, 'main.cf'), mainCf);
    await writeFile(join(configDir, 'master.cf'), masterCf);
    // Creates the queue's subdirectories with the owners and modes Postfix insists on.
    await runTool('/usr/sbin/postfix', ['-c', configDir, 'check'], workDir);
    const daemon = spawn('postfix', POSTFIX_MASTER, ['-d', '-c', configDir]);
    await waitReady(daemon, [ports.smtp, ports.submission]);
  });
}

// ---------------------------------------------------------------------------------------------
// Dovecot

/** Dovecot: IMAP, POP3 and ManageSieve, each offering STARTTLS (`ssl = yes`). */
export async function startDovecot(options: TlsDaemonOptions): Promise<TlsDaemon<'imap' | 'pop3' | 'sieve'>> {
  requireBinary('/usr/sbin/dovecot', 'dovecot-imapd dovecot-pop3d dovecot-managesieved');
  for (const [binary, pkg] of [
    ['/usr/lib/dovecot/imap-login', 'dovecot-imapd'],
    ['/usr/lib/dovecot/pop3-login', 'dovecot-pop3d'],
    ['/usr/lib/dovecot/managesieve-login', 'dovecot-managesieved'],
  ] as const)
    requireBinary(binary, pkg);
  return runServer(
    'dovecot',
    ['imap', 'pop3', 'sieve'] as const,
    async ({ workDir, ports, attempt, spawn }) => {
      const dir = join(workDir, `dovecot-${attempt}`);
      await mkdir(join(dir, 'run'), { recursive: true, mode: 0o755 });
      await mkdir(join(dir, 'state'), { recursive: true });
      await mkdir(join(dir, 'home'), { recursive: true });
      const { cert, key } = await writeKeyPair(dir, options);
      // Nobody logs in; Dovecot only wants some passdb and userdb to start.
      await writeFile(join(dir, 'passwd'), 'probe:{PLAIN}probe\n', { mode: 0o600 });
      const config = `
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = certvigil-${attempt}
protocols = imap pop3 sieve
listen = ${LOOPBACK}
ssl = yes
ssl_cert = <${cert}
ssl_key = <${key}
log_path = /dev/stderr
mail_location = maildir:${dir}/home/Maildir
passdb {
  driver = passwd-file
  args = ${dir}/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home
}
service imap-login {
  inet_listener imap {
    address = ${LOOPBACK}
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = ${LOOPBACK}
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = 0
  }
}
service managesieve-login {
  inet_listener sieve {
    address = ${LOOPBACK}
    port = ${ports.sieve}
  }
}
`;
      const file = join(dir, 'dovecot.conf');
      await writeFile(file, config);
      const daemon = spawn('dovecot', '/usr/sbin/dovecot', ['-F', '-c', file]);
      await waitReady(daemon, [ports.imap, ports.pop3, ports.sieve]);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Prosody

/** Prosody: XMPP client-to-server and server-to-server, STARTTLS offered (and required) on both. */
export async function startProsody(options: TlsDaemonOptions): Promise<TlsDaemon<'xmpp' | 'xmppServer'>> {
  requireBinary('/usr/bin/prosody', 'prosody');
  const user = isRoot() ? await systemUser('prosody', 'prosody') : undefined;
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  return runServer('prosody', ['xmpp', 'xmppServer'] as const, async ({ workDir, ports, attempt, spawn }) => {
    const dir = join(workDir, `prosody-${attempt}`);
    await mkdir(join(dir, 'data'), { recursive: true });
    await mkdir(join(dir, 'certs'), { recursive: true });
    const { cert, key } = await writeKeyPair(dir, options, user);
    const lua = (value: string): string => JSON.stringify(value);
    const ssl = `{ certificate = ${lua(cert)}, key = ${lua(key)} }`;
    const config = `
pidfile = ${lua(join(dir, 'prosody.pid'))}
data_path = ${lua(join(dir, 'data'))}
certificates = ${lua(join(dir, 'certs'))}
interfaces = { ${lua(LOOPBACK)} }
local_interfaces = { ${lua(LOOPBACK)} }
c2s_ports = { ${ports.xmpp} }
s2s_ports = { ${ports.xmppServer} }
c2s_direct_tls_ports = {}
s2s_direct_tls_ports = {}
legacy_ssl_ports = {}
http_ports = {}
https_ports = {}
component_ports = {}
log = { { levels = { min = "info" }, to = "console" } }
modules_enabled = { "tls", "saslauth", "dialback", "disco", "ping" }
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_hashed"
storage = "internal"
ssl = ${ssl}
VirtualHost ${lua(hostname)}
  ssl = ${ssl}
`;
    const file = join(dir, 'prosody.cfg.lua');
    await writeFile(file, config);
    if (user !== undefined) {
      for (const path of [dir, join(dir, 'data'), join(dir, 'certs'), file])
        await chown(path, user.uid, user.gid);
    }
    const [command, args] = asUser(user, '/usr/bin/prosody', ['-F', '--config', file]);
    const daemon = spawn('prosody', command, args);
    // Prosody keeps running when it cannot open a port; its log says so.
    const log = (): string => {
      try {
        return readFileSync(daemon.outputFile, 'utf8');
      } catch {
        return '';
      }
    };
    await waitReady(
      daemon,
      [ports.xmpp, ports.xmppServer],
      () =>
        log().includes(`Activated service 'c2s' on [${LOOPBACK}]:${ports.xmpp}`) &&
        log().includes(`Activated service 's2s' on [${LOOPBACK}]:${ports.xmppServer}`),
      () => (/Failed to open server port/i.test(log()) ? 'could not open a port' : undefined),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// slapd

/** OpenLDAP slapd with an empty mdb database and TLS configured: answers StartTLS. */
export async function startSlapd(options: TlsDaemonOptions): Promise<TlsDaemon<'ldap'>> {
  requireBinary('/usr/sbin/slapd', 'slapd');
  return runServer('slapd', ['ldap'] as const, async ({ workDir, ports, attempt, spawn }) => {
    const dir = join(workDir, `slapd-${attempt}`);
    await mkdir(join(dir, 'db'), { recursive: true });
    const { cert, key } = await writeKeyPair(dir, options);
    const config = [
      'include /etc/ldap/schema/core.schema',
      `pidfile ${dir}/slapd.pid`,
      `argsfile ${dir}/slapd.args`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `TLSCertificateFile ${cert}`,
      `TLSCertificateKeyFile ${key}`,
      'database mdb',
      'maxsize 10485760',
      'suffix "dc=example,dc=test"',
      'rootdn "cn=admin,dc=example,dc=test"',
      `directory ${dir}/db`,
      '',
    ].join('\n');
    const file = join(dir, 'slapd.conf');
    await writeFile(file, config);
    // -d: stay in the foreground. slapd exits (silently at -d 0) when it cannot bind: retried.
    const daemon = spawn('slapd', '/usr/sbin/slapd', [
      '-d',
      '0',
      '-h',
      `ldap://${LOOPBACK}:${ports.ldap}/`,
      '-f',
      file,
    ]);
    await waitReady(daemon, [ports.ldap]);
  });
}

// ---------------------------------------------------------------------------------------------
// vsftpd

/** vsftpd with `ssl_enable=YES`: answers AUTH TLS with 234. */
export async function startVsftpd(options: TlsDaemonOptions): Promise<TlsDaemon<'ftp'>> {
  requireBinary('/usr/sbin/vsftpd', 'vsftpd');
  return runServer('vsftpd', ['ftp'] as const, async ({ workDir, ports, attempt, spawn }) => {
    const dir = join(workDir, `vsftpd-${attempt}`);
    await mkdir(join(dir, 'empty'), { recursive: true, mode: 0o755 });
    const { cert, key } = await writeKeyPair(dir, options);
    const config = [
      'listen=YES',
      'listen_ipv6=NO',
      `listen_address=${LOOPBACK}`,
      `listen_port=${ports.ftp}`,
      'background=NO',
      // vsftpd refuses to start with both kinds of login disabled; nobody logs in anyway.
      'anonymous_enable=NO',
      'local_enable=YES',
      'ssl_enable=YES',
      `rsa_cert_file=${cert}`,
      `rsa_private_key_file=${key}`,
      `secure_chroot_dir=${dir}/empty`,
      'xferlog_enable=NO',
      `vsftpd_log_file=${dir}/vsftpd.log`,
      '',
    ].join('\n');
    const file = join(dir, 'vsftpd.conf');
    await writeFile(file, config, { mode: 0o600 });
    const daemon = spawn('vsftpd', '/usr/sbin/vsftpd', [file]);
    await waitReady(daemon, [ports.ftp]);
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  throw new Error('PostgreSQL server binaries not found: install the Debian package postgresql');
}

/** SIGINT is PostgreSQL's fast shutdown. */
async function stopPostgres(daemon: Daemon): Promise<void> {
  if (!daemon.running) return;
  daemon.child.kill('SIGINT');
  const exited = await Promise.race([daemon.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!exited) await daemon.stop(1_000);
}

/**
 * PostgreSQL with `ssl=on`: answers SSLRequest with 'S'. The key file must be owned by the server's
 * user with mode 0600, which is why the pair is written into the cluster's own directory.
 */
export async function startPostgresTls(options: TlsDaemonOptions): Promise<TlsDaemon<'postgres'>> {
  const binDir = postgresBinDir();
  const user = isRoot() ? await systemUser('postgres', 'postgresql') : undefined;
  return runServer(
    'pgtls',
    ['postgres'] as const,
    async ({ workDir, ports, attempt, spawn }) => {
      const dir = join(workDir, `pg-${attempt}`);
      await mkdir(join(dir, 'sock'), { recursive: true });
      if (user !== undefined) {
        await chown(dir, user.uid, user.gid);
        await chown(join(dir, 'sock'), user.uid, user.gid);
      }
      const data = join(dir, 'data');
      const [initdb, initArgs] = asUser(user, join(binDir, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        '--auth=trust',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
      ]);
      await runTool(initdb, initArgs, workDir);
      const { cert, key } = await writeKeyPair(dir, options, user);
      const [command, args] = asUser(user, join(binDir, 'postgres'), [
        '-D',
        data,
        '-p',
        String(ports.postgres),
        '-c',
        `listen_addresses=${LOOPBACK}`,
        '-c',
        `unix_socket_directories=${join(dir, 'sock')}`,
        '-c',
        'ssl=on',
        '-c',
        `ssl_cert_file=${cert}`,
        '-c',
        `ssl_key_file=${key}`,
        '-c',
        'fsync=off',
        '-c',
        'shared_buffers=16MB',
        '-c',
        'max_connections=20',
        '-c',
        'logging_collector=off',
      ]);
      const daemon = spawn('postgres', command, args);
      await waitReady(daemon, [ports.postgres]);
    },
    stopPostgres,
  );
}
