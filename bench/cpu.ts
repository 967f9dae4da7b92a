/**
 * CPU time of finished child processes, for benchmarks that compare whole programs: a child's
 * user + system time (and that of its own reaped children: check_ssl_cert's openssl, curl …)
 * counts once the child has been waited for, as `execFile` does before its callback.
 */
import { readFileSync } from 'node:fs';

/** cutime + cstime of this process so far, in ms, from /proc/self/stat (Linux; 0 elsewhere). */
export function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the parenthesised command name start at field 3 (state): cutime and cstime
    // are fields 16 and 17 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}
