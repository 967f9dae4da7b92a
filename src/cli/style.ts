/**
 * @module cli/style
 * Minimal ANSI styling that honours NO_COLOR (https://no-color.org) and only colours a TTY.
 */
export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

export function makeStyle(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const enabled =
    !noColor && (stream.isTTY === true || (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'));
  const wrap = (open: number, close: number) => (s: string) =>
    enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s;
  return {
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    bold: wrap(1, 22),
    dim: wrap(2, 22),
  };
}
