/**
 * A reader of plugin output as Nagios and Icinga take it apart, written to the Monitoring Plugins
 * Development Guidelines ("Plugin Output", "Performance data"): the first line is the status text,
 * up to the first `|`; after it the perfdata of the first line; further lines are long output,
 * whose own `|` starts more perfdata (Nagios 3+ "multiline" output). Perfdata is space-separated
 * `'label'=value[UOM];[warn];[crit];[min];[max]`, the label quoted with `'` when it holds spaces
 * or `=`, `''` for a quote inside it; value and the four thresholds are numbers ([-0-9.]) or empty,
 * UOM one of none, s ms us %, B KB MB TB, c. Anything else is a parse error, not a guess.
 */

export interface ParsedPerf {
  label: string;
  value: number;
  uom: string;
  warn: string;
  crit: string;
  min: string;
  max: string;
}

export interface ParsedPluginOutput {
  status: string;
  text: string;
  longOutput: string[];
  perfdata: ParsedPerf[];
}

const UOM = /^(?:|s|ms|us|%|B|KB|MB|TB|c)$/;
const NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)$/;
/** A threshold: a plain number or a Nagios range (`10`, `10:`, `~:10`, `10:20`, `@10:20`). */
const RANGE = /^(?:@?(?:~|-?\d+(?:\.\d+)?)?:?(?:-?\d+(?:\.\d+)?)?)$/;

export function parsePerfdata(text: string): ParsedPerf[] {
  const out: ParsedPerf[] = [];
  let rest = text.trim();
  while (rest !== '') {
    let label: string;
    if (rest.startsWith("'")) {
      const m = /^'((?:[^']|'')*)'=/.exec(rest);
      if (!m) throw new Error(`bad quoted perfdata label in ${JSON.stringify(rest)}`);
      label = (m[1] ?? '').replace(/''/g, "'");
      rest = rest.slice(m[0].length);
    } else {
      const m = /^([^\s='][^\s=]*)=/.exec(rest);
      if (!m) throw new Error(`bad perfdata label in ${JSON.stringify(rest)}`);
      label = m[1] ?? '';
      rest = rest.slice(m[0].length);
    }
    const end = rest.search(/\s/);
    const token = end === -1 ? rest : rest.slice(0, end);
    rest = end === -1 ? '' : rest.slice(end).trimStart();
    const [valueUom = '', warn = '', crit = '', min = '', max = '', ...extra] = token.split(';');
    if (extra.length > 0) throw new Error(`perfdata ${label}: more than five fields`);
    const m = /^(-?[\d.]+)(.*)$/.exec(valueUom);
    if (!m || !NUMBER.test(m[1] ?? ''))
      throw new Error(`perfdata ${label}: value ${JSON.stringify(valueUom)}`);
    const uom = m[2] ?? '';
    if (!UOM.test(uom)) throw new Error(`perfdata ${label}: unit ${JSON.stringify(uom)}`);
    for (const [name, t] of [
      ['warn', warn],
      ['crit', crit],
    ] as const)
      if (!RANGE.test(t)) throw new Error(`perfdata ${label}: ${name} ${JSON.stringify(t)}`);
    for (const [name, t] of [
      ['min', min],
      ['max', max],
    ] as const)
      if (t !== '' && !NUMBER.test(t)) throw new Error(`perfdata ${label}: ${name} ${JSON.stringify(t)}`);
    out.push({ label, value: Number(m[1]), uom, warn, crit, min, max });
  }
  return out;
}

export function parsePluginOutput(stdout: string, prefix = 'CERTVIGIL'): ParsedPluginOutput {
  const lines = stdout.replace(/\n$/, '').split('\n');
  const first = lines[0] ?? '';
  const bar = first.indexOf('|');
  const text = (bar === -1 ? first : first.slice(0, bar)).trimEnd();
  const m = new RegExp(`^${prefix} (OK|WARNING|CRITICAL|UNKNOWN) - \\S`).exec(text);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(first)}`);
  const perfdata = bar === -1 ? [] : parsePerfdata(first.slice(bar + 1));
  const longOutput: string[] = [];
  let inPerf = false;
  for (const line of lines.slice(1)) {
    if (inPerf) {
      perfdata.push(...parsePerfdata(line));
      continue;
    }
    const b = line.indexOf('|');
    if (b === -1) longOutput.push(line);
    else {
      longOutput.push(line.slice(0, b));
      perfdata.push(...parsePerfdata(line.slice(b + 1)));
      inPerf = true;
    }
  }
  return { status: m[1] ?? '', text, longOutput, perfdata };
}
