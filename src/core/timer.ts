/**
 * The longest delay `setTimeout` honours (2^31 − 1 ms, about 24.8 days). Node fires a longer
 * one after 1 ms, with a TimeoutOverflowWarning, and an interval then repeats every 1 ms.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Node's timers count from a millisecond-truncated loop clock, so one may fire up to this much
 * before its due time on the {@link now} clock; within it, a timer has fired on time.
 */
export const TIMER_SLACK_MS = 1;

/**
 * A delay `setTimeout` honours: rounded up to whole milliseconds (Node truncates, which would
 * fire a deadline before it is due), at least 0, at most {@link MAX_TIMER_DELAY_MS}. NaN is 0.
 * A wait longer than the cap ends early by design: whoever armed it checks the time when it
 * fires and arms again for what is left.
 */
export function capDelay(delayMs: number): number {
  if (delayMs >= MAX_TIMER_DELAY_MS) return MAX_TIMER_DELAY_MS;
  return delayMs > 0 ? Math.ceil(delayMs) : 0;
}

/**
 * The one `setTimeout` of the library (a lint rule keeps it so): fires `callback(arg)` after
 * {@link capDelay}`(delayMs)`. The callback of a wait that may exceed the cap must compare the
 * clock with its due time and arm again.
 */
export function startTimer(callback: () => void, delayMs: number): ReturnType<typeof setTimeout>;
export function startTimer<T>(
  callback: (arg: T) => void,
  delayMs: number,
  arg: T,
): ReturnType<typeof setTimeout>;
export function startTimer<T>(
  callback: (arg?: T) => void,
  delayMs: number,
  arg?: T,
): ReturnType<typeof setTimeout> {
  return setTimeout(callback, capDelay(delayMs), arg);
}

/** The one `setInterval` of the library: every {@link capDelay}`(intervalMs)`. */
export function startInterval(
  callback: () => void,
  intervalMs: number,
): ReturnType<typeof setInterval> {
  return setInterval(callback, capDelay(intervalMs));
}
