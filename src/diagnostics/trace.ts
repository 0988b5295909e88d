/**
 * The run as a timeline, go tool trace's counterpart: Chrome trace-event JSON, which Perfetto
 * (ui.perfetto.dev) and chrome://tracing open. Contexts and operations are async spans (each on
 * its own track, named after the context or the operation's kind, with its creation site), deadline
 * firings are instant marks with their lateness, findings are global marks at the moment they
 * point at, and growth samples are counters (live contexts and operations, heap, event-loop delay
 * and utilization since the previous sample).
 */
import type { Snapshot } from "./model.js";
import { formatFrame } from "./stacks.js";

/** One event of the Trace Event Format (the fields this file writes). */
export interface TraceEvent {
  /** Shown on the span or mark. */
  readonly name: string;
  /** Category: "context", "operation", "deadline", "finding", "growth", or "__metadata". */
  readonly cat?: string;
  /** Phase: "b"/"e" async span begin/end, "i" instant, "C" counter, "M" metadata. */
  readonly ph: "b" | "e" | "i" | "C" | "M";
  /** Microseconds since tracking started. */
  readonly ts: number;
  /** The process the snapshot was taken in. */
  readonly pid: number;
  /** The row drawn on: 1 contexts, 2 operations, 3 deadlines, 4 findings, 0 the process (metadata, counters). */
  readonly tid: number;
  /** Async spans: the span's id (begin and end share it). */
  readonly id?: string;
  /** Instant events: scope, "g" global or "t" thread. */
  readonly s?: "g" | "t";
  /** Details shown with the event (kind, site, ids, counter values, metadata names). */
  readonly args?: Readonly<Record<string, unknown>>;
}

/** Threads the events are drawn on. */
const TID = { contexts: 1, operations: 2, deadlines: 3, findings: 4 } as const;

/**
 * The snapshot's timeline as Chrome trace-event JSON (`{ "traceEvents": [...] }`). A span still
 * live at the snapshot ends there, with `live: true` in its arguments.
 *
 * @example
 * ```ts
 * await writeFile("timeline.json", toTraceEvents(tracking.snapshot()));
 * // open it in https://ui.perfetto.dev or chrome://tracing
 * ```
 */
export function toTraceEvents(snapshot: Snapshot): string {
  const pid = snapshot.pid;
  const origin = snapshot.trackingSince ?? snapshot.samples[0]?.at ?? snapshot.takenAt;
  const us = (t: number): number => Math.max(0, Math.round((t - origin) * 1000));
  const end = us(snapshot.takenAt);
  const events: TraceEvent[] = [
    { name: "process_name", ph: "M", ts: 0, pid, tid: 0, args: { name: `timebound pid ${pid}` } },
    ...Object.entries(TID).map(([name, tid]): TraceEvent => ({
      name: "thread_name",
      ph: "M",
      ts: 0,
      pid,
      tid,
      args: { name },
    })),
  ];
  for (const e of snapshot.timeline?.entries ?? []) {
    if (e.type === "deadline") {
      events.push({
        name: `deadline of "${e.name}" fired ${e.lateByMs ?? 0} ms late`,
        cat: "deadline",
        ph: "i",
        s: "t",
        ts: us(e.start),
        pid,
        tid: TID.deadlines,
        args: { contextId: e.id, lateByMs: e.lateByMs ?? 0 },
      });
      continue;
    }
    const cat = e.type;
    const id = `${cat}-${e.id}`;
    const tid = cat === "context" ? TID.contexts : TID.operations;
    const args: Record<string, unknown> = { kind: e.kind };
    if (e.site !== undefined) args.site = e.site;
    if (e.parentId !== undefined) args[cat === "context" ? "parentId" : "contextId"] = e.parentId;
    if (e.endedBy !== undefined) args.endedBy = e.endedBy;
    if (e.end === undefined) args.live = true;
    const stop = e.end === undefined ? end : Math.max(us(e.start), us(e.end));
    events.push({ name: e.name, cat, ph: "b", id, ts: us(e.start), pid, tid, args });
    events.push({ name: e.name, cat, ph: "e", id, ts: stop, pid, tid });
  }
  for (const f of snapshot.findings) {
    const top = f.stack[0];
    const site = top === undefined ? "" : ` at ${formatFrame(top)}`;
    events.push({
      name: `[${f.kind}]${site}`,
      cat: "finding",
      ph: "i",
      s: "g",
      ts: Math.min(end, us(snapshot.takenAt - f.ageMs)),
      pid,
      tid: TID.findings,
      args: { message: f.message, ...(f.details ?? {}) },
    });
  }
  for (const sample of snapshot.samples) {
    const ts = us(sample.at);
    events.push({
      name: "live",
      cat: "growth",
      ph: "C",
      ts,
      pid,
      tid: 0,
      args: { contexts: sample.liveContexts, operations: sample.liveOperations },
    });
    events.push({
      name: "heap MB",
      cat: "growth",
      ph: "C",
      ts,
      pid,
      tid: 0,
      args: { heapUsed: Math.round((sample.heapUsed / 1048576) * 10) / 10 },
    });
    if (sample.loopDelayMaxMs !== undefined) {
      events.push({
        name: "event loop delay ms",
        cat: "growth",
        ph: "C",
        ts,
        pid,
        tid: 0,
        args: { max: sample.loopDelayMaxMs, p99: sample.loopDelayP99Ms ?? 0 },
      });
    }
    if (sample.loopUtilization !== undefined) {
      events.push({
        name: "event loop utilization %",
        cat: "growth",
        ph: "C",
        ts,
        pid,
        tid: 0,
        args: { busy: Math.round(sample.loopUtilization * 1000) / 10 },
      });
    }
  }
  const omitted = snapshot.timeline?.omitted ?? 0;
  return `${JSON.stringify({
    traceEvents: events,
    displayTimeUnit: "ms",
    otherData: { pid, takenAt: snapshot.takenAtWall, omittedTimelineEntries: omitted },
  })}\n`;
}
