// What happened over the whole run, kept as counts per creation stack: contexts whose holder never
// called cancel() (lost cancels) and operations that finished after their context had ended
// (ignored cancellation). A snapshot of live things misses both once the run is over.
import type { ContextRecord, OperationRecord } from "./records.js";

/** Kinds of context whose holder is handed a cancel function and must call it (Go's lostcancel). */
const HELD_KINDS = new Set([
  "withCancel",
  "withCancelCause",
  "withTimeout",
  "withTimeoutCause",
  "withDeadline",
  "withDeadlineCause",
]);

/** Ended contexts waiting for their holder's late cancel() before they are judged. */
const MAX_PENDING = 10_000;
/** Overruns kept per group for the p99 (the count and the max are exact). */
const OVERRUNS_KEPT = 256;

/** @internal Contexts of one creation stack whose holder never called cancel(). */
export interface LostCancelGroup {
  readonly first: ContextRecord;
  count: number;
  byDeadline: number;
  byAncestor: number;
}

/**
 * @internal Whether the program must cancel this context itself: one of a held kind that the
 * program made by calling the core (not one an adapter or a policy made on its behalf, whose
 * cancel is timebound's job), and not declared long-lived.
 */
export function isHeldByProgram(record: ContextRecord): boolean {
  if (!HELD_KINDS.has(record.kind) || record.longLived || record.stack === undefined) return false;
  const parsed = record.stack.parsed;
  return parsed.frames.length > 0 && (parsed.calledLayer ?? "core") === "core";
}

/** @internal The grouping key of a context: its stack, kind, name and request route. */
export function contextKey(record: ContextRecord): string {
  const route = record.request?.label() ?? "";
  return `${record.stack?.parsed.key ?? ""}\0${record.kind}\0${record.name ?? ""}\0${route}`;
}

/**
 * @internal Lost cancels proven from history. A context that ended by its own deadline or an
 * ancestor's end waits `graceMs` for its holder's `cancel()` (which `using` and `finally` call
 * after the end when the deadline fired first); without one it is counted in its stack's group.
 * A cancel that comes later still takes it out. At exit nothing waits any more.
 */
export class LostCancels {
  readonly groups = new Map<string, LostCancelGroup>();
  /** Contexts not counted because `maxGroups` stacks were already kept. */
  dropped = 0;
  #pending: ContextRecord[] = [];
  #head = 0;

  readonly #graceMs: number;
  readonly #maxGroups: number;

  constructor(graceMs: number, maxGroups: number) {
    this.#graceMs = graceMs;
    this.#maxGroups = maxGroups;
  }

  /** A context ended by its deadline or an ancestor: judged once the grace has passed. */
  ended(record: ContextRecord, at: number): void {
    if (!HELD_KINDS.has(record.kind) || record.stack === undefined) return;
    this.#pending.push(record);
    if (this.#pending.length - this.#head > MAX_PENDING) this.settle(at, true, 1);
  }

  /** Its holder called cancel() after the end: not lost after all. */
  released(record: ContextRecord): void {
    const group = record.lostIn;
    if (group === undefined) return;
    record.lostIn = undefined;
    group.count--;
    if (record.endedBy === "deadline") group.byDeadline--;
    else group.byAncestor--;
  }

  /**
   * Judges the contexts whose grace has passed (all of them when `final`, or the `limit` oldest):
   * those never released are counted.
   */
  settle(now: number, final = false, limit = Infinity): void {
    const pending = this.#pending;
    let judged = 0;
    while (this.#head < pending.length && judged < limit) {
      const r = pending[this.#head]!;
      if (!final && now - (r.endedAt ?? now) < this.#graceMs) break;
      this.#head++;
      judged++;
      if (!r.released && isHeldByProgram(r)) this.#count(r);
    }
    if (this.#head > 1_024 && this.#head * 2 > pending.length) {
      this.#pending = pending.slice(this.#head);
      this.#head = 0;
    }
  }

  #count(r: ContextRecord): void {
    const key = contextKey(r);
    let group = this.groups.get(key);
    if (group === undefined) {
      if (this.groups.size >= this.#maxGroups) {
        this.dropped++;
        return;
      }
      group = { first: r, count: 0, byDeadline: 0, byAncestor: 0 };
      this.groups.set(key, group);
    }
    group.count++;
    if (r.endedBy === "deadline") group.byDeadline++;
    else group.byAncestor++;
    r.lostIn = group;
  }
}

/** @internal Operations of one stack that finished after their context had ended. */
export interface OverrunGroup {
  readonly first: OperationRecord;
  count: number;
  maxMs: number;
  /** Up to {@link OVERRUNS_KEPT} overruns, for the p99. */
  readonly kept: number[];
}

/**
 * @internal Operations that went on after their context ended and then finished: the work ignored
 * the cancellation, and no snapshot taken after it would show it.
 */
export class Overruns {
  readonly groups = new Map<string, OverrunGroup>();
  dropped = 0;

  readonly #thresholdMs: number;
  readonly #maxGroups: number;

  constructor(thresholdMs: number, maxGroups: number) {
    this.#thresholdMs = thresholdMs;
    this.#maxGroups = maxGroups;
  }

  /** An operation finished at `at`; counted if its context had ended at least the threshold before. */
  finished(op: OperationRecord, at: number): void {
    const ended = op.context?.endedAt;
    if (ended === undefined) return;
    const overrun = at - Math.max(ended, op.startedAt);
    if (overrun < this.#thresholdMs) return;
    const route = op.context?.request?.label() ?? "";
    const key = `${op.stack.parsed.key}\0${op.kind}\0${op.contextName ?? ""}\0${route}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      if (this.groups.size >= this.#maxGroups) {
        this.dropped++;
        return;
      }
      group = { first: op, count: 0, maxMs: 0, kept: [] };
      this.groups.set(key, group);
    }
    group.count++;
    group.maxMs = Math.max(group.maxMs, overrun);
    if (group.kept.length < OVERRUNS_KEPT) group.kept.push(overrun);
    else group.kept[group.count % OVERRUNS_KEPT] = overrun;
  }
}

/** @internal The 99th percentile of `values` (nearest rank). */
export function p99(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}
