import { coreStats } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nestedCases, nestedDeadlines, scaled } from "../../src/lab/nested-deadlines.js";
import { type Measurement, type ScenarioResult, silentProgress } from "../../src/lab/scenario.js";

const SCALE = 0.1;

function cell(result: ScenarioResult, key: string, side: "wrong" | "right"): Measurement {
  const row = result.rows.find((r) => r.key === key);
  assert.ok(row, `row ${key}`);
  return row[side];
}

function text(result: ScenarioResult, key: string, side: "wrong" | "right"): string {
  const v = cell(result, key, side).value;
  assert.equal(typeof v, "string", key);
  return v as string;
}

describe("lab: nested-deadlines", () => {
  it("runs the seed's cases; timebound says who ended the child, AbortSignal cannot", async () => {
    const timersBefore = coreStats().armedTimers;
    const result = await nestedDeadlines.run({ requests: 1, scale: SCALE }, silentProgress);

    for (const key of ["a", "b", "c"]) {
      const expected = scaled(nestedCases.get(key)!.expectMs, SCALE);
      for (const side of ["wrong", "right"] as const) {
        const lived = cell(result, `${key}.lifetime`, side).value;
        assert.equal(typeof lived, "number", `${key} ${side} ended`);
        // Wide margin: timers fire late on a loaded machine, never early.
        const ms = lived as number;
        assert.ok(ms >= expected - 2 && ms <= expected + 250, `${key} ${side}: ${ms} ms`);
      }
    }

    // (a) the child's own deadline: the message names the child and no ancestor.
    assert.equal(text(result, "a.error", "right"), "DeadlineExceeded");
    assert.match(text(result, "a.message", "right"), /^context "child" .*exceeded its deadline/);
    assert.doesNotMatch(text(result, "a.message", "right"), /ancestor/);
    // (b) the parent's deadline, well before the child's own.
    assert.equal(text(result, "b.error", "right"), "DeadlineExceeded");
    assert.match(text(result, "b.message", "right"), /before its own deadline/);
    assert.match(text(result, "b.message", "right"), /deadline of ancestor "parent"/);
    // (c) the parent canceled early: Canceled, with the ancestor and the cause.
    assert.equal(text(result, "c.error", "right"), "Canceled");
    assert.match(text(result, "c.message", "right"), /ancestor "parent" was canceled/);
    assert.match(text(result, "c.message", "right"), /client went away/);

    // Plain AbortSignals: the same words for (a) and (b), whichever deadline it was.
    assert.equal(text(result, "a.error", "wrong"), "DOMException");
    assert.equal(text(result, "a.message", "wrong"), text(result, "b.message", "wrong"));
    assert.match(result.findings.join("\n"), /the same/);

    assert.equal(coreStats().armedTimers, timersBefore, "no timer left armed");
  });
});
