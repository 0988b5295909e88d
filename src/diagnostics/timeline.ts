import type { TimelineEntry } from "./model.js";
import type { ContextRecord, OperationRecord } from "./records.js";
import { formatFrame } from "./stacks.js";
import type { TimelineLog } from "./timeline-log.js";
import type { DeadlineFiring } from "./tracker.js";

function siteOf(record: ContextRecord | OperationRecord): string | undefined {
  const top = record.stack?.frames[0];
  return top === undefined ? undefined : formatFrame(top);
}

/** @internal A tracker record (ended or live) or a deadline firing as a timeline entry. */
export function toTimelineEntry(
  item: ContextRecord | OperationRecord | DeadlineFiring,
): TimelineEntry {
  if ("lateByMs" in item) {
    return {
      type: "deadline",
      id: item.context?.id ?? 0,
      name: item.context?.name ?? item.context?.kind ?? "deadline",
      kind: "deadline",
      start: item.at,
      end: undefined,
      lateByMs: Math.round(item.lateByMs * 10) / 10,
    };
  }
  if ("startedAt" in item) {
    return {
      type: "operation",
      id: item.id,
      name: item.kind,
      kind: item.kind,
      start: item.startedAt,
      end: item.endedAt,
      parentId: item.context?.id,
      site: siteOf(item),
    };
  }
  return {
    type: "context",
    id: item.id,
    name: item.name ?? item.kind,
    kind: item.kind,
    start: item.createdAt,
    end: item.endedAt,
    parentId: item.parentId,
    endedBy: item.endedBy,
    site: siteOf(item),
  };
}

/**
 * @internal The timeline of a snapshot: the history kept (oldest first), then what is live,
 * at most `max` entries in all (the most recent history is kept).
 */
export function buildTimeline(
  history: TimelineLog,
  live: Iterable<ContextRecord | OperationRecord>,
  max: number,
): { entries: TimelineEntry[]; omitted: number } {
  const liveEntries: TimelineEntry[] = [];
  for (const item of live) {
    if (liveEntries.length >= max) break;
    if ("stack" in item && item.stack !== undefined && item.stack.frames.length === 0) continue;
    liveEntries.push(toTimelineEntry(item));
  }
  const kept = history.entries(Math.max(0, max - liveEntries.length));
  return {
    entries: [...kept, ...liveEntries],
    omitted: history.total - kept.length,
  };
}
