import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Finding, FindingKind } from "../../src/diagnostics/model.js";
import { type FixtureRun, cleanup, findingsOf, runFixture, stackNames } from "./run-fixture.js";

/** Runs the leak and its corrected twin side by side. */
async function both(
  name: string,
  leak: string,
  fixed: string,
  env: Record<string, string> = {},
): Promise<[FixtureRun, FixtureRun]> {
  return Promise.all([runFixture(name, leak, env), runFixture(name, fixed, env)]);
}

function explain(run: FixtureRun): string {
  return `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}\nfindings:\n${JSON.stringify(run.report?.findings, null, 1)}`;
}

/** Runs `check`, then removes both report folders; a failure shows both runs in full. */
function judge<T>(leak: FixtureRun, fixed: FixtureRun, check: () => T): T {
  try {
    return check();
  } catch (err) {
    const both = `--- leak ---\n${explain(leak)}\n--- fixed ---\n${explain(fixed)}`;
    throw new Error(`${(err as Error).message}\n${both}`, { cause: err });
  } finally {
    cleanup(leak);
    cleanup(fixed);
  }
}

/** The leak has the finding, pointing at `fn`; the twin has none of that kind. */
function expectFound(leak: FixtureRun, fixed: FixtureRun, kind: FindingKind, fn: string): Finding {
  return judge(leak, fixed, () => {
    const found = findingsOf(leak, kind);
    assert.equal(found.length >= 1, true, `the leak has a ${kind} finding`);
    const pointing = found.find((f) => stackNames(f).includes(fn));
    assert.ok(pointing, `a ${kind} finding's stack names ${fn}`);
    assert.deepEqual(findingsOf(fixed, kind), [], `the corrected twin has no ${kind} finding`);
    return pointing;
  });
}

describe("findings from real processes run with --import register", () => {
  it("lost-cancel: workers without a deadline nobody cancels, still live at exit", async () => {
    // At exit nothing can cancel them any more: the never-canceled suspicion becomes a lost cancel.
    const [leak, fixed] = await both("never-canceled", "leak", "fixed");
    const f = expectFound(leak, fixed, "lost-cancel", "startWorkers");
    assert.equal(f.details?.count, 50);
    assert.equal(f.details?.liveAtExit, 50);
    assert.equal(f.contextName, "worker");
    assert.deepEqual(findingsOf(leak, "never-canceled"), [], "said once, as a lost cancel");
  });

  it("collected-uncanceled: contexts dropped without cancel are proven lost when collected", async () => {
    const [leak, fixed] = await both("collected-uncanceled", "leak", "fixed");
    const f = expectFound(leak, fixed, "collected-uncanceled", "lostCancel");
    assert.equal(typeof f.details?.count, "number");
    assert.ok((f.details?.count as number) >= 10, `most of the 20 were collected: ${f.message}`);
  });

  it("ignored-cancellation: adapter work that goes on after its context ended", async () => {
    const [leak, fixed] = await both("ignored-cancellation", "leak", "fixed");
    const f = expectFound(leak, fixed, "ignored-cancellation", "queryIgnoringCancel");
    assert.equal(f.operationKind, "db.query");
    assert.equal(f.contextName, "request");
  });

  it("ignored-cancellation: a fetch inside run(ctx) without ctx.signal", async () => {
    const [leak, fixed] = await both("ignored-cancellation", "leak-fetch", "fixed-fetch");
    const f = expectFound(leak, fixed, "ignored-cancellation", "fetchWithoutSignal");
    assert.equal(f.operationKind, "fetch");
  });

  it("leaked-timer: a setTimeout loop inside run(ctx) that goes on after ctx ended", async () => {
    const [leak, fixed] = await both("leaked-timer", "leak", "fixed");
    const f = expectFound(leak, fixed, "leaked-timer", "tick");
    assert.equal(f.contextName, "poller");
  });

  it("leaked-timer: a setInterval inside run(ctx) still armed after ctx ended", async () => {
    const [leak, fixed] = await both("leaked-timer", "leak-interval", "fixed-interval");
    const f = expectFound(leak, fixed, "leaked-timer", "heartbeatForever");
    assert.equal(f.operationKind, "setInterval");
  });

  it("timer-growth: armed timers that pile up, one per request", async () => {
    const env = { TIMEBOUND_SAMPLE_INTERVAL_MS: "25", TIMEBOUND_TIMER_SAMPLE_EVERY: "4" };
    const [leak, fixed] = await both("timer-growth", "leak", "fixed", env);
    const f = expectFound(leak, fixed, "timer-growth", "handleRequestLeaky");
    assert.equal(f.details?.series, "handles:Timeout");
  });

  it("late-deadline: a blocked event loop, with the loop delay and the blocking function", async () => {
    // A threshold well above what a busy machine's scheduling adds, well below the 500 ms block.
    const env = { TIMEBOUND_BLOCKING_STACKS: "1", TIMEBOUND_LATE_DEADLINE_MS: "150" };
    const [leak, fixed] = await both("late-deadline", "leak", "fixed", env);
    const f = expectFound(leak, fixed, "late-deadline", "checkout");
    assert.ok((f.details?.lateByMs as number) >= 300, f.message);
    assert.ok((f.details?.eventLoopDelayMaxMs as number) >= 300, f.message);
    assert.ok(
      f.related?.stack.some((frame) => frame.functionName === "blockTheLoop"),
      f.message,
    );
  });

  it("growth: live contexts that only grow, judged by the verdict, not a threshold", async () => {
    const env = { TIMEBOUND_SAMPLE_INTERVAL_MS: "25" };
    const [leak, fixed] = await both("growth", "leak", "fixed", env);
    // The twin is judged on the series the leak is about. Its heap is not: a process two seconds
    // old still grows while it warms up (and keeps every 25 ms sample), and the verdict, which
    // has no size threshold by design, may call that growth.
    const onContexts = (run: FixtureRun): Finding | undefined =>
      findingsOf(run, "growth").find((f) => f.details?.series === "liveContexts");
    judge(leak, fixed, () => {
      const found = onContexts(leak);
      assert.ok(found, "a growth finding on live contexts");
      assert.ok(stackNames(found).includes("handleAndCache"), found.message);
      assert.equal(onContexts(fixed), undefined, "the corrected twin's live contexts do not grow");
    });
  });
});
