import { contextLabel, formatAge, plural, round1 } from "./format.js";
import type { LateDeadlineEvent } from "./lateness.js";
import type { Finding, FindingKind, Frame } from "./model.js";
import { type LostCancels, type Overruns, contextKey, isHeldByProgram, p99 } from "./history.js";
import type { ContextRecord, OperationRecord } from "./records.js";
import { type ParsedStack, formatFrame, isOwnFrame, madeByProgram } from "./stacks.js";
import type { LateTimerEvent, TimerLoop, TimerRecord } from "./timers.js";
import type { CollectedEvent } from "./tracker.js";
import type { SeriesVerdict } from "./verdict.js";

/** @internal Events kept in a bounded log, with the count of every event offered. */
export interface Logged<T> {
  readonly events: readonly T[];
  readonly total: number;
}

/**
 * Everything the analysis looks at: the tracker's state at one moment (its own records).
 *
 * @internal
 */
export interface AnalysisInput {
  readonly now: number;
  /** The process is exiting: what is still live will never be canceled. */
  readonly final?: boolean;
  /** Contexts whose holder never called cancel() (settled up to `now`). */
  readonly lostCancels?: LostCancels;
  /** Operations that finished after their context ended. */
  readonly overruns?: Overruns;
  /** Timer loops that re-arm themselves from their own callback. */
  readonly timerLoops?: readonly TimerLoop[];
  readonly neverCanceledMs: number;
  readonly ignoredCancellationMs: number;
  /** Live contexts, oldest first. */
  readonly contexts: Iterable<ContextRecord>;
  readonly operations: Iterable<OperationRecord>;
  /** Sampled timers still armed, and how many timers one sample stands for. */
  readonly timers: readonly TimerRecord[];
  readonly timerSampleEvery: number;
  readonly lateTimers: Logged<LateTimerEvent>;
  readonly collected: Logged<CollectedEvent>;
  readonly lateDeadlines: Logged<LateDeadlineEvent>;
  /** Growth verdicts on the samples (`growthVerdict`). */
  readonly verdicts: readonly SeriesVerdict[];
}

/** Findings first by how sure and how serious they are, then by count. */
const KIND_ORDER: readonly FindingKind[] = [
  "collected-uncanceled",
  "lost-cancel",
  "ignored-cancellation",
  "leaked-timer",
  "timer-loop",
  "never-canceled",
  "timer-growth",
  "growth",
  "late-deadline",
];

/** Things that share a stack and a few labels, counted once. */
class Groups<T> {
  // Keyed by the stack's key first: items from one site share that very string, whose hash V8
  // keeps, so grouping 200,000 contexts builds no new key per item.
  readonly #byStack = new Map<string, Map<string, { first: T; items: T[] }>>();

  add(stack: ParsedStack | undefined, label: string, item: T): void {
    const stackKey = stack?.key ?? "";
    let byLabel = this.#byStack.get(stackKey);
    if (byLabel === undefined) {
      byLabel = new Map<string, { first: T; items: T[] }>();
      this.#byStack.set(stackKey, byLabel);
    }
    const group = byLabel.get(label);
    if (group === undefined) byLabel.set(label, { first: item, items: [item] });
    else group.items.push(item);
  }

  values(): { first: T; items: T[] }[] {
    return [...this.#byStack.values()].flatMap((byLabel) => [...byLabel.values()]);
  }
}

function stackOf(record: ContextRecord | undefined): ParsedStack | undefined {
  return record?.stack?.parsed;
}

function framesOf(parsed: ParsedStack | undefined): readonly Frame[] {
  return parsed?.frames ?? [];
}

/** " at fn (file:line:col)" for the innermost frame, or "". */
function where(frames: readonly Frame[]): string {
  const top = frames[0];
  return top === undefined ? "" : ` at ${formatFrame(top)}`;
}

function max<T>(items: readonly T[], f: (item: T) => number): number {
  let m = -Infinity;
  for (const item of items) m = Math.max(m, f(item));
  return m;
}

function neverCanceled(input: AnalysisInput): Finding[] {
  const groups = new Groups<ContextRecord>();
  for (const c of input.contexts) {
    // Oldest first: once one is too young, so are the rest.
    if (input.now - c.createdAt < input.neverCanceledMs) break;
    if (c.deadline !== Infinity || c.longLived) continue;
    if (input.final === true && isHeldByProgram(c)) continue; // a lost cancel, said once
    groups.add(stackOf(c), `${c.kind}\0${c.name ?? ""}`, c);
  }
  return groups.values().map(({ first, items }) => {
    const frames = framesOf(stackOf(first));
    const oldest = input.now - first.createdAt;
    return {
      kind: "never-canceled",
      message:
        `${plural(items.length, "context")} ${contextLabel(first.name, first.kind)} ` +
        `(${first.kind}, no deadline) created${where(frames)} live for up to ${formatAge(oldest)} ` +
        `and never canceled: cancel each when its work is done (\`using\`, or cancel() in finally)`,
      stack: frames,
      ageMs: oldest,
      contextName: first.name,
      details: { count: items.length, contextKind: first.kind, oldestAgeMs: round1(oldest) },
    };
  });
}

function collectedUncanceled(input: AnalysisInput): Finding[] {
  const groups = new Groups<CollectedEvent>();
  for (const e of input.collected.events) {
    const r = e.record;
    if (r.longLived) continue;
    groups.add(stackOf(r), `${r.kind}\0${r.name ?? ""}`, e);
  }
  return groups.values().map(({ first, items }) => {
    const r = first.record;
    const frames = framesOf(stackOf(r));
    const last = input.now - max(items, (e) => e.at);
    return {
      kind: "collected-uncanceled",
      message:
        `${plural(items.length, "context")} ${contextLabel(r.name, r.kind)} (${r.kind}) created` +
        `${where(frames)} ${items.length === 1 ? "was" : "were"} garbage-collected without ever ` +
        `being canceled: a lost cancel (go vet's lostcancel, proven at run time)`,
      stack: frames,
      ageMs: last,
      contextName: r.name,
      details: {
        count: items.length,
        contextKind: r.kind,
        lastCollectedAgoMs: round1(last),
        totalCollectedUncanceled: input.collected.total,
      },
    };
  });
}

/** " for GET /users/:id" when the finding's items ran under a request, else nothing. */
function forRoute(route: string | undefined): string {
  return route === undefined ? "" : ` for ${route}`;
}

function lostCancels(input: AnalysisInput): Finding[] {
  type Row = { first: ContextRecord; deadline: number; ancestor: number; live: number };
  const rows = new Map<string, Row>();
  for (const g of input.lostCancels?.groups.values() ?? []) {
    if (g.count <= 0) continue;
    rows.set(contextKey(g.first), {
      first: g.first,
      deadline: g.byDeadline,
      ancestor: g.byAncestor,
      live: 0,
    });
  }
  if (input.final === true) {
    for (const c of input.contexts) {
      if (!isHeldByProgram(c)) continue;
      const key = contextKey(c);
      const row = rows.get(key);
      if (row === undefined) rows.set(key, { first: c, deadline: 0, ancestor: 0, live: 1 });
      else row.live++;
    }
  }
  return [...rows.values()].map(({ first, deadline, ancestor, live }): Finding => {
    const count = deadline + ancestor + live;
    const frames = framesOf(stackOf(first));
    const how = [
      deadline > 0 ? `${deadline} ended by ${deadline === 1 ? "its" : "their"} own deadline` : "",
      ancestor > 0 ? `${ancestor} by an ancestor's end` : "",
      live > 0 ? `${live} still live at exit` : "",
    ]
      .filter((part) => part !== "")
      .join(", ");
    const route = first.request?.label();
    return {
      kind: "lost-cancel",
      message:
        `${plural(count, "context")} ${contextLabel(first.name, first.kind)} (${first.kind}) ` +
        `created${where(frames)}${forRoute(route)} never canceled by ${count === 1 ? "its" : "their"} holder ` +
        `(${how}): a lost cancel (go vet's lostcancel); cancel each when its work is done ` +
        `(\`using\`, or cancel() in finally)`,
      stack: frames,
      ageMs: input.now - first.createdAt,
      contextName: first.name,
      ...(route === undefined ? {} : { route }),
      details: {
        count,
        contextKind: first.kind,
        endedByDeadline: deadline,
        endedByAncestor: ancestor,
        liveAtExit: live,
      },
    };
  });
}

function finishedOverruns(input: AnalysisInput): Finding[] {
  return [...(input.overruns?.groups.values() ?? [])].map(({ first, count, maxMs, kept }) => {
    const frames = first.stack.frames;
    const route = first.context?.request?.label();
    return {
      kind: "ignored-cancellation",
      message:
        `${plural(count, `"${first.kind}" operation`)} started${where(frames)}${forRoute(route)} went on for up to ` +
        `${formatAge(maxMs)} (p99 ${formatAge(p99(kept))}) after context ` +
        `${contextLabel(first.contextName)} ended, then finished: the work ignores cancellation ` +
        `(pass ctx or ctx.signal down to it)`,
      stack: frames,
      ageMs: input.now - first.startedAt,
      contextName: first.contextName,
      operationKind: first.kind,
      ...(route === undefined ? {} : { route }),
      details: {
        count,
        overrunMs: round1(maxMs),
        overrunP99Ms: round1(p99(kept)),
        finished: true,
      },
    };
  });
}

function timerLoops(input: AnalysisInput): Finding[] {
  return (input.timerLoops ?? []).map((loop): Finding => {
    // The tracking wrapper around the callback sits between the re-arm and its caller.
    const frames = loop.stack.frames.filter((f) => !isOwnFrame(f));
    const inside =
      loop.contextName === undefined && loop.context === undefined
        ? "with no context"
        : `inside run(ctx ${contextLabel(loop.contextName)})`;
    return {
      kind: "timer-loop",
      message:
        `${loop.kind} at${where(frames).slice(3)} re-arms itself from its own callback ` +
        `(${plural(loop.rearms, "time")} in ${formatAge(loop.lastAt - loop.firstAt)}, ${inside}) ` +
        `and is still armed: a runaway timer loop with no way to stop it; tie it to a context ` +
        `(\`ticker(ctx, …)\`, or check ctx.err before re-arming) or clear it on shutdown`,
      stack: frames,
      ageMs: input.now - loop.firstAt,
      contextName: loop.contextName,
      operationKind: loop.kind,
      details: { count: loop.rearms, periodMs: round1(loop.delayMs) },
      related: loop.start === undefined ? undefined : { label: "loop started", stack: loop.start },
    };
  });
}

function ignoredCancellation(input: AnalysisInput): Finding[] {
  const groups = new Groups<OperationRecord>();
  for (const op of input.operations) {
    const ended = op.context?.endedAt;
    if (ended === undefined || input.now - ended < input.ignoredCancellationMs) continue;
    groups.add(op.stack.parsed, `${op.kind}\0${op.contextName ?? ""}`, op);
  }
  return groups.values().map(({ first, items }) => {
    const frames = first.stack.frames;
    const overrun = max(items, (op) => input.now - (op.context?.endedAt ?? input.now));
    const age = max(items, (op) => input.now - op.startedAt);
    return {
      kind: "ignored-cancellation",
      message:
        `${plural(items.length, `"${first.kind}" operation`)} started${where(frames)} still ` +
        `running ${formatAge(overrun)} after context ${contextLabel(first.contextName)} ended: ` +
        `the work ignores cancellation (pass ctx or ctx.signal down to it)`,
      stack: frames,
      ageMs: age,
      contextName: first.contextName,
      operationKind: first.kind,
      details: { count: items.length, overrunMs: round1(overrun) },
    };
  });
}

function leakedTimers(input: AnalysisInput): Finding[] {
  const armed = new Groups<TimerRecord>();
  for (const t of input.timers) {
    const ended = t.context?.endedAt;
    if (ended === undefined || input.now - ended < input.ignoredCancellationMs) continue;
    if (!madeByProgram(t.stack.parsed)) continue;
    armed.add(t.stack.parsed, `${t.kind}\0${t.contextName ?? ""}`, t);
  }
  const late = new Groups<LateTimerEvent>();
  for (const e of input.lateTimers.events) {
    const ended = e.context.endedAt ?? e.at;
    // A timer set right after the end (cleanup on the next tick) is fine; a loop goes on.
    if (e.at - ended < input.ignoredCancellationMs || !madeByProgram(e.stack.parsed)) continue;
    late.add(e.stack.parsed, `${e.kind}\0${e.contextName ?? ""}`, e);
  }
  const sampled = input.timerSampleEvery;
  const fromArmed = armed.values().map(({ first, items }): Finding => {
    const frames = first.stack.frames;
    const overrun = max(items, (t) => input.now - (t.context?.endedAt ?? input.now));
    // Every setInterval is recorded; setTimeouts one in `sampled`.
    const estimate =
      sampled === 1 || first.kind === "setInterval"
        ? ""
        : ` (1 in ${sampled} timers sampled: about ${items.length * sampled})`;
    return {
      kind: "leaked-timer",
      message:
        `${plural(items.length, `${first.kind} timer`)}${estimate} created${where(frames)} inside ` +
        `run(ctx ${contextLabel(first.contextName)}) still armed ${formatAge(overrun)} after that ` +
        `context ended: clear it when the context ends (afterFunc(ctx, () => clearTimeout(t)))`,
      stack: frames,
      ageMs: max(items, (t) => input.now - t.createdAt),
      contextName: first.contextName,
      operationKind: first.kind,
      details: { count: items.length, sampleEvery: sampled, overrunMs: round1(overrun) },
    };
  });
  const fromLate = late.values().map(({ first, items }): Finding => {
    const frames = first.stack.frames;
    const last = input.now - max(items, (e) => e.at);
    return {
      kind: "leaked-timer",
      message:
        `${first.kind} called ${plural(items.length, "time")}${where(frames)} inside run(ctx ` +
        `${contextLabel(first.contextName)}) after that context ended (last ${formatAge(last)} ` +
        `ago): a timer loop that does not stop with its context (check ctx.err before re-arming)`,
      stack: frames,
      ageMs: last,
      contextName: first.contextName,
      operationKind: first.kind,
      details: { count: items.length, afterEnd: true, totalAfterEnd: input.lateTimers.total },
    };
  });
  return [...fromArmed, ...fromLate];
}

function lateDeadlines(input: AnalysisInput): Finding[] {
  const groups = new Groups<LateDeadlineEvent>();
  for (const e of input.lateDeadlines.events) {
    groups.add(stackOf(e.context), e.contextName ?? "", e);
  }
  return groups.values().map(({ items }) => {
    const worst = items.reduce((a, b) => (b.lateByMs > a.lateByMs ? b : a));
    const frames = framesOf(stackOf(worst.context));
    const delay = worst.loopDelay;
    const blocked = items.find((e) => e.blockedBy !== undefined && e.blockedBy.length > 0);
    // The innermost frame with a file: a builtin at the top (`now`) names no code of the program.
    const blocker = blocked?.blockedBy?.find((f) => f.file !== "") ?? blocked?.blockedBy?.[0];
    const loop =
      delay === undefined
        ? `utilization ${Math.round(worst.utilization * 100)}%`
        : `loop delay max ${delay.maxMs} ms, p99 ${delay.p99Ms} ms; utilization ` +
          `${Math.round(worst.utilization * 100)}%`;
    const details: Record<string, number | string | boolean> = {
      count: items.length,
      lateByMs: round1(worst.lateByMs),
      utilization: worst.utilization,
    };
    if (delay !== undefined) {
      details.eventLoopDelayMaxMs = delay.maxMs;
      details.eventLoopDelayP99Ms = delay.p99Ms;
      details.eventLoopDelayP50Ms = delay.p50Ms;
    }
    if (blocker !== undefined) details.blockedBy = formatFrame(blocker);
    // Blame the loop only when it was measured blocked for a good part of the lateness.
    const loopBlocked =
      blocker !== undefined || (delay !== undefined && delay.maxMs >= worst.lateByMs / 2);
    details.loopBlocked = loopBlocked;
    const why = loopBlocked
      ? `the event loop was blocked (${loop})` +
        (blocker === undefined ? "" : `, by ${formatFrame(blocker)}`)
      : `not by a blocked event loop (${loop}): the loop was not held that long, so the timer ` +
        `was held up outside JavaScript (the process was descheduled, or the machine was busy)`;
    return {
      kind: "late-deadline",
      message:
        `deadline of context ${contextLabel(worst.contextName, worst.context?.kind)} created` +
        `${where(frames)} fired ${round1(worst.lateByMs)} ms late` +
        `${items.length > 1 ? ` (${items.length} times; the worst shown)` : ""}: ${why}`,
      stack: frames,
      ageMs: input.now - worst.at,
      contextName: worst.contextName,
      details,
      related:
        blocked?.blockedBy === undefined
          ? undefined
          : { label: "blocked the event loop", stack: blocked.blockedBy },
    };
  });
}

/** The stack shared by the most items, for a growth finding that needs a place to point at. */
function commonest<T>(items: Iterable<T>, stack: (item: T) => ParsedStack | undefined): Frame[] {
  const counts = new Map<string, { n: number; frames: readonly Frame[] }>();
  for (const item of items) {
    const parsed = stack(item);
    if (parsed === undefined || parsed.frames.length === 0) continue;
    const entry = counts.get(parsed.key);
    if (entry === undefined) counts.set(parsed.key, { n: 1, frames: parsed.frames });
    else entry.n++;
  }
  let best: { n: number; frames: readonly Frame[] } | undefined;
  for (const entry of counts.values()) if (best === undefined || entry.n > best.n) best = entry;
  return best === undefined ? [] : [...best.frames];
}

function growth(input: AnalysisInput): Finding[] {
  const out: Finding[] = [];
  for (const v of input.verdicts) {
    if (v.verdict !== "leak") continue;
    const timers = v.series === "handles:Timeout";
    let stack: Frame[] = [];
    if (timers) {
      stack = commonest(input.timers, (t) =>
        madeByProgram(t.stack.parsed) ? t.stack.parsed : undefined,
      );
    } else if (v.series === "liveContexts") stack = commonest(input.contexts, stackOf);
    else if (v.series === "liveOperations")
      stack = commonest(input.operations, (o) => o.stack.parsed);
    const site = stack.length === 0 ? "" : ` Most come from ${formatFrame(stack[0]!)}.`;
    out.push({
      kind: timers ? "timer-growth" : "growth",
      message: `${v.explanation}${site}`,
      stack,
      ageMs: 0,
      details: {
        series: v.series,
        slopePerSecond: Number(v.slope.toPrecision(3)),
        pValue: Number(v.pValue.toPrecision(3)),
        samples: v.samples,
      },
    });
  }
  return out;
}

function countOf(f: Finding): number {
  const n = f.details?.count;
  return typeof n === "number" ? n : 1;
}

/**
 * Analyses the tracker's state: one finding per kind and creation stack (Go's goroutine dump
 * groups the same way), most serious kinds first and, within a kind, the largest groups first.
 * A pure function of its input. {@link Tracking.findings} is how users get them.
 *
 * @internal
 * @example
 * ```ts
 * const findings = analyze(tracking.analysisInput());
 * for (const f of findings) console.log(f.kind, f.message);
 * ```
 */
export function analyze(input: AnalysisInput): Finding[] {
  const all = [
    ...collectedUncanceled(input),
    ...lostCancels(input),
    ...ignoredCancellation(input),
    ...finishedOverruns(input),
    ...leakedTimers(input),
    ...timerLoops(input),
    ...neverCanceled(input),
    ...growth(input),
    ...lateDeadlines(input),
  ];
  return all.sort(
    (a, b) =>
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      countOf(b) - countOf(a) ||
      b.ageMs - a.ageMs,
  );
}
