/**
 * @module cli/state-options
 * Where the monitor's state lives, as flags: `--config`, `--state-dir`, `--database`, and the
 * default state directory. Kept apart from `monitor-setup` (which opens stores and loads the
 * config, pulling in YAML, zod and the notifiers) so that commands register these flags without
 * loading any of that: a plugin run every few minutes pays only for what it uses.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Command } from 'commander';

/**
 * `$XDG_STATE_HOME/certvigil` or `~/.local/state/certvigil`. Whoever creates it creates it 0700
 * (`state-files.ensureStateDir`); a relative `$XDG_STATE_HOME` is ignored, as the XDG spec says.
 */
export function defaultStateDir(): string {
  const xdg = process.env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'certvigil');
}

export function addStateOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'YAML configuration file (flags override it)')
    .option('--state-dir <dir>', `where the monitor keeps its state (default ${defaultStateDir()})`)
    .option('--database <url>', 'postgres:// URL: keep the state in PostgreSQL instead of SQLite');
}
