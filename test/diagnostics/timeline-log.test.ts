// The timeline's history is kept flat (numbers and shared strings), so that thousands of
// requests' contexts ending every second do not each leave an object to be promoted; stacks
// are kept only for what may be reported.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ContextRecord, OperationRecord } from "../../src/diagnostics/records.js";
import { StackRef } from "../../src/diagnostics/stacks.js";
import { TimelineLog } from "../../src/diagnostics/timeline-log.js";

function madeHere(): StackRef {
  return StackRef.capture();
}

function ended(id: number, endedBy: "cancel" | "deadline" | "ancestor"): ContextRecord {
  const r = new ContextRecord(
    id,
    `ctx${id}`,
    "withTimeout",
    undefined,
    id * 10,
    Infinity,
    madeHere(),
  );
  r.endedAt = id * 10 + 5;
  r.endedBy = endedBy;
  return r;
}

describe("the timeline's history", () => {
  it("keeps the most recent entries, oldest first, and counts every one", () => {
    const log = new TimelineLog(3);
    for (let id = 1; id <= 5; id++) log.context(ended(id, "cancel"));
    assert.equal(log.total, 5);
    assert.deepEqual(
      log.entries(10).map((e) => [e.id, e.name, e.start, e.end, e.endedBy]),
      [
        [3, "ctx3", 30, 35, "cancel"],
        [4, "ctx4", 40, 45, "cancel"],
        [5, "ctx5", 50, 55, "cancel"],
      ],
    );
    assert.deepEqual(
      log.entries(2).map((e) => e.id),
      [4, 5],
    );
  });

  it("keeps the site of what may be reported, not of a context its holder canceled", () => {
    const log = new TimelineLog(10);
    log.context(ended(1, "cancel"));
    log.context(ended(2, "deadline"));
    const ctx = ended(3, "cancel");
    const overran = new OperationRecord(4, "fetch", ctx, "ctx3", 20, madeHere());
    overran.endedAt = 90; // after its context ended at 35
    const onTime = new OperationRecord(5, "sleep", ctx, "ctx3", 20, madeHere());
    onTime.endedAt = 30;
    log.operation(overran);
    log.operation(onTime);
    log.deadline(70, 12.34, ctx);
    const [canceled, lost, fetch, sleep, mark] = log.entries(10);
    assert.equal(canceled?.site, undefined, "a canceled context keeps no stack");
    assert.match(lost?.site ?? "", /^madeHere \(.*timeline-log\.test\.ts:\d+:\d+\)$/);
    assert.match(fetch?.site ?? "", /madeHere/, "work that outlived its context keeps its stack");
    assert.equal(sleep?.site, undefined);
    assert.equal(fetch?.parentId, 3);
    assert.deepEqual(mark, {
      type: "deadline",
      id: 3,
      name: "ctx3",
      kind: "deadline",
      start: 70,
      end: undefined,
      lateByMs: 12.3,
    });
  });
});
