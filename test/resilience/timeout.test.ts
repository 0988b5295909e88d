import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import {
  type Context,
  type OperationEndMessage,
  type OperationMessage,
  background,
  sleep,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import { coreStats } from "../../src/core/introspect.js";
import { snapshot, track } from "../../src/diagnostics/index.js";
import { type ResilienceEvent, timeout } from "../../src/resilience/index.js";

/** Work that ignores its context: settles only when the test says. */
function ignoring<T>(): { work: () => Promise<T>; settle: (v: T) => void } {
  let settle!: (v: T) => void;
  const p = new Promise<T>((resolve) => (settle = resolve));
  return { work: () => p, settle };
}

describe("timeout", () => {
  it("gives the work a child context that never ends later than the caller's deadline", async () => {
    using caller = withTimeout(background(), 50);
    let seen: Context | undefined;
    await timeout(10_000).execute(caller, (ctx) => {
      seen = ctx;
      return 1;
    });
    assert.ok(seen !== undefined && seen !== caller, "a child context");
    assert.equal(seen.deadline, caller.deadline, "capped at the caller's deadline");
    assert.ok(seen.err !== undefined, "the child is canceled once the call is done");

    let own: number | undefined;
    await timeout(20).execute(background(), (ctx) => (own = ctx.remaining()));
    assert.ok(own! <= 20 && own! > 0, `its own 20 ms, got ${own}`);
  });

  it("cooperative: work that obeys its context rejects with a DeadlineExceeded naming the policy", async () => {
    const events: ResilienceEvent[] = [];
    const listener = (m: unknown) => events.push(m as ResilienceEvent);
    subscribe("timebound:resilience:timeout", listener);
    try {
      const policy = timeout(10, { name: "inventory-timeout" });
      await assert.rejects(
        policy.execute(background(), (ctx) => sleep(ctx, 10_000)),
        (e: unknown) => {
          assert.equal((e as Error).name, "TimeoutError");
          assert.match((e as Error).message, /inventory-timeout/);
          return true;
        },
      );
    } finally {
      unsubscribe("timebound:resilience:timeout", listener);
    }
    assert.deepEqual(
      events.map((e) => [e.event, e.timeoutMs]),
      [["timeout", 10]],
      "one timeout event",
    );
  });

  it("cooperative: waits for work that ignores its context, and keeps its result", async () => {
    const { work, settle } = ignoring<string>();
    const call = timeout(5).execute(background(), work);
    await sleep(background(), 30);
    settle("late but here");
    assert.equal(await call, "late but here");
  });

  it("takes the timeout from a function of the caller's context", async () => {
    using caller = withTimeout(background(), 1_000);
    let left = 0;
    await timeout((ctx) => ctx.remaining() / 10).execute(caller, (ctx) => (left = ctx.remaining()));
    assert.ok(left > 0 && left <= 100, `a tenth of the caller's time, got ${left}`);
    await assert.rejects(
      timeout(() => -1).execute(background(), () => 1),
      /timeout: the timeout function's result must be a number of milliseconds from 0 to Infinity/,
    );
  });

  it("abandon: stops waiting for work that ignores its context, and diagnostics sees it running on", async () => {
    const starts: OperationMessage[] = [];
    const ends: OperationEndMessage[] = [];
    const events: ResilienceEvent[] = [];
    const onStart = (m: unknown) => {
      if ((m as OperationMessage).kind === "resilience.timeout") starts.push(m as OperationMessage);
    };
    const onEnd = (m: unknown) => {
      if ((m as OperationEndMessage).kind === "resilience.timeout")
        ends.push(m as OperationEndMessage);
    };
    const onEvent = (m: unknown) => events.push(m as ResilienceEvent);
    subscribe("timebound:op:start", onStart);
    subscribe("timebound:op:end", onEnd);
    subscribe("timebound:resilience:timeout", onEvent);
    try {
      const { work, settle } = ignoring<number>();
      const started = performance.now();
      await assert.rejects(timeout(50, { abandon: true }).execute(background(), work), {
        name: "TimeoutError",
      });
      const waited = performance.now() - started;
      assert.ok(
        waited < 1_000,
        `released at the timeout, not when the work settles (${waited} ms)`,
      );
      assert.equal(starts.length, 1, "the work was announced as an operation");
      assert.equal(ends.length, 0, "and is still running after its context ended");
      assert.ok(starts[0]!.context.err !== undefined, "under a context that has ended");
      settle(1);
      await sleep(background(), 5);
      assert.equal(ends.length, 1, "its end is announced when it really settles");
      assert.equal(ends[0]!.reason, "context-ended");
      assert.deepEqual(
        events.map((e) => e.event),
        ["timeout", "abandoned", "abandoned-settled"],
        "the timeout's events",
      );
    } finally {
      unsubscribe("timebound:op:start", onStart);
      unsubscribe("timebound:op:end", onEnd);
      unsubscribe("timebound:resilience:timeout", onEvent);
    }
  });

  it("abandon: the diagnostics tracker reports the abandoned call as ignored cancellation", async () => {
    const tracking = track({ ignoredCancellationMs: 0 });
    try {
      const { work, settle } = ignoring<number>();
      let started = false;
      await assert.rejects(
        timeout(50, { abandon: true, name: "slow-dep" }).execute(background(), () => {
          started = true;
          return work();
        }),
        {
          name: "TimeoutError",
        },
      );
      assert.ok(started, "the work started (the timeout had not passed before it could)");
      await sleep(background(), 5);
      const found = snapshot().findings.filter((f) => f.kind === "ignored-cancellation");
      assert.equal(
        found.length,
        1,
        `one ignored-cancellation finding, got ${JSON.stringify(found.map((f) => f.message))}`,
      );
      assert.match(
        found[0]!.message,
        /"resilience\.timeout" operation .*after context "slow-dep" ended/,
      );
      settle(1);
      await sleep(background(), 5);
      // Once it settles it is no longer running, but the overrun stays on record for the run
      // (diagnostics judge ignored cancellation over the whole run, not only at a snapshot).
      const after = snapshot().findings.filter((f) => f.kind === "ignored-cancellation");
      assert.equal(after.length, 1, "the overrun is kept once the work settles");
      assert.match(after[0]!.message, /then finished/);
    } finally {
      tracking.stop();
    }
  });

  it("abandon: a caller's cancel releases the call at once too", async () => {
    const caller = withCancel(background());
    const { work, settle } = ignoring<number>();
    const call = timeout(10_000, { abandon: true }).execute(caller, work);
    caller.cancel();
    await assert.rejects(call, { name: "AbortError" });
    settle(1);
  });

  it("arms no timer when the caller's deadline comes first, and leaves none behind", async () => {
    using caller = withTimeout(background(), 5_000);
    const before = coreStats().armedTimers;
    let during = 0;
    await timeout(10_000).execute(caller, () => (during = coreStats().armedTimers));
    assert.equal(during, before, "the caller's timer is enough");
    await timeout(100).execute(background(), () => 1);
    assert.equal(coreStats().armedTimers, before, "no timer left after the call");
  });
});
