import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Snapshot } from "../../src/diagnostics/model.js";
import { parseJsonReport, toJson, toJsonReport } from "../../src/diagnostics/report-json.js";
import { emptySnapshot } from "../../src/diagnostics/snapshot.js";

const frames = [
  { functionName: "startWorker", file: "/app/worker.js", line: 7, column: 15 },
  { functionName: "main", file: "/app/main.js", line: 3, column: 1 },
];

const snapshot: Snapshot = {
  takenAt: 5_000,
  takenAtWall: "2026-01-01T00:00:00.000Z",
  pid: 42,
  trackingSince: 1_000,
  contexts: Array.from({ length: 3 }, (_, i) => ({
    id: i + 1,
    name: "worker",
    kind: "withCancel",
    parentId: undefined,
    createdAt: 1_500,
    deadline: undefined,
    stack: frames,
  })),
  operations: [
    {
      id: 9,
      kind: "sleep",
      contextId: 1,
      contextName: "worker",
      startedAt: 2_000,
      contextEndedAt: undefined,
      stack: [...frames],
    },
  ],
  findings: [
    {
      kind: "never-canceled",
      message: "3 contexts",
      stack: frames,
      ageMs: 3_500,
      details: { count: 3 },
    },
  ],
  samples: [
    { at: 1_000, heapUsed: 1, rss: 2, handles: { Timeout: 1 }, liveContexts: 3, liveOperations: 1 },
  ],
  omitted: { contexts: 7, operations: 0, findings: 0 },
};

describe("JSON report", () => {
  it("stores each distinct stack once and reads back the same snapshot", () => {
    const report = toJsonReport(snapshot);
    assert.equal(report.stacks.length, 1, "four items, one stack");
    assert.deepEqual(
      report.contexts.map((c) => c.stack),
      [0, 0, 0],
    );
    assert.equal(report.summary.liveContexts, 10);
    assert.deepEqual(report.summary.findingsByKind, { "never-canceled": 1 });
    assert.deepEqual(
      parseJsonReport(toJson(snapshot)),
      JSON.parse(JSON.stringify(snapshot)) as Snapshot,
    );
  });

  it("an untracked process gives a report that says so", () => {
    const report = toJsonReport(emptySnapshot());
    assert.equal(report.tracking, false);
    assert.equal(parseJsonReport(toJson(emptySnapshot())).trackingSince, undefined);
  });

  it("bad input gets a clear error", () => {
    assert.throws(() => parseJsonReport("{"), /parseJsonReport: not JSON/);
    assert.throws(() => parseJsonReport("{}"), /is not a timebound report/);
    assert.throws(
      () => parseJsonReport(JSON.stringify({ ...toJsonReport(snapshot), version: 9 })),
      /version 9 is not supported/,
    );
    const broken = { ...toJsonReport(snapshot), stacks: [] };
    assert.throws(
      () => parseJsonReport(JSON.stringify(broken)),
      /contexts\[0\]\.stack refers to stack 0/,
    );
  });
});
