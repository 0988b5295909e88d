import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Canceled,
  DeadlineExceeded,
  background,
  sleep,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import { activeTimeouts, state } from "../helpers.js";

describe("sleep", () => {
  it("resolves after the delay", async () => {
    const t = performance.now();
    await sleep(background(), 30);
    assert.ok(performance.now() - t >= 28);
  });

  it("rejects with the context's error as soon as it is canceled, and clears its timer", async () => {
    const parent = withCancel(background());
    const before = activeTimeouts();
    const p = sleep(parent, 60_000);
    assert.equal(activeTimeouts(), before + 1);
    assert.equal(dependents(parent), 1);
    parent.cancel(new Error("stop"));
    await assert.rejects(p, (err) => err === parent.err && err instanceof Canceled);
    assert.equal(activeTimeouts(), before);
    assert.equal(dependents(parent), 0);
  });

  it("rejects with DeadlineExceeded when the deadline comes first", async () => {
    const ctx = withTimeout(background(), 20);
    const t = performance.now();
    await assert.rejects(sleep(ctx, 10_000), DeadlineExceeded);
    assert.ok(performance.now() - t < 2_000);
  });

  it("unlinks from the context once it wakes normally", async () => {
    const ctx = withCancel(background());
    await sleep(ctx, 1);
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("rejects at once on an already-ended context, without arming a timer", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    const before = activeTimeouts();
    const p = sleep(ctx, 1000);
    assert.equal(activeTimeouts(), before);
    assert.equal(await state(p), "rejected");
    await assert.rejects(p, Canceled);
  });

  it("sleeps forever with Infinity until the context ends", async () => {
    const ctx = withCancel(background());
    const p = sleep(ctx, Infinity);
    assert.equal(await state(p), "pending");
    ctx.cancel();
    await assert.rejects(p, Canceled);
  });

  it("rejects (never throws) on bad input, with a clear error", async () => {
    await assert.rejects(sleep(background(), Number.NaN), /sleep: ms must be a number/);
    await assert.rejects(sleep(background(), "5" as unknown as number), /got "5"/);
    await assert.rejects(sleep({} as never, 5), /sleep: ctx must be a timebound Context/);
  });
});
