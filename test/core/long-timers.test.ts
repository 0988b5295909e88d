import { coreStats } from "../../src/core/introspect.js";
import { capDelay, MAX_TIMER_DELAY_MS } from "../../src/core/internal.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  background,
  sleep,
  ticker,
  withCancel,
  withDeadline,
  now,
  withTimeout,
} from "../../src/index.js";

/**
 * Runs `body` while counting the timers armed through the global `setTimeout` and the
 * TimeoutOverflowWarnings Node prints (a delay past 2^31 - 1 ms fires after 1 ms instead).
 */
async function watchTimers(
  body: () => Promise<void>,
): Promise<{ armed: number; overflows: number }> {
  const original = globalThis.setTimeout;
  let armed = 0;
  let overflows = 0;
  const onWarning = (w: Error): void => {
    if (w.name === "TimeoutOverflowWarning") overflows++;
  };
  process.on("warning", onWarning);
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    armed++;
    return original(...args);
  }) as typeof setTimeout;
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a tick
  } finally {
    globalThis.setTimeout = original;
    process.off("warning", onWarning);
  }
  return { armed, overflows };
}

describe("timers past 2^31 - 1 ms", () => {
  it("capDelay rounds up and caps what setTimeout is given", () => {
    assert.equal(capDelay(2 ** 40), MAX_TIMER_DELAY_MS);
    assert.equal(capDelay(MAX_TIMER_DELAY_MS + 0.5), MAX_TIMER_DELAY_MS);
    assert.equal(capDelay(Infinity), MAX_TIMER_DELAY_MS);
    assert.equal(capDelay(0.2), 1, "a deadline timer never fires before it is due");
    assert.equal(capDelay(-5), 0);
    assert.equal(capDelay(Number.NaN), 0);
  });

  it("a child waiting under a deadline 2^32 ms away arms one capped keep-alive timer, not one per ms", async () => {
    const parent = withTimeout(background(), 2 ** 32);
    const child = withCancel(parent);
    const seen = await watchTimers(() => sleep(child, 60));
    assert.equal(seen.overflows, 0, "no TimeoutOverflowWarning");
    // the sleep's timer and the child's keep-alive timer; the bug re-armed one every 1 ms
    assert.ok(seen.armed <= 4, `${seen.armed} timers armed in 60 ms`);
    const before = coreStats().armedTimers;
    child.cancel();
    parent.cancel();
    assert.ok(coreStats().armedTimers <= before - 2, "both contexts' timers were cleared");
  });

  it("a context whose own deadline is 2^40 ms away stays live and arms no overflowing timer", async () => {
    const seen = await watchTimers(async () => {
      using ctx = withTimeout(background(), 2 ** 40);
      await sleep(ctx, 30);
      assert.equal(ctx.err, undefined, "still live");
      assert.ok(ctx.remaining() > MAX_TIMER_DELAY_MS, "its deadline is still 2^40 ms away");
    });
    assert.equal(seen.overflows, 0);
    assert.ok(seen.armed <= 3, `${seen.armed} timers armed`);
  });

  it("ticker(ctx, 2 ** 31) does not tick every ms", async () => {
    const ticks: number[] = [];
    const seen = await watchTimers(async () => {
      using ctx = withTimeout(background(), 150);
      for await (const tick of ticker(ctx, 2 ** 31)) ticks.push(tick.index);
    });
    assert.deepEqual(ticks, [], "no tick is due in 150 ms");
    assert.equal(seen.overflows, 0);
    assert.ok(seen.armed <= 4, `${seen.armed} timers armed in 150 ms`);
  });

  it("sleep(ctx, 2 ** 33) waits (canceled), with no overflow", async () => {
    const seen = await watchTimers(async () => {
      const ctx = withCancel(background());
      const slept = sleep(ctx, 2 ** 33);
      await sleep(background(), 30);
      ctx.cancel();
      await assert.rejects(slept, { name: "AbortError" });
    });
    assert.equal(seen.overflows, 0);
  });

  it("withDeadline far in the future keeps a deadline, never an Infinity in its messages", () => {
    using ctx = withDeadline(background(), now() + 1e308);
    assert.match(String(ctx.deadline), /e\+308/);
    using huge = withTimeout(background(), 1e308);
    huge.cancel();
    const message = huge.err?.message ?? "";
    assert.doesNotMatch(message, /Infinity/, message);
    assert.match(message, /timeout 1e\+308 ms/, message);
  });
});
