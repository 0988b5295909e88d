import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import { dependents } from "../../src/core/introspect.js";
import {
  Canceled,
  type Context,
  DeadlineExceeded,
  background,
  cause,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import type { ResilienceEvent } from "../../src/resilience/events.js";
import { hedge } from "../../src/resilience/hedge.js";
import { blockFor } from "../helpers.js";

/** Work that never answers on its own: it rejects with its context's error when that ends. */
function hang(ctx: Context): Promise<never> {
  return new Promise((_, reject) => void ctx.done.then(() => reject(ctx.err as Error)));
}

/** Waits (at most 5 s) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), "condition reached within 5 s");
}

/** Records the events of one policy while `body` runs. */
async function recording(policy: string, body: () => Promise<void>): Promise<ResilienceEvent[]> {
  const events: ResilienceEvent[] = [];
  const listener = (m: unknown): void => {
    if ((m as ResilienceEvent).policy === policy) events.push(m as ResilienceEvent);
  };
  subscribe("timebound:resilience:hedge", listener);
  try {
    await body();
  } finally {
    unsubscribe("timebound:resilience:hedge", listener);
  }
  return events;
}

describe("hedge", () => {
  it("the first success wins and the losers' contexts are canceled: their work sees it", async () => {
    const h = hedge({ delayMs: 5, maxHedges: 2, name: "h1" });
    const seen: { err: unknown; cause: unknown }[] = [];
    let calls = 0;
    const caller = withCancel(background());
    const events = await recording("h1", async () => {
      const result = await h.execute(caller, async (ctx) => {
        const n = ++calls;
        if (n === 3) return "third";
        try {
          return await hang(ctx);
        } catch (err) {
          seen.push({ err, cause: cause(ctx) });
          throw err;
        }
      });
      assert.equal(result, "third");
      await new Promise((r) => setImmediate(r));
    });
    assert.equal(calls, 3);
    assert.equal(seen.length, 2, "both losers saw the cancel");
    for (const s of seen) {
      assert.ok(s.err instanceof Canceled, "a loser's work gets Canceled");
      assert.match(String((s.cause as Error).message), /hedge "h1": attempt 3 answered first/);
    }
    assert.equal(caller.err, undefined, "the caller's context is untouched");
    assert.equal(
      dependents(caller),
      0,
      "no attempt context or watcher left on the caller's context",
    );
    assert.deepEqual(
      events.map((e) => [e.event, e.attempt]),
      [
        ["hedge", 2],
        ["hedge", 3],
        ["won", 3],
      ],
    );
    assert.equal(events[2]!.attempts, 3);
  });

  it("starts at most maxHedges extra attempts", async () => {
    for (const maxHedges of [1, 2, 3]) {
      const h = hedge({ delayMs: 2, maxHedges });
      let calls = 0;
      const ctx = withCancel(background());
      const p = h.execute(ctx, (c) => {
        calls++;
        return hang(c);
      });
      await until(() => calls === 1 + maxHedges);
      await new Promise((r) => setTimeout(r, 30)); // several more delays: no further attempt
      assert.equal(calls, 1 + maxHedges, `maxHedges ${maxHedges}`);
      ctx.cancel();
      await assert.rejects(p, Canceled);
    }
  });

  it("draws each hedge from the budget, and starts none without a token", async () => {
    let tokens = 1;
    let asked = 0;
    const budget = {
      tryWithdraw(): boolean {
        asked++;
        if (tokens === 0) return false;
        tokens--;
        return true;
      },
    };
    const h = hedge({ delayMs: 2, maxHedges: 3, budget, name: "h-budget" });
    let calls = 0;
    const events = await recording("h-budget", async () => {
      const ctx = withCancel(background());
      const p = h.execute(ctx, (c) => {
        calls++;
        return hang(c);
      });
      await until(() => asked === 2);
      await new Promise((r) => setTimeout(r, 30));
      ctx.cancel();
      await assert.rejects(p, Canceled);
    });
    assert.equal(calls, 2, "one hedge: the budget had one token");
    assert.equal(asked, 2, "after a refusal, no later hedge is tried for the call");
    assert.deepEqual(
      events.map((e) => [e.event, e.reason]),
      [
        ["hedge", undefined],
        ["skipped", "budget"],
      ],
    );
  });

  it("never starts a hedge the caller's remaining time cannot hold", async () => {
    // 100 ms left, a 60 ms delay and 60 ms needed for an attempt: no timer is even armed.
    const h = hedge({ delayMs: 60 });
    let calls = 0;
    await assert.rejects(
      h.execute(withTimeout(background(), 100), (c) => {
        calls++;
        return hang(c);
      }),
      DeadlineExceeded,
    );
    assert.ok(calls < 2, `no hedge (${calls} calls)`);

    // Armed with time to spare, but the loop was blocked past it: skipped when due.
    const late = hedge({ delayMs: 10, minAttemptMs: 500, name: "h-late" });
    let lateCalls = 0;
    const events = await recording("h-late", async () => {
      const ctx = withTimeout(background(), 1_000);
      const p = late.execute(ctx, (c) => {
        lateCalls++;
        return hang(c);
      });
      blockFor(600); // the hedge fires with at most 400 ms left, under minAttemptMs
      await new Promise((r) => setTimeout(r, 20)); // the overdue hedge timer fires first
      ctx.cancel();
      await assert.rejects(p, Canceled);
    });
    assert.equal(lateCalls, 1);
    assert.deepEqual(
      events.map((e) => [e.event, e.reason]),
      [["skipped", "deadline"]],
    );
    assert.ok((events[0]!.remainingMs as number) < 500, "says how much time was left");
  });

  it("a failed attempt does not end the call while another runs; all failed: the first error", async () => {
    const h = hedge({ delayMs: 2, maxHedges: 1 });
    let n = 0;
    let hedgeStarted!: () => void;
    const started = new Promise<void>((r) => (hedgeStarted = r));
    let firstFailed!: () => void;
    const failed = new Promise<void>((r) => (firstFailed = r));
    const value = await h.execute(background(), async () => {
      if (++n === 1) {
        await started;
        firstFailed();
        throw new Error("first failed while the hedge ran");
      }
      hedgeStarted();
      await failed;
      await new Promise((r) => setImmediate(r));
      return "second";
    });
    assert.equal(value, "second");

    let m = 0;
    let secondFailed!: () => void;
    const second = new Promise<void>((r) => (secondFailed = r));
    await assert.rejects(
      h.execute(background(), async () => {
        if (++m === 1) {
          await second;
          throw new Error("failure 1");
        }
        secondFailed();
        throw new Error("failure 2");
      }),
      /failure 2/, // the hedge failed first
    );
  });

  it("an attempt that fails before the delay ends the call at once, with no hedge", async () => {
    const h = hedge({ delayMs: 50 });
    let calls = 0;
    await assert.rejects(
      h.execute(background(), () => {
        calls++;
        throw new Error("sync failure");
      }),
      /sync failure/,
    );
    await new Promise((r) => setTimeout(r, 70));
    assert.equal(calls, 1);
  });

  it("the caller's context ending rejects at once with its error and stops hedging", async () => {
    const h = hedge({ delayMs: 20, maxHedges: 3 });
    const ctx = withCancel(background());
    let calls = 0;
    const errs: unknown[] = [];
    const p = h.execute(ctx, (c) => {
      calls++;
      return hang(c).catch((e: unknown) => {
        errs.push(e);
        throw e;
      });
    });
    ctx.cancel();
    await assert.rejects(p, Canceled);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(calls, 1, "no hedge after the caller left");
    assert.equal(errs.length, 1, "the attempt's work saw the cancel");
    assert.equal(dependents(ctx), 0);
  });

  it('"p95" hedges only after 20 samples, at the 95th percentile of its own latencies', async () => {
    const h = hedge({ delayMs: "p95", name: "h-p95" });
    assert.equal(h.delayMs, undefined, "no delay before samples");
    let calls = 0;
    for (let i = 0; i < 19; i++) await h.execute(background(), () => "fast");
    assert.equal(h.delayMs, undefined, "19 samples are not enough");
    await h.execute(background(), () => "fast");
    const p95 = h.delayMs;
    assert.ok(p95 !== undefined && p95 < 1000, `a p95 of fast calls, got ${p95}`);
    const ctx = withCancel(background());
    const first = await h.execute(ctx, async (c) => {
      calls++;
      if (calls === 1) return hang(c);
      return "hedged";
    });
    assert.equal(first, "hedged", "a slow call was hedged after the p95");
    ctx.cancel();
  });

  it("refuses bad options, naming them and the allowed range", async () => {
    assert.throws(
      () => hedge({ delayMs: "p99" as never }),
      /hedge: options.delayMs must be a number of milliseconds from 0 to 3,600,000 or "p95", got "p99"/,
    );
    assert.throws(
      () => hedge({ delayMs: -1 }),
      /options.delayMs must be a number of milliseconds from 0 to 3,600,000, got -1/,
    );
    assert.throws(
      () => hedge({ maxHedges: 0 }),
      /options.maxHedges must be an integer from 1 to 10, got 0/,
    );
    assert.throws(
      () => hedge({ budget: {} as never }),
      /options.budget must be an object with a tryWithdraw\(\) method/,
    );
    assert.throws(
      () => hedge({ minAttemptMs: Infinity }),
      /options.minAttemptMs must be a number of milliseconds/,
    );
    assert.throws(() => hedge({ delay: 5 } as never), /unknown option options.delay/);
    await assert.rejects(
      hedge().execute(background(), null as never),
      /hedge.execute: work must be a function/,
    );
    await assert.rejects(
      hedge().execute(undefined as never, () => 1),
      /hedge.execute: ctx/,
    );
  });
});
