import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { background, sleep, ticker, withCancel, withTimeout } from "../../src/index.js";
import { activeTimeouts, blockFor } from "../helpers.js";

describe("ticker", () => {
  it("ticks every interval and stops when the context ends, leaving no timer", async () => {
    const before = activeTimeouts();
    const ctx = withTimeout(background(), 130);
    const ticks: number[] = [];
    for await (const tick of ticker(ctx, 20)) ticks.push(tick.index);
    assert.ok(ticks.length >= 3 && ticks.length <= 7, `ticks ${ticks.join(",")}`);
    assert.deepEqual(
      ticks,
      ticks.map((_, i) => ticks[0]! + i),
    );
    assert.equal(activeTimeouts(), before);
    assert.ok(ctx.err);
  });

  it("stops at once when canceled while waiting", async () => {
    const ctx = withCancel(background());
    const it = ticker(ctx, 60_000);
    const next = it.next();
    assert.equal(dependents(ctx), 1);
    ctx.cancel();
    assert.deepEqual(await next, { done: true, value: undefined });
    assert.equal(dependents(ctx), 0);
  });

  it("breaking out of the loop clears its timer", async () => {
    const before = activeTimeouts();
    const ctx = withCancel(background());
    for await (const tick of ticker(ctx, 5)) {
      if (tick.index >= 2) break;
    }
    assert.equal(activeTimeouts(), before);
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("a slow consumer gets one tick at once, with the missed ones counted as skipped", async () => {
    const ctx = withCancel(background());
    const it = ticker(ctx, 10);
    const first = await it.next();
    assert.equal(first.done, false);
    blockFor(55);
    const second = await it.next();
    assert.ok(!second.done && second.value.skipped >= 3, JSON.stringify(second.value));
    await it.return?.();
    ctx.cancel();
  });

  it("yields nothing on an ended context", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    assert.deepEqual(await ticker(ctx, 5).next(), { done: true, value: undefined });
  });

  it("rejects a concurrent next() and bad intervals", async () => {
    const ctx = withCancel(background());
    const it = ticker(ctx, 1000);
    const first = it.next();
    await assert.rejects(it.next(), /previous next\(\) is waiting/);
    ctx.cancel();
    await first;
    assert.throws(() => ticker(background(), 0), /positive, finite number, got 0/);
    assert.throws(() => ticker(background(), Number.NaN), RangeError);
    assert.throws(() => ticker(background(), Infinity), RangeError);
    await sleep(background(), 0);
  });
});
