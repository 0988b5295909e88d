import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Canceled, background, createKey, withCancel, withValue } from "../../src/index.js";
import type { ResilienceEvent } from "../../src/resilience/events.js";
import { RateLimitedError, rateLimit } from "../../src/resilience/rate-limit.js";

/** A clock the test moves by hand. */
function fakeClock(): { clock: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { clock: () => t, advance: (ms) => void (t += ms) };
}

async function outcome(p: Promise<unknown>): Promise<"ok" | number> {
  try {
    await p;
    return "ok";
  } catch (err) {
    assert.ok(err instanceof RateLimitedError, `rate limited, not ${String(err)}`);
    return err.retryAfterMs;
  }
}

const KEY = createKey<string>("rate-limit-key");

/**
 * Runs `body` with a keyed limit named `name` (KEY's value is the key; no refill) and the keys it
 * evicted, in order, listening only while `body` runs.
 */
async function withEvictions(
  name: string,
  maxKeys: number,
  body: (
    call: (key: string) => Promise<unknown>,
    evicted: string[],
    keys: () => number,
  ) => Promise<void>,
): Promise<void> {
  const evicted: string[] = [];
  const listener = (m: unknown): void => {
    const e = m as ResilienceEvent;
    if (e.policy === name && e.event === "key-evicted") evicted.push(String(e.key));
  };
  subscribe("timebound:resilience:rate-limit", listener);
  try {
    const limit = rateLimit({
      ratePerSecond: 1_000,
      clock: () => 0,
      maxKeys,
      name,
      key: (c) => c.value(KEY)!,
    });
    const call = (key: string) => limit.execute(withValue(background(), KEY, key), () => undefined);
    await body(call, evicted, () => limit.keys);
  } finally {
    unsubscribe("timebound:resilience:rate-limit", listener);
  }
}

describe("rateLimit", () => {
  it("lets a burst through, then one call per 1/rate seconds, and says when the next token comes", async () => {
    const { clock, advance } = fakeClock();
    const limit = rateLimit({ ratePerSecond: 10, burst: 3, clock, name: "api" });
    const ok = () => limit.execute(background(), () => "ok");
    for (let i = 0; i < 3; i++) assert.equal(await outcome(ok()), "ok", `burst call ${i}`);
    assert.equal(await outcome(ok()), 100, "empty: a token every 100 ms");
    advance(40);
    const wait = await outcome(ok());
    assert.ok(Math.abs((wait as number) - 60) < 1e-9, `60 ms left, got ${wait}`);
    advance(60);
    assert.equal(await outcome(ok()), "ok");
    assert.equal(await outcome(ok()), 100);
    advance(10_000); // a long quiet spell refills up to the burst, not beyond
    assert.equal(limit.tokens(), 3);
    for (let i = 0; i < 3; i++) assert.equal(await outcome(ok()), "ok");
    assert.notEqual(await outcome(ok()), "ok");
  });

  it("rejects with a RateLimitedError that names the limit, the key and the wait", async () => {
    const { clock } = fakeClock();
    const Tenant = createKey<string>("tenant");
    const limit = rateLimit({
      ratePerSecond: 2,
      burst: 1,
      clock,
      name: "tenants",
      key: (ctx) => ctx.value(Tenant) ?? "none",
    });
    const ctx = withValue(background(), Tenant, "acme");
    await limit.execute(ctx, () => 1);
    let started = false;
    const err = await limit
      .execute(ctx, () => {
        started = true;
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof RateLimitedError, "rate limited");
    assert.equal(err.code, "TIMEBOUND_ERR_RATE_LIMITED");
    assert.equal(err.name, "RateLimitedError");
    assert.equal(err.key, "acme");
    assert.equal(err.retryAfterMs, 500);
    assert.equal(
      err.message,
      'rate limit "tenants" (2/s, burst 1) exceeded for key "acme"; a token is available in 500 ms',
    );
    assert.equal(started, false, "the rejected call's work never ran");
  });

  it("evicts by second chance (CLOCK): at most maxKeys buckets, a used one passed over once", async () => {
    // The model is the algorithm as documented, on an array: buckets in order of insertion or
    // last pass-over, a mark per bucket set by a hit; a miss on a full limit evicts the first
    // unmarked bucket, unmarking (and sending to the back) the marked ones before it.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 60 }),
        (maxKeys, calls) =>
          withEvictions("clock", maxKeys, async (call, evicted, keys) => {
            const order: string[] = [];
            const marked = new Set<string>();
            const expected: string[] = [];
            for (const n of calls) {
              const key = `k${n}`;
              await call(key);
              if (order.includes(key)) marked.add(key);
              else {
                if (order.length === maxKeys) {
                  while (marked.delete(order[0]!)) order.push(order.shift()!);
                  expected.push(order.shift()!);
                }
                order.push(key);
              }
              assert.ok(keys() <= maxKeys, `${keys()} buckets kept, maxKeys ${maxKeys}`);
              assert.equal(keys(), order.length);
            }
            assert.deepEqual(evicted, expected);
          }),
      ),
      { numRuns: 300 },
    );
  });

  it("never evicts the bucket used last while another was not used since eviction passed it", () =>
    withEvictions("recent", 3, async (call, evicted, keys) => {
      for (const k of ["a", "b", "c", "a", "c"]) await call(k);
      await call("d"); // a and c used: b, never used since it came, goes
      await call("a");
      await call("e"); // a (used last) and c get their second chance; d goes
      assert.deepEqual(evicted, ["b", "d"]);
      assert.equal(keys(), 3);
    }));

  it("keeps one bucket per key, at most maxKeys of them, dropping one not used lately", async () => {
    const { clock } = fakeClock();
    const K = createKey<string>("k");
    const events: ResilienceEvent[] = [];
    const listener = (m: unknown): void => void events.push(m as ResilienceEvent);
    subscribe("timebound:resilience:rate-limit", listener);
    try {
      const limit = rateLimit({
        ratePerSecond: 1,
        burst: 1,
        clock,
        maxKeys: 2,
        name: "keys",
        key: (c) => c.value(K)!,
      });
      const call = (k: string) => outcome(limit.execute(withValue(background(), K, k), () => k));
      assert.equal(await call("a"), "ok");
      assert.equal(await call("b"), "ok");
      assert.equal(await call("a"), 1000, "a's bucket is empty; b's is separate");
      assert.equal(limit.keys, 2);
      assert.equal(await call("c"), "ok", "c is new: b, least recently used, is dropped");
      assert.equal(limit.keys, 2);
      assert.equal(limit.tokens("a"), 0, "a was used more recently than b and is kept");
      assert.equal(await call("b"), "ok", "b starts again with a full bucket");
      const mine = events.filter((e) => e.policy === "keys");
      assert.deepEqual(
        mine.map((e) => [e.event, e.key]),
        [
          ["rejected", "a"],
          ["key-evicted", "b"],
          ["key-evicted", "a"],
        ],
      );
      assert.equal(mine[0]!.retryAfterMs, 1000);
    } finally {
      unsubscribe("timebound:resilience:rate-limit", listener);
    }
  });

  it("a key function that throws or returns a non-string rejects the call", async () => {
    const limit = rateLimit({ ratePerSecond: 1, key: () => 42 as never });
    await assert.rejects(
      limit.execute(background(), () => 1),
      /rateLimit "rate-limit": options.key must return a string, got 42/,
    );
    const throwing = rateLimit({
      ratePerSecond: 1,
      key: () => {
        throw new Error("no tenant");
      },
    });
    await assert.rejects(
      throwing.execute(background(), () => 1),
      /no tenant/,
    );
  });

  it("rejects at once on an ended context without taking a token", async () => {
    const { clock } = fakeClock();
    const limit = rateLimit({ ratePerSecond: 1, burst: 1, clock });
    const ctx = withCancel(background());
    ctx.cancel();
    await assert.rejects(
      limit.execute(ctx, () => 1),
      Canceled,
    );
    assert.equal(limit.tokens(), 1);
  });

  it("passes the work's result and failure through, synchronous throws included", async () => {
    const limit = rateLimit({ ratePerSecond: 1000 });
    assert.equal(await limit.execute(background(), () => Promise.resolve(7)), 7);
    await assert.rejects(
      limit.execute(background(), () => {
        throw new Error("sync");
      }),
      /sync/,
    );
  });

  it("refuses bad options, naming them and the allowed range", async () => {
    assert.throws(
      () => rateLimit(undefined as never),
      /rateLimit: options.ratePerSecond must be a number from 0.001 to 1,000,000,000, got undefined/,
    );
    assert.throws(
      () => rateLimit({ ratePerSecond: 0 }),
      /options.ratePerSecond must be a number from 0.001/,
    );
    assert.throws(
      () => rateLimit({ ratePerSecond: 1, burst: 0.5 }),
      /options.burst must be an integer from 1 to 1,000,000,000, got 0.5/,
    );
    assert.throws(
      () => rateLimit({ ratePerSecond: 1, maxKeys: 0 }),
      /options.maxKeys must be an integer from 1 to 10,000,000/,
    );
    assert.throws(
      () => rateLimit({ ratePerSecond: 1, key: "user" as never }),
      /options.key must be a function, got/,
    );
    assert.throws(
      () => rateLimit({ ratePerSecond: 1, clock: 5 as never }),
      /options.clock must be a function/,
    );
    assert.throws(
      () => rateLimit({ ratePerSecond: 1, rate: 3 } as never),
      /unknown option options.rate/,
    );
    await assert.rejects(
      rateLimit({ ratePerSecond: 1 }).execute(background(), undefined as never),
      /rateLimit.execute: work must be a function/,
    );
  });
});
