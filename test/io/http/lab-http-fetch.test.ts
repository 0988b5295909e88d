import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { httpFetch } from "../../../src/lab/http-fetch.js";
import { type ResultRow, type ScenarioResult, silentProgress } from "../../../src/lab/scenario.js";

function row(result: ScenarioResult, key: string): ResultRow {
  const found = result.rows.find((r) => r.key === key);
  assert.ok(found, `row ${key} in ${result.rows.map((r) => r.key).join(", ")}`);
  return found;
}

function ms(result: ScenarioResult, key: string, side: "wrong" | "right"): number | null {
  const value = row(result, key)[side].value;
  assert.ok(value === null || typeof value === "number", `${key}.${side} is a number or null`);
  return value;
}

describe("lab: http-fetch", () => {
  it("measures the usual timeouts leaving the response streaming, and fetch(ctx) closing it", async () => {
    // x0.1: a 100 ms deadline on an 800 ms response.
    const result = await httpFetch.run({ requests: 1, scale: 0.1 }, silentProgress);
    assert.match(result.setup, /for 800 ms; the caller's deadline is 100 ms/);
    for (const key of ["a", "b"]) {
      assert.match(String(row(result, `${key}.error`).right.value), /^DeadlineExceeded/);
      const rightUpstream = ms(result, `${key}.upstream`, "right");
      // Wide: the machine is shared; the wrong side streams on for 700 ms in (a).
      assert.ok(rightUpstream !== null && rightUpstream < 300, `${key}: right ${rightUpstream} ms`);
      assert.ok(ms(result, `${key}.bytes`, "right")! <= 64 * 15, `${key}: right bytes`);
      assert.match(row(result, `${key}.next`).right.text, /^answered after/);
      assert.ok(ms(result, `${key}.next`, "right")! < 300);
    }
    // (a) The race released the caller at the deadline, and the response streamed on to its
    // end, holding the pool's one connection: the next request waited behind it.
    const rightCaller = ms(result, "a.caller", "right")!;
    assert.ok(rightCaller >= 99 && rightCaller < 300, `right caller ${rightCaller}`);
    assert.match(row(result, "a.error").wrong.text, /^Error: timed out after/);
    const wrongUpstream = ms(result, "a.upstream", "wrong");
    assert.ok(wrongUpstream === null || wrongUpstream > 500, `wrong streamed on ${wrongUpstream}`);
    assert.ok(ms(result, "a.bytes", "wrong")! > 64 * 20);
    assert.ok(ms(result, "a.next", "wrong")! > 400, "the next request queued behind it");
    // (b) A body read after the deadline: the right one rejects at once.
    assert.ok(ms(result, "b.caller", "right")! < 50);
    assert.doesNotMatch(row(result, "b.error").wrong.text, /^DeadlineExceeded/);

    assert.ok(!result.findings.some((f) => f.startsWith("Unexpected")), result.findings.join(" "));
    assert.match(result.findings.at(-1) ?? "", /^With timebound the caller got DeadlineExceeded/);
  });
});
