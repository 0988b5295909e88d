import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Context,
  background,
  createKey,
  sleep,
  withCancel,
  withTimeout,
  withValue,
} from "../../src/index.js";
import {
  BrokenCircuitError,
  type Policy,
  RetriesExhaustedError,
  circuitBreaker,
  constantBackoff,
  fallback,
  isStale,
  pipeline,
  retry,
  staleCache,
  staleInfo,
  timeout,
} from "../../src/resilience/index.js";

function resetError(): Error {
  return Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
}

/** A policy that records when it is entered and left, to see the nesting. */
function tracer(name: string, log: string[]): Policy {
  return {
    name,
    async execute(ctx, work) {
      log.push(`${name}>`);
      try {
        return await work(ctx);
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

describe("pipeline", () => {
  it("runs the policies outermost first", async () => {
    const log: string[] = [];
    const p = pipeline(tracer("a", log), tracer("b", log), tracer("c", log));
    assert.equal(
      await p.execute(background(), () => {
        log.push("work");
        return 1;
      }),
      1,
    );
    assert.deepEqual(log, ["a>", "b>", "c>", "work", "<c", "<b", "<a"]);
    assert.equal(p.name, "pipeline(a, b, c)");
  });

  it("retry outside the per-attempt timeout: each attempt gets its own time, the breaker sees each", async () => {
    const breaker = circuitBreaker({ minimumCalls: 10 });
    const contexts: Context[] = [];
    const p = pipeline(
      retry({ maxAttempts: 3, backoff: constantBackoff(0) }),
      breaker,
      timeout(10),
    );
    await assert.rejects(
      p.execute(background(), (ctx) => {
        contexts.push(ctx);
        return sleep(ctx, 10_000);
      }),
      RetriesExhaustedError,
    );
    assert.equal(contexts.length, 3, "three attempts");
    assert.equal(new Set(contexts).size, 3, "each under a context of its own");
    assert.equal(breaker.rates().calls, 3, "the breaker counted each attempt");
    assert.equal(breaker.rates().failureRate, 100, "each attempt's timeout as a failure");
  });

  it("an open breaker stops retrying at once, and the fallback outside answers", async () => {
    let calls = 0;
    const breaker = circuitBreaker({ minimumCalls: 2, window: { type: "count", size: 2 } });
    let seen: unknown;
    const p = pipeline(
      fallback((err) => {
        seen = err;
        return "fallback";
      }),
      retry({ maxAttempts: 5, backoff: constantBackoff(0) }),
      breaker,
      timeout(1_000),
    );
    const answer = await p.execute(background(), () => {
      calls++;
      throw resetError();
    });
    assert.equal(answer, "fallback");
    assert.equal(calls, 2, "two attempts opened the breaker; the third was refused, not run");
    assert.ok(seen instanceof BrokenCircuitError, "the fallback got the breaker's refusal");
  });

  it("the seed's order (breaker outside retry) counts one outcome per call", async () => {
    const breaker = circuitBreaker({ minimumCalls: 10 });
    const p = pipeline(
      fallback(0),
      breaker,
      retry({ maxAttempts: 3, backoff: constantBackoff(0) }),
      timeout(1_000),
    );
    assert.equal(await p.execute(background(), () => Promise.reject(resetError())), 0);
    assert.equal(breaker.rates().calls, 1, "three attempts, one call for the breaker");
  });

  it("under a deadline, no layer answers later than it (all policies, hanging upstream)", async () => {
    const p = pipeline(
      fallback("default"),
      retry({ maxAttempts: 5, backoff: constantBackoff(20), minAttemptMs: 10 }),
      circuitBreaker({ minimumCalls: 100 }),
      timeout(800),
    );
    using ctx = withTimeout(background(), 100);
    const started = performance.now();
    await assert.rejects(
      p.execute(ctx, (ctx) => sleep(ctx, 10_000)),
      (e: unknown) => e === ctx.err,
      "the caller's deadline: no fallback answers a caller who left",
    );
    const took = performance.now() - started;
    assert.ok(
      took < 100 + 200,
      `answered ${took.toFixed(0)} ms after the start of a 100 ms deadline`,
    );
  });

  it("refuses what is not a policy", () => {
    assert.throws(
      () => pipeline(retry(), {} as Policy),
      /pipeline: policy 2 must be a policy \(an object with execute\(ctx, work\)\), got \{\}/,
    );
    assert.throws(() => pipeline(), /pipeline: give at least one policy/);
  });

  it("rejects (never throws) on a bad context or work", async () => {
    const p = pipeline(retry());
    await assert.rejects(
      p.execute(undefined as unknown as Context, () => 1),
      /pipeline\.execute: ctx must be a timebound Context/,
    );
    await assert.rejects(
      retry().execute(background(), 5 as unknown as () => number),
      /retry\.execute: work must be a function, got 5/,
    );
  });
});

describe("fallback", () => {
  it("answers with a value, or with what its function makes of the error", async () => {
    assert.equal(
      await fallback(42).execute(background(), () => Promise.reject(new Error("x"))),
      42,
    );
    const err = new Error("boom");
    assert.equal(
      await fallback((e) => `fell back for ${(e as Error).message}`).execute(background(), () => {
        throw err;
      }),
      "fell back for boom",
    );
  });

  it("only for the errors `on` accepts", async () => {
    const policy = fallback("x", { on: (e) => e instanceof BrokenCircuitError });
    await assert.rejects(
      policy.execute(background(), () => Promise.reject(new RangeError("no"))),
      RangeError,
    );
  });

  it("never once the caller's context has ended", async () => {
    const ctx = withCancel(background());
    const call = fallback("x").execute(ctx, (ctx) => sleep(ctx, 10_000));
    ctx.cancel();
    await assert.rejects(call, { name: "AbortError" });
  });
});

describe("staleCache", () => {
  it("serves the last good answer within maxAgeMs, marked as stale", async () => {
    let t = 0;
    const Product = createKey<string>("product");
    const cache = staleCache({
      maxAgeMs: 1_000,
      key: (ctx) => ctx.value(Product) ?? "",
      clock: () => t,
    });
    const a = withValue(background(), Product, "a");
    const fresh = await cache.execute(a, () => ({ price: 10 }));
    assert.ok(!isStale(fresh), "a fresh answer is not stale");
    t += 600;
    const err = new Error("upstream down");
    const stale = await cache.execute(a, () => Promise.reject(err));
    assert.deepEqual(stale, { price: 10 });
    assert.ok(isStale(stale), "served stale, and marked so");
    assert.deepEqual(staleInfo(stale), { policy: "stale-cache", key: "a", ageMs: 600, error: err });
    await assert.rejects(
      cache.execute(withValue(background(), Product, "b"), () => Promise.reject(err)),
      (e: unknown) => e === err,
      "nothing stored for another key: the error passes",
    );
    t += 500;
    await assert.rejects(
      cache.execute(a, () => Promise.reject(err)),
      (e: unknown) => e === err,
      "1,100 ms old is too old",
    );
  });

  it("marks primitives with `mark`", async () => {
    const cache = staleCache({ mark: (v, info) => ({ value: v, stale: true, ageMs: info.ageMs }) });
    await cache.execute(background(), () => 5);
    const out = await cache.execute(background(), () => Promise.reject(new Error("x")));
    assert.equal((out as { stale: boolean }).stale, true);
  });
});
