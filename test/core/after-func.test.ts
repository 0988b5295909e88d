import { dependents } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  afterFunc,
  background,
  createKey,
  withCancel,
  withTimeout,
  withValue,
  withoutCancel,
} from "../../src/index.js";

function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe("afterFunc", () => {
  it("runs fn on a microtask after cancel, not inside cancel, with err already set", async () => {
    const ctx = withCancel(background());
    const seen: unknown[] = [];
    afterFunc(ctx, () => seen.push(ctx.err));
    ctx.cancel();
    assert.equal(seen.length, 0, "not synchronously inside cancel()");
    await Promise.resolve();
    assert.equal(seen.length, 1, "on the next microtask");
    assert.equal(seen[0], ctx.err);
  });

  it("runs fn once, however the context is ended again", async () => {
    const parent = withCancel(background());
    const ctx = withCancel(parent);
    let runs = 0;
    afterFunc(ctx, () => runs++);
    ctx.cancel();
    ctx.cancel();
    parent.cancel();
    await macrotask();
    assert.equal(runs, 1);
  });

  it("stop() before the end returns true and fn never runs", async () => {
    const ctx = withCancel(background());
    let runs = 0;
    const stop = afterFunc(ctx, () => runs++);
    assert.equal(stop(), true);
    assert.equal(stop(), false, "already stopped");
    ctx.cancel();
    await macrotask();
    assert.equal(runs, 0);
  });

  it("stop() after the end returns false (fn was started)", async () => {
    const ctx = withCancel(background());
    let runs = 0;
    const stop = afterFunc(ctx, () => runs++);
    ctx.cancel();
    assert.equal(stop(), false);
    await macrotask();
    assert.equal(runs, 1);
    assert.equal(stop(), false);
  });

  it("on an already-ended context, fn is queued (not run synchronously)", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    let runs = 0;
    const stop = afterFunc(ctx, () => runs++);
    assert.equal(runs, 0);
    assert.equal(stop(), false);
    await macrotask();
    assert.equal(runs, 1);
  });

  it("runs when the context's deadline passes", async () => {
    const ctx = withTimeout(background(), 10);
    let ran = false;
    afterFunc(ctx, () => (ran = true));
    await ctx.done;
    await macrotask();
    assert.equal(ran, true);
  });

  it("runs when an ancestor ends, also through a withValue context", async () => {
    const parent = withCancel(background());
    const v = withValue(parent, createKey<number>("n"), 1);
    let ran = false;
    afterFunc(v, () => (ran = true));
    parent.cancel();
    await macrotask();
    assert.equal(ran, true);
  });

  it("never runs for a context that cannot end; stop() returns true", async () => {
    const parent = withCancel(background());
    let runs = 0;
    afterFunc(background(), () => runs++);
    const stop = afterFunc(withoutCancel(parent), () => runs++);
    parent.cancel();
    await macrotask();
    assert.equal(runs, 0);
    assert.equal(stop(), true);
  });

  it("stop() unregisters: the context's dependents go back to 0", () => {
    const ctx = withCancel(background());
    const stops = [afterFunc(ctx, () => {}), afterFunc(ctx, () => {})];
    assert.equal(dependents(ctx), 2);
    for (const stop of stops) stop();
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("several afterFuncs all run", async () => {
    const ctx = withCancel(background());
    const order: number[] = [];
    for (let i = 0; i < 3; i++) afterFunc(ctx, () => order.push(i));
    ctx.cancel();
    await macrotask();
    assert.deepEqual(order.sort(), [0, 1, 2]);
  });
});
