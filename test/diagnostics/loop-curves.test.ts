// The event loop on the curves: a process whose loop was blocked shows the block in growth.csv
// (delay and utilization columns, the late deadline on the row where it happened), in growth.svg
// (the event-loop panel, a marker line) and in timeline.json (counter tracks).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { TraceEvent } from "../../src/diagnostics/trace.js";
import { cleanup, runFixture } from "./run-fixture.js";

describe("event-loop delay and utilization over the run", () => {
  it("shows a 500 ms block in growth.csv, growth.svg and timeline.json, with the late deadline marked", async () => {
    const run = await runFixture("late-deadline", "leak", {
      TIMEBOUND_LATE_DEADLINE_MS: "150",
      TIMEBOUND_SAMPLE_INTERVAL_MS: "100",
    });
    try {
      assert.equal(run.code, 0, run.stderr);
      const csv = readFileSync(join(run.dir, "growth.csv"), "utf8").trim().split("\n");
      const header = csv[0]!.split(",");
      const col = (name: string): number => {
        const i = header.indexOf(name);
        assert.ok(i >= 0, `growth.csv has a ${name} column: ${csv[0]}`);
        return i;
      };
      const [delay, p99, busy, findings] = [
        col("loopDelayMax_ms"),
        col("loopDelayP99_ms"),
        col("loopUtilization_pct"),
        col("findings"),
      ];
      const rows = csv.slice(1).map((line) => line.split(","));
      const blocked = rows.find((r) => Number(r[delay]) >= 300);
      assert.ok(blocked, `a row shows the loop delayed by the 500 ms block:\n${csv.join("\n")}`);
      assert.ok(Number(blocked[p99]) > 0, "its p99 too");
      assert.ok(Number(blocked[busy]) > 0, "and a busy loop");
      assert.equal(rows[0]![delay], "", "the first sample has no window before it");
      const marked = rows.filter((r) => (r[findings] ?? "").includes("late-deadline"));
      assert.equal(marked.length, 1, `one row marks the late deadline:\n${csv.join("\n")}`);

      const svg = readFileSync(join(run.dir, "growth.svg"), "utf8");
      assert.match(svg, />event loop</, "the event-loop panel");
      assert.match(svg, /data-series="loopDelayMax"/);
      assert.match(svg, /data-series="loopUtilization"/);
      assert.match(svg, /data-marker="late-deadline"/, "the finding as a marker line");

      const trace = JSON.parse(readFileSync(join(run.dir, "timeline.json"), "utf8")) as {
        traceEvents: TraceEvent[];
      };
      const delays = trace.traceEvents.filter((e) => e.name === "event loop delay ms");
      assert.ok(
        delays.some((e) => e.ph === "C" && Number(e.args?.max) >= 300),
        "a delay counter shows the block",
      );
      assert.ok(
        trace.traceEvents.some((e) => e.name === "event loop utilization %" && e.ph === "C"),
        "a utilization counter track",
      );
    } finally {
      cleanup(run);
    }
  });
});
