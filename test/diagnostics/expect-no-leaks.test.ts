import assert, { AssertionError } from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CancelableContext,
  background,
  sleep,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import { expectNoLeaks, leakCheck } from "../../src/diagnostics/expect-no-leaks.js";
import { isTracking } from "../../src/diagnostics/track.js";

const kept: CancelableContext[] = [];
const timers: ReturnType<typeof setInterval>[] = [];

function leakAContext(): void {
  kept.push(withCancel(background(), { name: "forgotten" }));
}

function leakATimer(): void {
  timers.push(setInterval(() => {}, 1_000));
}

async function rejection(p: Promise<unknown>): Promise<AssertionError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AssertionError, String(err));
    return err;
  }
  assert.fail("expected expectNoLeaks to fail");
}

describe("expectNoLeaks (goleak for node:test and vitest)", () => {
  it("passes on a test that cancels what it starts, and returns its result", async () => {
    const result = await expectNoLeaks(async () => {
      using ctx = withTimeout(background(), 1_000, { name: "clean" });
      await sleep(ctx, 5);
      setTimeout(() => {}, 5); // fires within the grace period: not a leak
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(isTracking(), false, "the check turned tracking off again");
  });

  it("fails with the stack of a context left live", async () => {
    const err = await rejection(expectNoLeaks(() => leakAContext(), { graceMs: 50 }));
    assert.match(err.message, /expectNoLeaks: 1 thing the test created is still there after 50 ms/);
    assert.match(
      err.message,
      /context \d+ "forgotten" \[withCancel, live \d+ ms, no deadline\]:\nleakAContext\(\.\.\.\)\n\t\S+expect-no-leaks\.test\.ts:\d+:\d+\n/,
    );
    kept.pop()?.cancel();
  });

  it("fails with the stack of a timer left armed, and of an operation left waiting", async () => {
    const ctx = withCancel(background(), { name: "waiting" });
    const err = await rejection(
      expectNoLeaks(
        () => {
          leakATimer();
          void sleep(ctx, 60_000).catch(() => {});
        },
        { graceMs: 50, check: ["operation", "timer"] },
      ),
    );
    assert.match(
      err.message,
      /operation \d+ \[setInterval, running \d+ ms, no cancellable context\]:\nleakATimer\(\.\.\.\)/,
    );
    assert.match(err.message, /operation \d+ \[sleep, running \d+ ms, context \d+ "waiting"\]:/);
    ctx.cancel();
    clearInterval(timers.pop());
  });

  it("ignores what it is told to ignore", async () => {
    await expectNoLeaks(() => leakAContext(), { graceMs: 20, ignoreFunctions: ["leakAContext"] });
    await expectNoLeaks(() => leakAContext(), {
      graceMs: 20,
      ignore: (leak) => leak.type === "context",
    });
    for (const ctx of kept.splice(0)) ctx.cancel();
  });

  it("as a before/after pair: leakCheck() then verify()", async () => {
    const check = leakCheck({ graceMs: 20 });
    leakAContext();
    await assert.rejects(check.verify(), /"forgotten"/);
    await assert.rejects(check.verify(), /verify\(\) was already called/);
    kept.pop()?.cancel();
    const clean = leakCheck({ graceMs: 20 });
    await clean.verify();
  });

  it("reports the test's own failure rather than the leak check's", async () => {
    await assert.rejects(
      expectNoLeaks(
        () => {
          leakAContext();
          throw new Error("the test failed");
        },
        { graceMs: 10 },
      ),
      /the test failed/,
    );
    kept.pop()?.cancel();
  });

  it("rejects bad arguments", async () => {
    await assert.rejects(
      expectNoLeaks(42 as unknown as () => void),
      /expectNoLeaks: fn must be a function, got 42/,
    );
    assert.throws(
      () => leakCheck({ graceMs: -1 }),
      /leakCheck: options\.graceMs must be a number of milliseconds from 0 to 60,000, got -1/,
    );
  });
});
