/**
 * @module probe/deadline
 * Bounds one phase of a check by an absolute deadline (ms since the epoch). `-t` is a promise to the
 * monitoring system that the plugin prints a status line in time; a phase that has not answered by
 * then yields its fallback (a finding about itself) instead of holding the plugin past `-t`.
 */

/** `work` or, when it has not settled by `deadline`, `fallback()`: a phase never outlives `-t`. */
export async function byDeadline<T>(work: Promise<T>, deadline: number, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
