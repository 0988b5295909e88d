import { coreStats } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import {
  DeadlineExceeded,
  background,
  sleep,
  withCancel,
  withTimeout,
  withValue,
  createKey,
  type DeadlineFiredMessage,
} from "../../src/index.js";
import { blockFor, state } from "../helpers.js";

// A CPU loop never lets a deadline timer run: these check that a deadline passed is a deadline
// passed when the context is read, as the loop reads it.
describe("a deadline passed while the event loop is busy", () => {
  it("throwIfDone() throws in a CPU loop once the deadline has passed", () => {
    using ctx = withTimeout(background(), 20, { name: "batch" });
    const start = performance.now();
    let iterations = 0;
    assert.throws(
      () => {
        for (;;) {
          ctx.throwIfDone();
          iterations++;
          if (performance.now() - start > 5_000) return; // the bug: it never throws
        }
      },
      (err: unknown) => {
        assert.ok(err instanceof DeadlineExceeded, `expected DeadlineExceeded, got ${String(err)}`);
        assert.match(err.message, /context "batch" \(timeout 20 ms\) exceeded its deadline/);
        return true;
      },
    );
    assert.ok(performance.now() - start < 1_000, "it threw soon after the deadline");
    assert.ok(iterations > 0, "the loop ran before the deadline");
  });

  it("err and cause are set, with how late the deadline was seen, and remaining() is 0", () => {
    const ctx = withTimeout(background(), 10);
    blockFor(60);
    assert.equal(ctx.remaining(), 0);
    const err = ctx.err;
    assert.ok(err instanceof DeadlineExceeded, "err is DeadlineExceeded, not undefined");
    assert.equal(ctx.cause, err);
    assert.ok(err.lateByMs >= 40, `lateByMs ${err.lateByMs}`);
    assert.match(err.message, /late: the event loop was blocked/);
  });

  it("reading a descendant ends the ancestor that set the deadline, as its timer would", () => {
    const request = withTimeout(background(), 10, { name: "request" });
    const values = withValue(request, createKey<number>("n"), 1);
    const child = withCancel(values, { name: "db" });
    const grandchild = withTimeout(child, 60_000, { name: "query" });
    blockFor(40);
    const err = grandchild.err;
    assert.ok(err instanceof DeadlineExceeded, "the grandchild has ended");
    assert.equal(err.origin, "request");
    assert.match(err.message, /the deadline of ancestor "request" \(timeout 10 ms\) passed/);
    assert.ok(request.err instanceof DeadlineExceeded, "the ancestor ended with it");
    assert.ok(child.err instanceof DeadlineExceeded);
  });

  it("publishes deadline:fired with the lateness, once", () => {
    const ctx = withTimeout(background(), 10);
    const fired: DeadlineFiredMessage[] = [];
    const listener = (m: unknown): void => void fired.push(m as DeadlineFiredMessage);
    diagnosticsChannel.subscribe("timebound:deadline:fired", listener);
    try {
      blockFor(50);
      assert.ok(ctx.err !== undefined);
      assert.ok(ctx.err !== undefined, "a second read ends nothing again");
    } finally {
      diagnosticsChannel.unsubscribe("timebound:deadline:fired", listener);
    }
    const mine = fired.filter((m) => m.context === ctx);
    assert.equal(mine.length, 1);
    assert.ok(mine[0]!.lateByMs >= 30, `lateByMs ${mine[0]!.lateByMs}`);
  });

  it("withTimeout(parent, 0) of a parent whose deadline passed unseen is born ended, and so is the parent", () => {
    const parent = withTimeout(background(), 10, { name: "request" });
    blockFor(40);
    const child = withTimeout(parent, 0);
    assert.ok(child.err instanceof DeadlineExceeded, "born ended");
    assert.equal(child.err.origin, "request", "ended by the parent's deadline");
    assert.ok(parent.err instanceof DeadlineExceeded);
    const later = withCancel(parent);
    assert.ok(later.err instanceof DeadlineExceeded, "any child of it is born ended");
  });

  it("a sleep started after an unseen deadline rejects at once, arming nothing", async () => {
    const ctx = withTimeout(background(), 10);
    blockFor(40);
    const timers = coreStats().armedTimers;
    const slept = sleep(ctx, 10_000);
    assert.equal(await state(slept), "rejected");
    await assert.rejects(slept, DeadlineExceeded);
    assert.ok(coreStats().armedTimers <= timers, "no timer left armed");
  });

  it("the signal and done of a context read after its deadline are aborted and resolved", async () => {
    const ctx = withTimeout(background(), 10);
    blockFor(40);
    assert.equal(ctx.signal.aborted, true);
    assert.ok(ctx.signal.reason instanceof DeadlineExceeded);
    assert.equal(await state(ctx.done), "fulfilled");
  });
});
