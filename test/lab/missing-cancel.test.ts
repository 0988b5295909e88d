import { coreStats } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { missingCancel } from "../../src/lab/missing-cancel.js";
import { type ResultRow, type ScenarioResult, silentProgress } from "../../src/lab/scenario.js";

function rowOf(result: ScenarioResult, key: string): ResultRow {
  const row = result.rows.find((r) => r.key === key);
  assert.ok(row, `row ${key}`);
  return row;
}

function numbers(result: ScenarioResult, key: string): { wrong: number; right: number } {
  const { wrong, right } = rowOf(result, key);
  assert.equal(typeof wrong.value, "number", `${key}: wrong is a number`);
  assert.equal(typeof right.value, "number", `${key}: right is a number`);
  return { wrong: wrong.value as number, right: right.value as number };
}

describe("lab: missing-cancel", () => {
  it("wrong leaves each request context under the server, with a timer; right none", async () => {
    const requests = 2_500; // not a multiple of the batch size: the last batch is partial
    const timersBefore = coreStats().armedTimers;
    const result = await missingCancel.run({ requests, scale: 0.25 }, silentProgress);

    for (const key of ["live", "dependents", "timers", "waiters"]) {
      assert.deepEqual(numbers(result, key), { wrong: requests, right: 0 }, key);
    }
    const heap = numbers(result, "heap");
    assert.ok(heap.wrong > requests * 200, `wrong heap grew ${heap.wrong} B`);
    assert.ok(heap.right < heap.wrong / 4, `right heap grew ${heap.right} B`);
    assert.ok(numbers(result, "time").wrong > 0);

    // The lab cleans up after itself: the server's shutdown ended the leaked contexts.
    assert.equal(coreStats().armedTimers, timersBefore);
    assert.ok(!result.findings.some((f) => f.startsWith("Unexpected")), result.findings.join());
  });

  it("reports what it measured in the table text and tells progress how far it got", async () => {
    const steps: string[] = [];
    const ticks: string[] = [];
    const result = await missingCancel.run(
      { requests: 1_200, scale: 0.25 },
      { step: (t) => steps.push(t), tick: (t) => ticks.push(t) },
    );
    assert.equal(rowOf(result, "dependents").wrong.text, "1,200");
    assert.match(rowOf(result, "heap").wrong.text, /^\+\d+\.\d MB$/);
    assert.match(result.setup, /1,200 requests/);
    assert.match(result.findings[0] ?? "", /1,200 of 1,200 request contexts/);
    assert.equal(steps.length, 2);
    assert.ok(
      ticks.some((t) => t.includes("wrong: 1,200 / 1,200")),
      ticks.join("; "),
    );
  });
});
