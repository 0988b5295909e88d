import { coreStats, dependents } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Canceled,
  DeadlineExceeded,
  background,
  cause,
  createKey,
  explain,
  now,
  withCancel,
  withDeadline,
  withDeadlineCause,
  withTimeout,
  withTimeoutCause,
  withValue,
  type Context,
} from "../../src/index.js";

/** Whether `ctx` is live, read without letting TypeScript narrow `ctx.err` for later lines. */
function isLive(ctx: Context): boolean {
  return ctx.err === undefined;
}

function busyWait(ms: number): void {
  const end = now() + ms;
  while (now() < end) {
    // spin: block the event loop on purpose
  }
}

describe("withTimeout", () => {
  it("sets a deadline of now() + timeout and ends with DeadlineExceeded after it", async () => {
    const before = now();
    const ctx = withTimeout(background(), 40, { name: "t" });
    const after = now();
    assert.ok(ctx.deadline !== undefined);
    assert.ok(ctx.deadline >= before + 40 && ctx.deadline <= after + 40);
    const left = ctx.remaining();
    assert.ok(left > 0 && left <= 40, `remaining ${left}`);
    assert.ok(isLive(ctx));
    await ctx.done;
    const ended = now();
    assert.ok(ended >= before + 39, `ended after ${ended - before} ms`);
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.equal(cause(ctx), ctx.err);
    assert.equal(ctx.err.cause, undefined);
    assert.equal(ctx.remaining(), 0);
    assert.equal(ctx.signal.aborted, true);
    assert.equal(ctx.signal.reason, ctx.err);
  });

  it("remaining() counts down", async () => {
    using ctx = withTimeout(background(), 5_000);
    const first = ctx.remaining();
    await new Promise((r) => setTimeout(r, 20));
    const second = ctx.remaining();
    assert.ok(second < first, `${second} < ${first}`);
    assert.ok(first - second >= 15, `decreased by ${first - second}`);
  });

  it("cancel() before the deadline gives Canceled and clears the timer", () => {
    const before = coreStats().armedTimers;
    const ctx = withTimeout(background(), 10_000);
    assert.equal(coreStats().armedTimers, before + 1);
    ctx.cancel();
    assert.equal(coreStats().armedTimers, before);
    assert.ok(ctx.err instanceof Canceled);
  });

  for (const t of [0, -1, -1000, -Infinity]) {
    it(`a timeout of ${t} gives an already-expired context, synchronously`, () => {
      const parent = withCancel(background());
      const before = coreStats().armedTimers;
      const ctx = withTimeout(parent, t);
      assert.ok(ctx.err instanceof DeadlineExceeded);
      assert.equal(ctx.remaining(), 0);
      assert.equal(ctx.signal.aborted, true);
      assert.equal(coreStats().armedTimers, before);
      assert.equal(dependents(parent), 0);
      assert.equal(parent.err, undefined, "the parent is not affected");
      parent.cancel();
    });
  }

  it("an Infinity timeout gives no deadline of its own and no timer", () => {
    const before = coreStats().armedTimers;
    using ctx = withTimeout(background(), Infinity);
    assert.equal(ctx.deadline, undefined);
    assert.equal(ctx.remaining(), Infinity);
    assert.equal(coreStats().armedTimers, before);
  });

  it("an Infinity timeout under a parent with a deadline takes the parent's", () => {
    using parent = withTimeout(background(), 1_000);
    using ctx = withTimeout(parent, Infinity);
    assert.equal(ctx.deadline, parent.deadline);
  });
});

describe("timer edge cases", () => {
  it("a deadline never fires early, even when armed while the loop clock is stale", async () => {
    busyWait(100); // libuv's cached loop time now lags real time by ~100 ms
    const start = now();
    const ctx = withTimeout(background(), 50);
    await ctx.done;
    const elapsed = now() - start;
    assert.ok(elapsed >= 49, `ended after ${elapsed} ms`);
    assert.ok(ctx.err instanceof DeadlineExceeded);
  });

  it("a timeout longer than setTimeout's limit is honoured without a TimeoutOverflowWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on("warning", onWarning);
    const before = coreStats().armedTimers;
    try {
      using ctx = withTimeout(background(), 2 ** 40);
      assert.equal(coreStats().armedTimers, before + 1);
      assert.ok(ctx.remaining() > 2 ** 39);
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(isLive(ctx), "not ended by a clamped timer");
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, []);
    assert.equal(coreStats().armedTimers, before);
  });

  it("remaining() is 0, never negative, once the deadline has passed", () => {
    using ctx = withTimeout(background(), 5);
    busyWait(20);
    assert.equal(ctx.remaining(), 0);
  });

  it("a zero-timeout child of a canceled parent takes the parent's error and cause", () => {
    const parent = withCancel(background());
    parent.cancel("parent");
    const child = withTimeoutCause(parent, 0, "own");
    assert.ok(child.err instanceof Canceled);
    assert.equal(cause(child), "parent");
  });
});

describe("withDeadline", () => {
  it("takes a monotonic deadline as is and ends at it", async () => {
    const d = now() + 30;
    const ctx = withDeadline(background(), d);
    assert.equal(ctx.deadline, d);
    await ctx.done;
    assert.ok(now() >= d - 1);
    assert.ok(ctx.err instanceof DeadlineExceeded);
  });

  it("converts a Date to monotonic time", async () => {
    const expected = now() + 50;
    const ctx = withDeadline(background(), new Date(Date.now() + 50));
    assert.ok(ctx.deadline !== undefined);
    assert.ok(Math.abs(ctx.deadline - expected) <= 5, `off by ${ctx.deadline - expected} ms`);
    await ctx.done;
    assert.ok(ctx.err instanceof DeadlineExceeded);
  });

  it("a Date in the past gives an already-expired context", () => {
    const ctx = withDeadline(background(), new Date(Date.now() - 1_000));
    assert.ok(ctx.err instanceof DeadlineExceeded);
  });

  it("a monotonic deadline in the past gives an already-expired context", () => {
    const ctx = withDeadline(background(), now() - 10);
    assert.ok(ctx.err instanceof DeadlineExceeded);
  });

  it("Infinity means no deadline", () => {
    using ctx = withDeadline(background(), Infinity);
    assert.equal(ctx.deadline, undefined);
    assert.equal(ctx.err, undefined);
  });
});

describe("withDeadlineCause / withTimeoutCause", () => {
  it("withTimeoutCause keeps its cause when its own deadline fires", async () => {
    const why = new Error("inventory SLO is 20 ms");
    const ctx = withTimeoutCause(background(), 20, why);
    await ctx.done;
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.equal(cause(ctx), why);
    assert.equal(ctx.err.cause, why);
  });

  it("withDeadlineCause keeps its cause when its own deadline fires", async () => {
    const why = new Error("batch window closed");
    const ctx = withDeadlineCause(background(), now() + 20, why);
    await ctx.done;
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.equal(cause(ctx), why);
  });

  it("withDeadlineCause with a Date", async () => {
    const ctx = withDeadlineCause(background(), new Date(Date.now() + 20), "why");
    await ctx.done;
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.equal(cause(ctx), "why");
  });

  it("a zero timeout keeps the cause too (expired at birth)", () => {
    const ctx = withTimeoutCause(background(), 0, "slo");
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.equal(cause(ctx), "slo");
  });

  it("canceled before the deadline: Canceled, and the timeout cause is not used", () => {
    const ctx = withTimeoutCause(background(), 10_000, "slo");
    ctx.cancel();
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(cause(ctx), ctx.err);
  });

  it("canceled with a cause before the deadline: that cause", () => {
    const ctx = withDeadlineCause(background(), now() + 10_000, "slo");
    ctx.cancel("user");
    assert.equal(cause(ctx), "user");
  });

  it("when the parent's deadline wins, the child's cause is the parent's, not its own", async () => {
    const parent = withTimeout(background(), 20);
    const child = withTimeoutCause(parent, 5_000, "child slo");
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.notEqual(cause(child), "child slo");
    assert.equal(cause(child), child.err);
  });

  it("when the parent's withTimeoutCause fires, the child gets that cause", async () => {
    const parent = withTimeoutCause(background(), 20, "parent slo");
    const child = withTimeout(parent, 5_000);
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.equal(cause(child), "parent slo");
  });
});

describe("effective deadline and timers", () => {
  it("a later child deadline yields the parent's, and arms no timer", () => {
    const before = coreStats().armedTimers;
    using parent = withTimeout(background(), 1_000);
    assert.equal(coreStats().armedTimers, before + 1);
    using later = withTimeout(parent, 2_000);
    assert.ok(parent.deadline !== undefined);
    using equal = withDeadline(parent, parent.deadline);
    using cancelChild = withCancel(parent);
    const valueChild = withValue(parent, createKey<number>("n"), 1);
    assert.equal(coreStats().armedTimers, before + 1, "no timer for later/equal children");
    for (const ctx of [later, equal, cancelChild, valueChild]) {
      assert.equal(ctx.deadline, parent.deadline);
      const parentLeft = parent.remaining();
      assert.ok(ctx.remaining() <= parentLeft);
    }
  });

  it("an earlier child deadline is its own, and arms a timer", () => {
    const before = coreStats().armedTimers;
    using parent = withTimeout(background(), 1_000);
    using child = withTimeout(parent, 100);
    assert.equal(coreStats().armedTimers, before + 2);
    assert.ok(child.deadline !== undefined && parent.deadline !== undefined);
    assert.ok(child.deadline < parent.deadline);
  });

  it("timers are released when the tree is canceled", () => {
    const before = coreStats().armedTimers;
    const root = withCancel(background());
    withTimeout(root, 1_000);
    withTimeout(withTimeout(root, 2_000), 500);
    assert.equal(coreStats().armedTimers, before + 3);
    root.cancel();
    assert.equal(coreStats().armedTimers, before);
  });

  it("timers are released when they fire", async () => {
    const before = coreStats().armedTimers;
    const ctx = withTimeout(background(), 10);
    assert.equal(coreStats().armedTimers, before + 1);
    await ctx.done;
    assert.equal(coreStats().armedTimers, before);
  });

  it("when the parent's deadline wins, the child ends with DeadlineExceeded naming the parent", async () => {
    const parent = withTimeout(background(), 30, { name: "request" });
    const child = withTimeout(parent, 5_000, { name: "inventory" });
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.ok(child.err.message.includes('ancestor "request"'), child.err.message);
    assert.equal(child.err.origin, "request");
    assert.equal(child.err.context, "inventory");
    assert.equal(explain(child).origin?.depth, 1);
    assert.ok(parent.err instanceof DeadlineExceeded);
  });

  it("a child's own earlier deadline ends only the child", async () => {
    using parent = withTimeout(background(), 5_000);
    const child = withTimeout(parent, 10);
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.equal(parent.err, undefined);
    assert.equal(dependents(parent), 0);
  });
});

describe("late deadlines (event loop blocked)", () => {
  it("reports lateByMs and says the event loop was blocked", async () => {
    const ctx = withTimeout(background(), 20, { name: "slow" });
    const child = withCancel(ctx);
    busyWait(120);
    await ctx.done;
    const err = ctx.err;
    assert.ok(err instanceof DeadlineExceeded);
    assert.ok(err.lateByMs >= 80, `lateByMs ${err.lateByMs}`);
    assert.ok(err.lateByMs < 5_000, `lateByMs ${err.lateByMs}`);
    const e = explain(ctx);
    assert.ok(e.lateByMs !== undefined && e.lateByMs >= 80);
    assert.match(err.message, /fired \d+ ms late/);
    assert.match(err.message, /event loop was blocked/);
    // The child ended because of the same late timer.
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.ok(child.err.lateByMs >= 80);
  });

  it("a cancel is never late", () => {
    const ctx = withTimeout(background(), 10_000);
    ctx.cancel();
    assert.equal(ctx.err?.lateByMs, 0);
    assert.equal(explain(ctx).lateByMs, undefined);
  });
});
