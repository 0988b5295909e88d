import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import fc from "fast-check";
import { background, withCancel } from "../../src/index.js";
import { ThrottledError, adaptiveThrottle } from "../../src/resilience/adaptive-throttle.js";
import type { ResilienceEvent } from "../../src/resilience/events.js";

/** An error the backend answers when it is overloaded. */
function unavailable(): Error {
  return Object.assign(new Error("503 Service Unavailable"), { status: 503 });
}

function setup(options: { random?: () => number; k?: number } = {}) {
  let t = 0;
  let r = options.random ?? (() => 0.999999);
  const throttle = adaptiveThrottle({
    clock: () => t,
    random: () => r(),
    ...(options.k === undefined ? {} : { k: options.k }),
    name: "t",
  });
  return {
    throttle,
    advance: (ms: number) => void (t += ms),
    setRandom: (f: () => number) => void (r = f),
    ok: () => throttle.execute(background(), () => "ok"),
    fail: () =>
      throttle.execute(background(), () => Promise.reject(unavailable())).catch((e: unknown) => e),
  };
}

describe("adaptiveThrottle", () => {
  it("drops with probability max(0, (requests - K*accepts) / (requests + 1))", async () => {
    const s = setup();
    for (let i = 0; i < 2; i++) await s.ok();
    for (let i = 0; i < 8; i++) await s.fail();
    assert.equal(s.throttle.requests, 10);
    assert.equal(s.throttle.accepts, 2);
    assert.equal(s.throttle.probability, (10 - 2 * 2) / 11);
    s.setRandom(() => 0.5); // below 6/11: dropped
    let started = false;
    const err = await s.throttle
      .execute(background(), () => {
        started = true;
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof ThrottledError, "dropped locally");
    assert.equal(started, false, "nothing was sent");
    assert.equal(err.code, "TIMEBOUND_ERR_THROTTLED");
    assert.equal(err.name, "ThrottledError");
    assert.equal(err.probability, 6 / 11);
    assert.equal(
      err.message,
      'adaptive throttle "t" dropped the call locally (rejection probability 0.545): the backend accepted 2 of 10 requests in the last 120,000 ms (K=2)',
    );
    assert.equal(s.throttle.requests, 11, "a dropped request counts as a request");
    assert.equal(s.throttle.probability, (11 - 4) / 12);
    s.setRandom(() => 0.6); // above 7/12: sent
    assert.equal(await s.ok(), "ok");
  });

  it("drops nothing while the backend accepts at least 1 in K", async () => {
    const s = setup({ random: () => 0, k: 2 });
    for (let i = 0; i < 50; i++) {
      await s.ok();
      await s.fail();
    }
    assert.equal(s.throttle.probability, 0);
    assert.equal(await s.ok(), "ok");
  });

  it("forgets what slid out of the window", async () => {
    const s = setup();
    for (let i = 0; i < 10; i++) await s.fail(); // at t = 0
    s.advance(60_000);
    for (let i = 0; i < 5; i++) await s.fail(); // at t = 60 s
    assert.equal(s.throttle.requests, 15);
    s.advance(62_000); // t = 122 s: the first ten are out, the five are in
    assert.equal(s.throttle.requests, 5);
    assert.equal(s.throttle.probability, 5 / 6);
    s.advance(120_000);
    assert.equal(s.throttle.requests, 0);
    assert.equal(s.throttle.probability, 0);
  });

  it("matches a reference count of the window over random outcomes and pauses", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ accepted: fc.boolean(), waitMs: fc.nat(30_000) }), { maxLength: 60 }),
        async (steps) => {
          const s = setup();
          const log: { slot: number; accepted: boolean }[] = [];
          let t = 0;
          for (const step of steps) {
            s.advance(step.waitMs);
            t += step.waitMs;
            if (step.accepted) await s.ok();
            else await s.fail();
            log.push({ slot: Math.floor(t / 2_000), accepted: step.accepted });
            const latest = Math.floor(t / 2_000);
            const inWindow = log.filter((e) => e.slot > latest - 60);
            const requests = inWindow.length;
            const accepts = inWindow.filter((e) => e.accepted).length;
            assert.equal(s.throttle.requests, requests, "requests in the window");
            assert.equal(s.throttle.accepts, accepts, "accepts in the window");
            assert.equal(
              s.throttle.probability,
              Math.max(0, (requests - 2 * accepts) / (requests + 1)),
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("counts as accepted what the default calls accepted: no overload error, no overload response", async () => {
    const s = setup();
    await s.throttle
      .execute(background(), () => Promise.reject(new Error("400 bad request")))
      .catch(() => undefined);
    await s.throttle.execute(background(), () => ({ status: 200 }));
    await s.throttle.execute(background(), () => ({ status: 503 }));
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    await s.throttle.execute(background(), () => Promise.reject(reset)).catch(() => undefined);
    const wrapped = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    await s.throttle.execute(background(), () => Promise.reject(wrapped)).catch(() => undefined);
    assert.equal(s.throttle.requests, 5);
    assert.equal(
      s.throttle.accepts,
      2,
      "the 400 and the 200 were accepted; the 503s and socket errors not",
    );
  });

  it("does not count a call whose caller's context ended first", async () => {
    const s = setup();
    const ctx = withCancel(background());
    await s.throttle
      .execute(ctx, () => {
        ctx.cancel();
        return Promise.reject(ctx.err!);
      })
      .catch(() => undefined);
    assert.equal(s.throttle.requests, 0);
  });

  it("takes what counts as accepted from isAccepted", async () => {
    const seen: unknown[] = [];
    const throttle = adaptiveThrottle({
      isAccepted: (o) => {
        seen.push(o);
        return o.ok;
      },
    });
    await throttle.execute(background(), () => 1);
    await throttle
      .execute(background(), () => Promise.reject(new Error("no")))
      .catch(() => undefined);
    assert.equal(throttle.accepts, 1);
    assert.equal(throttle.requests, 2);
    assert.deepEqual(seen[0], { ok: true, value: 1 });
  });

  it("announces each dropped call", async () => {
    const events: ResilienceEvent[] = [];
    const listener = (m: unknown): void => void events.push(m as ResilienceEvent);
    subscribe("timebound:resilience:adaptive-throttle", listener);
    try {
      const s = setup({ random: () => 0 });
      await s.fail();
      await s.ok().catch(() => undefined);
      const mine = events.filter((e) => e.policy === "t");
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.event, "rejected");
      assert.equal(mine[0]!.probability, 0.5);
      assert.equal(mine[0]!.requests, 1);
      assert.equal(mine[0]!.accepts, 0);
    } finally {
      unsubscribe("timebound:resilience:adaptive-throttle", listener);
    }
  });

  it("refuses bad options, naming them and the allowed range", async () => {
    assert.throws(
      () => adaptiveThrottle({ k: 0.5 }),
      /adaptiveThrottle: options.k must be a number from 1 to 100, got 0.5/,
    );
    assert.throws(
      () => adaptiveThrottle({ windowMs: 10 }),
      /options.windowMs must be a number of milliseconds from 1,000 to 3,600,000, got 10/,
    );
    assert.throws(
      () => adaptiveThrottle({ isAccepted: true as never }),
      /options.isAccepted must be a function/,
    );
    assert.throws(() => adaptiveThrottle({ K: 2 } as never), /unknown option options.K/);
    assert.throws(() => adaptiveThrottle(3 as never), /options must be an object/);
    await assert.rejects(
      adaptiveThrottle().execute({} as never, () => 1),
      /adaptiveThrottle.execute: ctx/,
    );
  });
});
