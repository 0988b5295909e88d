import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { type Context, background, withTimeout } from "../../src/index.js";
import { collectTimeboundMetrics, MissingPeerDependencyError } from "../../src/metrics/index.js";
import { loadPeer } from "../../src/metrics/peer.js";
import {
  bulkhead,
  circuitBreaker,
  constantBackoff,
  fallback,
  hedge,
  pipeline,
  retry,
  retryBudget,
  timeout,
} from "../../src/resilience/index.js";

/** The value of one sample line of the registry's text (`name{labels}`), or undefined. */
async function sample(registry: Registry, series: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const reset = (): Error => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

function hang(ctx: Context): Promise<never> {
  return new Promise((_, reject) => void ctx.done.then(() => reject(ctx.err as Error)));
}

describe("collectTimeboundMetrics", () => {
  it("counts a pipeline's calls by outcome, its retries, give-ups and fallbacks", async () => {
    const registry = new Registry();
    using _metrics = collectTimeboundMetrics({ registry });
    const policy = pipeline(
      fallback("cached", { name: "pay-fallback" }),
      retry({ name: "pay-retry", maxAttempts: 3, backoff: constantBackoff(1) }),
      timeout(1_000, { name: "pay-timeout" }),
    );
    using ctx = withTimeout(background(), 5_000);
    let runs = 0;
    // 2 calls that succeed on their second attempt, 1 that fails every attempt (then falls back)
    for (const failFirst of [1, 1, 3]) {
      let n = 0;
      const answer = await policy.execute(ctx, () => {
        runs++;
        if (n++ < failFirst) throw reset();
        return "fresh";
      });
      assert.equal(answer, failFirst === 3 ? "cached" : "fresh");
    }
    assert.equal(runs, 7);
    const p = `policy="${policy.name}"`;
    assert.equal(
      await sample(registry, `timebound_resilience_calls_total{${p},outcome="success"}`),
      3,
    );
    assert.equal(
      await sample(
        registry,
        `timebound_resilience_call_duration_seconds_count{${p},outcome="success"}`,
      ),
      3,
    );
    assert.equal(await sample(registry, `timebound_retries_total{policy="pay-retry"}`), 4);
    assert.equal(
      await sample(
        registry,
        `timebound_retry_give_ups_total{policy="pay-retry",reason="attempts"}`,
      ),
      1,
    );
    assert.equal(
      await sample(registry, `timebound_fallbacks_total{policy="pay-fallback",kind="fallback"}`),
      1,
    );
  });

  it("with calls: false, leaves out the per-call series and still counts the rest", async () => {
    const registry = new Registry();
    using metrics = collectTimeboundMetrics({ registry, calls: false });
    const policy = pipeline(
      retry({ name: "lean-retry", maxAttempts: 2, backoff: constantBackoff(1) }),
      circuitBreaker({ name: "lean-breaker" }),
    );
    using ctx = withTimeout(background(), 5_000);
    let n = 0;
    await policy.execute(ctx, () => {
      if (n++ === 0) throw reset();
      return "fresh";
    });
    const text = await registry.metrics();
    assert.doesNotMatch(text, /resilience_call/, "no per-call series");
    assert.equal(metrics.metrics.has("resilience_calls_total"), false);
    assert.equal(await sample(registry, `timebound_retries_total{policy="lean-retry"}`), 1);
    assert.equal(
      await sample(registry, `timebound_circuit_breaker_state{policy="lean-breaker"}`),
      0,
    );
    assert.throws(
      () => collectTimeboundMetrics({ registry, calls: "no" as never }),
      /collectTimeboundMetrics: options\.calls must be true or false, got "no"/,
    );
  });

  it("shows the breaker's state, its transitions and its rejections", async () => {
    const registry = new Registry();
    using _metrics = collectTimeboundMetrics({ registry, prefix: "app_" });
    const breaker = circuitBreaker({
      name: "inventory",
      failureRateThreshold: 50,
      minimumCalls: 4,
      window: { type: "count", size: 4 },
    });
    for (let i = 0; i < 4; i++)
      await breaker.execute(background(), () => Promise.reject(reset())).catch(() => {});
    for (let i = 0; i < 3; i++) await breaker.execute(background(), () => 1).catch(() => {});
    assert.equal(breaker.state, "open");
    assert.equal(
      await sample(registry, `app_circuit_breaker_state{policy="inventory"}`),
      2,
      "2 = open",
    );
    assert.equal(
      await sample(
        registry,
        `app_circuit_breaker_transitions_total{policy="inventory",from="closed",to="open"}`,
      ),
      1,
    );
    assert.equal(
      await sample(registry, `app_rejections_total{policy="inventory",kind="circuit-breaker"}`),
      3,
    );
    assert.equal(
      await sample(registry, `app_resilience_calls_total{policy="inventory",outcome="failure"}`),
      4,
    );
    breaker.reset();
    await breaker.execute(background(), () => 1);
    assert.equal(
      await sample(registry, `app_circuit_breaker_state{policy="inventory"}`),
      0,
      "0 = closed",
    );
  });

  it("counts bulkhead rejections and retries refused by an exhausted budget", async () => {
    const registry = new Registry();
    using _metrics = collectTimeboundMetrics({ registry });
    const pool = bulkhead({ name: "db-pool", maxConcurrent: 1 });
    using ctx = withTimeout(background(), 5_000);
    using first = withTimeout(ctx, 5_000);
    const holding = pool.execute(first, hang).catch(() => {});
    await assert.rejects(
      pool.execute(ctx, () => 1),
      { code: "TIMEBOUND_ERR_BULKHEAD_REJECTED" },
    );
    first.cancel();
    await holding;
    assert.equal(
      await sample(registry, `timebound_rejections_total{policy="db-pool",kind="bulkhead"}`),
      1,
    );

    const budget = retryBudget({ percent: 0, minPerSecond: 0.1, windowMs: 10_000 }); // 1 retry in all
    const policy = retry({ name: "budgeted", maxAttempts: 5, backoff: constantBackoff(0), budget });
    await assert.rejects(policy.execute(ctx, () => Promise.reject(reset())));
    assert.equal(await sample(registry, `timebound_retries_total{policy="budgeted"}`), 1);
    assert.equal(
      await sample(registry, `timebound_retry_give_ups_total{policy="budgeted",reason="budget"}`),
      1,
      "budget exhaustion",
    );
  });

  it("counts hedges and which attempt answered", async () => {
    const registry = new Registry();
    using _metrics = collectTimeboundMetrics({ registry });
    const policy = hedge({ name: "search-hedge", delayMs: 20 });
    using ctx = withTimeout(background(), 5_000);
    let n = 0;
    const answer = await policy.execute(ctx, (attempt) => (n++ === 0 ? hang(attempt) : "second"));
    assert.equal(answer, "second");
    assert.equal(await sample(registry, `timebound_hedges_total{policy="search-hedge"}`), 1);
    assert.equal(
      await sample(registry, `timebound_hedged_calls_total{policy="search-hedge",winner="hedge"}`),
      1,
    );
  });

  it("counts deadlines that fired by context name, with the label set bounded", async () => {
    const registry = new Registry();
    using _metrics = collectTimeboundMetrics({ registry, contextNames: ["checkout"] });
    for (const name of ["checkout", "checkout", "user-4711", "user-4712", undefined]) {
      using ctx = withTimeout(background(), 1, name === undefined ? undefined : { name });
      await ctx.done;
    }
    const text = await registry.metrics();
    assert.equal(
      await sample(registry, `timebound_deadline_exceeded_total{context="checkout"}`),
      2,
    );
    assert.equal(await sample(registry, `timebound_deadline_exceeded_total{context="other"}`), 2);
    assert.equal(await sample(registry, `timebound_deadline_exceeded_total{context="unnamed"}`), 1);
    assert.ok(!text.includes("user-4711"), "a name outside contextNames never becomes a label");

    const bounded = new Registry();
    using _m2 = collectTimeboundMetrics({ registry: bounded, maxContextNames: 2, prefix: "b_" });
    for (const name of ["a", "b", "c", "a"]) {
      using ctx = withTimeout(background(), 1, { name });
      await ctx.done;
    }
    assert.equal(await sample(bounded, `b_deadline_exceeded_total{context="a"}`), 2);
    assert.equal(
      await sample(bounded, `b_deadline_exceeded_total{context="other"}`),
      1,
      "the third name",
    );
  });

  it("stop() unsubscribes and removes its metrics; a new collector can start on the same registry", async () => {
    const registry = new Registry();
    const metrics = collectTimeboundMetrics({ registry });
    metrics.stop();
    metrics.stop();
    assert.equal(registry.getMetricsAsArray().length, 0, "no metric left in the registry");
    using again = collectTimeboundMetrics({ registry });
    const policy = retry({ name: "after-stop", maxAttempts: 2, backoff: constantBackoff(0) });
    await assert.rejects(policy.execute(background(), () => Promise.reject(reset())));
    assert.equal(await sample(registry, `timebound_retries_total{policy="after-stop"}`), 1);
    assert.ok(again.metrics.has("retries_total"), "the handle lists its metrics");
  });

  it("refuses bad options with a message naming them", () => {
    assert.throws(() => collectTimeboundMetrics({ prefix: "9lives_" }), {
      name: "TypeError",
      message: /collectTimeboundMetrics: options\.prefix must be letters/,
    });
    assert.throws(() => collectTimeboundMetrics({ maxContextNames: 0 }), {
      name: "RangeError",
      message: /collectTimeboundMetrics: options\.maxContextNames/,
    });
    assert.throws(() => collectTimeboundMetrics({ contextNames: "checkout" as never }), {
      message: /options\.contextNames must be an array of strings/,
    });
    assert.throws(() => collectTimeboundMetrics({ registery: new Registry() } as never), {
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
    });
    assert.throws(() => collectTimeboundMetrics({ registry: {} as never }), {
      message: /options\.registry must be a prom-client Registry/,
    });
  });

  it("names the package to install when prom-client cannot be loaded", () => {
    // A require resolving from a folder with no node_modules: the package is really absent there.
    const requireFromNowhere = createRequire(join(tmpdir(), "timebound-no-deps", "x.js"));
    assert.throws(
      () => loadPeer("collectTimeboundMetrics", "prom-client", requireFromNowhere),
      (err: unknown) => {
        assert.ok(err instanceof MissingPeerDependencyError, "a MissingPeerDependencyError");
        assert.equal(err.code, "TIMEBOUND_ERR_MISSING_PEER_DEPENDENCY");
        assert.equal(err.packageName, "prom-client");
        assert.match(
          err.message,
          /collectTimeboundMetrics needs the optional peer dependency "prom-client"/,
        );
        assert.match(err.message, /npm install prom-client/);
        assert.equal((err.cause as { code?: unknown }).code, "MODULE_NOT_FOUND");
        return true;
      },
    );
  });
});
