/**
 * More real STARTTLS servers for `src/probe/starttls/` (issue 14), started like those of
 * tls-daemons.ts (same work directories, watchdog, port retry):
 *
 * - MariaDB 10.11 (`mariadbd`, Debian mariadb-server): MySQL's Protocol::SSLRequest. Started on an
 *   EMPTY data directory with `--skip-grant-tables` instead of after `mariadb-install-db`: the TLS
 *   upgrade happens before any authentication, so the system tables are not needed, and the start
 *   takes well under a second instead of several (the server logs warnings about them; harmless).
 * - InspIRCd 3 (Debian inspircd) with m_ssl_gnutls and m_starttls: IRC STARTTLS (670).
 * - Dovecot 2.3 LMTP (Debian dovecot-lmtpd): RFC 2033 LHLO, STARTTLS.
 *
 * NNTP has no real server here: Debian's inn2 fails in its postinst on a machine without a fully
 * qualified host name, so test/fixtures/nntp-starttls-server.ts stands in for it.
 */
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK } from './processes.js';
import {
  DEFAULT_HOSTNAME,
  asUser,
  isRoot,
  requireBinary,
  runServer,
  systemUser,
  waitReady,
  writeKeyPair,
} from './tls-daemons.js';
import type { TlsDaemon, TlsDaemonOptions } from './tls-daemons.js';

/** MariaDB with ssl-cert/ssl-key: its Initial Handshake announces CLIENT_SSL. */
export async function startMariadb(options: TlsDaemonOptions): Promise<TlsDaemon<'mysql'>> {
  requireBinary('/usr/sbin/mariadbd', 'mariadb-server');
  const user = isRoot() ? await systemUser('mysql', 'mariadb-server') : undefined;
  return runServer('mariadb', ['mysql'] as const, async ({ workDir, ports, attempt, spawn }) => {
    const dir = join(workDir, `mariadb-${attempt}`);
    await mkdir(join(dir, 'data'), { recursive: true });
    const { cert, key } = await writeKeyPair(dir, options, user);
    if (user !== undefined) {
      await chown(dir, user.uid, user.gid);
      await chown(join(dir, 'data'), user.uid, user.gid);
    }
    const [command, args] = asUser(user, '/usr/sbin/mariadbd', [
      '--no-defaults',
      `--datadir=${join(dir, 'data')}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--port=${ports.mysql}`,
      `--bind-address=${LOOPBACK}`,
      '--skip-grant-tables',
      '--skip-name-resolve',
      '--innodb=OFF',
      '--default-storage-engine=MyISAM',
      '--skip-log-bin',
      `--ssl-cert=${cert}`,
      `--ssl-key=${key}`,
      `--log-error=${join(dir, 'error.log')}`,
    ]);
    const daemon = spawn('mariadbd', command, args);
    const log = (): string => {
      try {
        return readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    };
    await waitReady(
      daemon,
      [ports.mysql],
      () => log().includes('ready for connections'),
      () => (/Can't start server: Bind on TCP\/IP port/.test(log()) ? 'port taken' : undefined),
    );
  });
}

/** InspIRCd 3 on a plain client port with STARTTLS (m_starttls over m_ssl_gnutls). */
export async function startInspircd(options: TlsDaemonOptions): Promise<TlsDaemon<'irc'>> {
  requireBinary('/usr/sbin/inspircd', 'inspircd');
  requireBinary('/usr/lib/inspircd/modules/m_starttls.so', 'inspircd');
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  return runServer('inspircd', ['irc'] as const, async ({ workDir, ports, attempt, spawn }) => {
    const dir = join(workDir, `inspircd-${attempt}`);
    await mkdir(dir, { recursive: true });
    const { cert, key } = await writeKeyPair(dir, options);
    const config = `
<server name="${hostname}" description="certvigil test" network="Test">
<admin name="test" nick="test" email="test@example.test">
<bind address="${LOOPBACK}" port="${ports.irc}" type="clients">
<connect allow="*" timeout="60" pingfreq="120" localmax="100" globalmax="100" maxconnwarn="off">
<module name="ssl_gnutls">
<module name="starttls">
<sslprofile name="Clients" provider="gnutls" certfile="${cert}" keyfile="${key}" dhfile="" hash="sha256">
<starttls provider="Clients">
<pid file="${join(dir, 'inspircd.pid')}">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${join(dir, 'inspircd.log')}">
`;
    const file = join(dir, 'inspircd.conf');
    await writeFile(file, config);
    const daemon = spawn('inspircd', '/usr/sbin/inspircd', [
      '--nofork',
      '--config',
      file,
      ...(isRoot() ? ['--runasroot'] : []),
    ]);
    await waitReady(daemon, [ports.irc]);
  });
}

/** Dovecot's LMTP service with `ssl = yes`: LHLO lists STARTTLS. */
export async function startDovecotLmtp(options: TlsDaemonOptions): Promise<TlsDaemon<'lmtp'>> {
  requireBinary('/usr/sbin/dovecot', 'dovecot-core');
  requireBinary('/usr/lib/dovecot/lmtp', 'dovecot-lmtpd');
  return runServer('dovecot-lmtp', ['lmtp'] as const, async ({ workDir, ports, attempt, spawn }) => {
    const dir = join(workDir, `dovecot-${attempt}`);
    await mkdir(join(dir, 'run'), { recursive: true, mode: 0o755 });
    await mkdir(join(dir, 'state'), { recursive: true });
    await mkdir(join(dir, 'home'), { recursive: true });
    const { cert, key } = await writeKeyPair(dir, options);
    await writeFile(join(dir, 'passwd'), 'probe:{PLAIN}probe\n', { mode: 0o600 });
    const config = `
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = certvigil-lmtp-${attempt}
protocols = lmtp
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
service lmtp {
  inet_listener lmtp {
    address = ${LOOPBACK}
    port = ${ports.lmtp}
  }
  unix_listener lmtp {
    mode = 0600
  }
}
`;
    const file = join(dir, 'dovecot.conf');
    await writeFile(file, config);
    const daemon = spawn('dovecot', '/usr/sbin/dovecot', ['-F', '-c', file]);
    await waitReady(daemon, [ports.lmtp]);
  });
}
