import { coreStats } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redisBlocking } from "../../../src/lab/redis-blocking.js";
import { renderReport } from "../../../src/lab/render.js";
import { runLab } from "../../../src/lab/run.js";
import {
  type Measurement,
  type ScenarioResult,
  silentProgress,
} from "../../../src/lab/scenario.js";

// x0.05: a 20 ms deadline on a BLPOP with a 400 ms server-side timeout.
const SCALE = 0.05;
const DEADLINE_MS = 20;
const SERVER_TIMEOUT_MS = 400;

function cell(result: ScenarioResult, key: string, side: "wrong" | "right"): Measurement {
  const row = result.rows.find((r) => r.key === key);
  assert.ok(row, `row ${key}`);
  return row[side];
}

function num(result: ScenarioResult, key: string, side: "wrong" | "right"): number {
  const v = cell(result, key, side).value;
  assert.equal(typeof v, "number", `${key} ${side}: ${String(v)}`);
  return v as number;
}

describe("lab: redis-blocking", () => {
  it("the caller's timeout leaves the server blocked; timebound unblocks it and keeps the client", async () => {
    const timersBefore = coreStats().armedTimers;
    const result = await redisBlocking.run({ requests: 1, scale: SCALE }, silentProgress);

    for (const k of ["a", "b", "c"]) {
      // Both callers gave up at about the deadline...
      for (const side of ["wrong", "right"] as const) {
        const waited = num(result, `${k}.caller`, side);
        assert.ok(
          waited >= DEADLINE_MS - 2 && waited < DEADLINE_MS + 250,
          `${k} ${side}: ${waited}`,
        );
      }
      // ...but only the wrong way left the server waiting for its own timeout.
      const wrongBlocked = num(result, `${k}.blocked`, "wrong");
      assert.ok(
        wrongBlocked >= SERVER_TIMEOUT_MS - DEADLINE_MS - 50,
        `${k} wrong: blocked ${wrongBlocked} ms after the deadline`,
      );
      assert.ok(num(result, `${k}.blocked`, "right") < 250, `${k} right blocked`);
      assert.match(String(cell(result, `${k}.error`, "right").value), /^DeadlineExceeded/);
      assert.match(cell(result, `${k}.next`, "right").text, /^answered/);
      assert.ok(num(result, `${k}.next`, "right") < 250);
      assert.equal(num(result, `${k}.reconnects`, "right"), 0);
      // Its BLPOP blocks for the 20 ms before the deadline only: a loaded machine may not see it.
      assert.ok(num(result, `${k}.connections`, "right") <= 1);
    }
    // (a) the next command waits behind the BLPOP; (b) commandTimeout fails it too.
    // (It starts when the caller gives up, which a busy machine may make later than the deadline.)
    const aGaveUp = num(result, "a.caller", "wrong");
    assert.ok(num(result, "a.next", "wrong") >= SERVER_TIMEOUT_MS - aGaveUp - 50);
    assert.match(cell(result, "b.next", "wrong").text, /^failed .*Command timed out/);
    // (c) disconnecting reconnects, and the BLPOP is sent again on the new connection.
    assert.ok(num(result, "c.reconnects", "wrong") >= 1);
    assert.ok(num(result, "c.connections", "wrong") >= 1);
    assert.match(result.findings.join("\n"), /wrote the BLPOP again/);
    assert.match(result.findings.join("\n"), /With timebound the caller got DeadlineExceeded/);

    assert.equal(coreStats().armedTimers, timersBefore, "no timer left armed");
  });

  it("says it skipped, instead of failing, when there is no redis-server", async () => {
    const saved = process.env.TIMEBOUND_REDIS_SERVER;
    process.env.TIMEBOUND_REDIS_SERVER = "/nonexistent/redis-server";
    try {
      const lab = await runLab([redisBlocking], { requests: 1, scale: SCALE }, silentProgress);
      const result = lab.scenarios[0]!;
      assert.equal(result.rows.length, 1);
      assert.equal(result.rows[0]?.wrong.text, "skipped");
      assert.match(result.setup, /^skipped: no Redis server/);
      const report = renderReport(lab);
      assert.equal(report.split("no Redis server").length - 1, 1, `the reason once:\n${report}`);
    } finally {
      if (saved === undefined) delete process.env.TIMEBOUND_REDIS_SERVER;
      else process.env.TIMEBOUND_REDIS_SERVER = saved;
    }
  });
});
