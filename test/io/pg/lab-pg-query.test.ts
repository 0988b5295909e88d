import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pgQuery } from "../../../src/lab/pg-query.js";
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

describe("lab: pg-query", () => {
  it("measures pg's timeouts leaving the statement running, and timebound stopping it", async () => {
    // x0.15: a 150 ms deadline on a 1,200 ms statement, which runs on for 1,050 ms if not stopped.
    const deprecations: string[] = [];
    const onWarning = (warning: Error): void => {
      if (warning.name === "DeprecationWarning") deprecations.push(warning.message);
    };
    process.on("warning", onWarning);
    let result: ScenarioResult;
    try {
      result = await pgQuery.run({ requests: 1, scale: 0.15 }, silentProgress);
      await new Promise((resolve) => setImmediate(resolve)); // warnings come on a later tick
    } finally {
      process.off("warning", onWarning);
    }
    // The lab's output is the scenario's table: pg's warnings must not land in it.
    assert.deepEqual(deprecations, [], "pg printed no DeprecationWarning during the scenario");
    assert.match(result.setup, /SELECT pg_sleep\(1\.2\) under a 150 ms deadline/);
    for (const key of ["a", "b", "c"]) {
      const rightCaller = ms(result, `${key}.caller`, "right")!;
      assert.ok(rightCaller >= 149 && rightCaller < 300, `${key}: right caller ${rightCaller}`);
      assert.match(String(row(result, `${key}.error`).right.value), /^DeadlineExceeded/);

      const wrongWork = ms(result, `${key}.work`, "wrong");
      const rightWork = ms(result, `${key}.work`, "right");
      assert.ok(wrongWork === null || wrongWork > 800, `${key}: wrong ran on ${wrongWork} ms`);
      // Margin for a loaded machine, where a CancelRequest (a connection and a fork) is slow.
      assert.ok(rightWork !== null && rightWork < 500, `${key}: right ran on ${rightWork} ms`);

      assert.match(row(result, `${key}.next`).right.text, /^answered after/);
      const rightNext = ms(result, `${key}.next`, "right")!;
      assert.ok(rightNext < 500, `${key}: right's next query waited ${rightNext} ms`);
      assert.equal(row(result, `${key}.backends`).right.value, 1);
    }
    // (a) the client is dropped but its backend runs on: two backends for a pool of one.
    assert.equal(row(result, "a.backends").wrong.value, 2);
    assert.match(row(result, "a.error").wrong.text, /Query read timeout/);
    // (b) the busy client goes back to the pool: the next query times out behind it.
    assert.match(row(result, "b.next").wrong.text, /^failed after .*Query read timeout/);
    // (c) the race's loser holds the client: the next query waits for it.
    const wrongNext = ms(result, "c.next", "wrong")!;
    assert.ok(wrongNext > 800, `(c) next query waited only ${wrongNext} ms`);

    assert.ok(!result.findings.some((f) => f.startsWith("Unexpected")), result.findings.join(" "));
    assert.match(result.findings.at(-1) ?? "", /^With timebound the caller got DeadlineExceeded/);
  });
});
