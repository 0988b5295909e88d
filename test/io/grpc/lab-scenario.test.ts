import { coreStats } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { grpcDeadline } from "../../../src/lab/grpc-deadline.js";
import { type ScenarioResult, silentProgress } from "../../../src/lab/scenario.js";

function values(result: ScenarioResult, key: string): { wrong: unknown; right: unknown } {
  const row = result.rows.find((r) => r.key === key);
  assert.ok(row, `row ${key}`);
  return { wrong: row.wrong.value, right: row.right.value };
}

describe("lab: grpc-deadline", () => {
  it("wrong: B runs to completion after the caller gave up; right: B stops at the deadline", async () => {
    const timersBefore = coreStats().armedTimers;
    const steps: string[] = [];
    // x0.1: a 40 ms deadline for 800 ms of work at B.
    const result = await grpcDeadline.run(
      { requests: 1, scale: 0.1 },
      { ...silentProgress, step: (t) => steps.push(t) },
    );
    // Wide margins (a shared 2-core machine): the point is 40 ms against 800 ms.
    const waited = values(result, "caller.waited");
    for (const v of [waited.wrong, waited.right]) {
      assert.ok(typeof v === "number" && v >= 38 && v < 200, `caller waited ${String(v)} ms`);
    }
    const error = values(result, "caller.error");
    assert.equal(error.right, "DeadlineExceeded");
    assert.match(String(error.wrong), /^Error: timed out after 40 ms$/);

    const after = values(result, "b.after");
    assert.ok(
      typeof after.wrong === "number" && after.wrong > 600,
      `wrong: B ${String(after.wrong)} ms`,
    );
    assert.ok(
      typeof after.right === "number" && after.right < 300,
      `right: B ${String(after.right)} ms`,
    );
    assert.deepEqual(values(result, "b.completed"), { wrong: 3, right: 0 });
    assert.deepEqual(values(result, "next"), { wrong: 3, right: 3 });

    assert.match(result.setup, /40 ms deadline for 800 ms of work at B/);
    assert.match(result.findings[0] ?? "", /3 of 3 handlers ran their full 800 ms/);
    assert.equal(steps.length, 3);
    assert.equal(coreStats().armedTimers, timersBefore, "the lab left deadline timers armed");
  });
});
