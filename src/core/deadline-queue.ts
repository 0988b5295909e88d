// Deadline timers without a Node timer each. A context with a deadline is nearly always canceled
// long before it (the request answered in 2 ms under a 2 s deadline), so what its timer costs
// is the arming and the disarming. A Node timer costs a Timeout object, an async id and a read
// of libuv's clock to arm, and a list removal and ref-count change to clear. Here, as in Node's
// own timer lists, deadlines armed with the same delay (in whole milliseconds) fall due in the
// order they were armed, so they wait in one list per delay; each list has one Node timer, armed
// for its head, and arming or disarming a deadline is a few pointer writes.
import { now } from "./clock.js";
import { TIMER_SLACK_MS, capDelay, startTimer } from "./timer.js";

/** One armed deadline. Opaque to its holder, who keeps it to disarm it or to hold the loop open. */
export class QueuedTimer {
  /** @internal */
  _prev: QueuedTimer | null = null;
  /** @internal */
  _next: QueuedTimer | null = null;
  /** @internal The list it waits in; null once it fired or was disarmed. */
  _list: DelayList | null = null;
  /** @internal Whether it holds the event loop open (see {@link keepQueued}). */
  _keep = false;

  /** @internal When it is due, on the {@link now} clock, rounded up as setTimeout would. */
  readonly _fireAt: number;
  /** @internal */
  readonly _callback: (arg: never) => void;
  /** @internal */
  readonly _arg: unknown;

  /** @internal */
  constructor(fireAt: number, callback: (arg: never) => void, arg: unknown) {
    this._fireAt = fireAt;
    this._callback = callback;
    this._arg = arg;
  }
}

/** The deadlines armed with one delay, in the order they fall due, and the Node timer for the head. */
class DelayList {
  head: QueuedTimer | null = null;
  tail: QueuedTimer | null = null;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When the Node timer fires (on the now() clock): never after the head is due. */
  timerAt = Infinity;
  /** Armed deadlines here that hold the loop open: the Node timer is ref'd while any does. */
  keeping = 0;

  constructor(readonly delay: number) {}
}

const lists = new Map<number, DelayList>();

/**
 * Arms `callback(arg)` for `delayMs` after `from` (default: now). Like {@link startTimer}, the
 * delay is rounded up to whole milliseconds and capped, and the callback of a wait longer than
 * the cap must compare the clock with its due time and arm again. The Node timer behind it does
 * not hold the event loop open unless {@link keepQueued} says so.
 */
export function queueTimer<T>(
  callback: (arg: T) => void,
  delayMs: number,
  arg: T,
  from: number = now(),
): QueuedTimer {
  const delay = capDelay(delayMs);
  let list = lists.get(delay);
  if (list === undefined) lists.set(delay, (list = new DelayList(delay)));
  const entry = new QueuedTimer(from + delay, callback, arg);
  entry._list = list;
  // Armed in due order, almost always: behind the tail. A caller's `from` may be a little older
  // than the tail's (read before other work): it then goes before the entries due after it.
  let after = list.tail;
  while (after !== null && after._fireAt > entry._fireAt) after = after._prev;
  const before = after === null ? list.head : after._next;
  entry._prev = after;
  entry._next = before;
  if (after === null) list.head = entry;
  else after._next = entry;
  if (before === null) list.tail = entry;
  else before._prev = entry;
  if (entry._fireAt < list.timerAt) armList(list, entry._fireAt, from);
  return entry;
}

/**
 * {@link queueTimer} for a wait that holds the event loop open until it fires or is disarmed, as
 * a plain `setTimeout` does (a sleep, a context somebody waits on).
 */
export function queueKeptTimer<T>(
  callback: (arg: T) => void,
  delayMs: number,
  arg: T,
  from?: number,
): QueuedTimer {
  const entry = queueTimer(callback, delayMs, arg, from);
  keepQueued(entry);
  return entry;
}

/** Disarms `entry` (nothing when it already fired or was disarmed). */
export function cancelQueued(entry: QueuedTimer): void {
  const list = entry._list;
  if (list === null) return;
  unlinkEntry(list, entry);
  // An empty list keeps its Node timer (unref'd now): when it fires it finds nothing and the
  // list goes. Clearing it and arming a new one per deadline is what this module saves.
}

/**
 * Makes `entry`'s Node timer hold the event loop open until `entry` fires or is disarmed
 * (something waits for that deadline), as `timeout.ref()` would.
 */
export function keepQueued(entry: QueuedTimer): void {
  const list = entry._list;
  if (list === null || entry._keep) return;
  entry._keep = true;
  if (list.keeping++ === 0) list.timer?.ref();
}

function unlinkEntry(list: DelayList, entry: QueuedTimer): void {
  const prev = entry._prev;
  const next = entry._next;
  if (prev === null) list.head = next;
  else prev._next = next;
  if (next === null) list.tail = prev;
  else next._prev = prev;
  entry._prev = entry._next = null;
  entry._list = null;
  if (entry._keep && --list.keeping === 0) list.timer?.unref();
}

/** Arms `list`'s Node timer to fire at `at`, the time now being `t`. */
function armList(list: DelayList, at: number, t: number): void {
  if (list.timer !== undefined) clearTimeout(list.timer);
  list.timer = startTimer(fireList, at - t, list);
  list.timerAt = at;
  if (list.keeping === 0) list.timer.unref();
}

function fireList(list: DelayList): void {
  list.timer = undefined;
  // Deadlines armed by the callbacks below arm no timer of their own: the one armed at the end
  // is for the head, which may be due before them.
  list.timerAt = -Infinity;
  try {
    const t = now();
    // Every deadline now due, each told on its own; a callback may arm or disarm others, here
    // or elsewhere, so the head is read afresh each time.
    for (
      let head = list.head;
      head !== null && head._fireAt <= t + TIMER_SLACK_MS;
      head = list.head
    ) {
      unlinkEntry(list, head);
      (head._callback as (arg: unknown) => void)(head._arg);
    }
  } finally {
    // Also after a callback threw: the deadlines behind it still fire.
    const head = list.head;
    if (head !== null) armList(list, head._fireAt, now());
    else {
      list.timerAt = Infinity;
      if (lists.get(list.delay) === list) lists.delete(list.delay);
    }
  }
}
