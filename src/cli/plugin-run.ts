/**
 * @module cli/plugin-run
 * The frame of a `check` plugin that decides one verdict (`check monitor`, `check internal`): print
 * it in the Nagios plugin format (or one JSON object with `--json`) and exit with its status; a
 * coded error (ours, or an environment error such as ENOENT) is one `CERTVIGIL UNKNOWN - …` line
 * and exit 3 (Nagios plugin guidelines); an uncoded one is a bug and propagates.
 */
import { hasErrorCode } from '../errors.js';
import { formatPluginOutput, PLUGIN_EXIT, safeJson, unknownStatusLine } from '../probe/index.js';
import type { Finding, PerfDatum, PluginStatus } from '../probe/index.js';
import { EXIT } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import { writeLine } from './flags.js';

export interface PluginVerdict {
  status: PluginStatus;
  summary: string;
  findings: readonly Finding[];
  perfdata: readonly PerfDatum[];
}

/** What a plugin's body decided, and what `--json` adds to the verdict (e.g. the report read). */
export interface PluginOutcome {
  verdict: PluginVerdict;
  extra: Record<string, unknown>;
}

export async function runVerdictPlugin(
  ctx: { setExit(code: ExitCode): void },
  json: boolean | undefined,
  body: () => Promise<PluginOutcome>,
): Promise<void> {
  try {
    const { verdict: v, extra } = await body();
    if (json) await writeLine(safeJson({ ...v, ...extra }));
    else process.stdout.write(formatPluginOutput(v.status, v.summary, v.findings, v.perfdata));
    ctx.setExit(PLUGIN_EXIT[v.status] as ExitCode);
  } catch (e) {
    if (!hasErrorCode(e)) throw e;
    process.stdout.write(unknownStatusLine(e.message));
    ctx.setExit(EXIT.UNKNOWN);
  }
}
