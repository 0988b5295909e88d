import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { background, withTimeout } from "../../src/index.js";
import { adaptiveThrottle } from "../../src/resilience/adaptive-throttle.js";
import { BrokenCircuitError } from "../../src/resilience/broken-circuit-error.js";
import { circuitBreaker } from "../../src/resilience/circuit-breaker.js";
import { isOverloadError, isTransientError } from "../../src/resilience/classify.js";
import { hedge } from "../../src/resilience/hedge.js";
import { retry } from "../../src/resilience/retry.js";
import { retryBudget } from "../../src/resilience/retry-budget.js";

describe("classify: one answer for retry and the flow-control policies", () => {
  it("recognises timebound's refusals by code, not by class name", async () => {
    const breaker = circuitBreaker({ minimumCalls: 1, failureRateThreshold: 1 });
    breaker.isolate();
    const refused = await breaker.execute(background(), () => 1).catch((e: unknown) => e);
    assert.ok(refused instanceof BrokenCircuitError, "the isolated breaker refuses");
    assert.equal(isOverloadError(refused), true);
    assert.equal(
      isTransientError(refused),
      false,
      "retrying an open breaker meets the same refusal",
    );
    // Another copy of the library, or a subclass renamed: the code is what counts.
    const foreign = Object.assign(new Error("open"), {
      name: "Renamed",
      code: "TIMEBOUND_ERR_BROKEN_CIRCUIT",
    });
    assert.equal(isOverloadError(foreign), true);
    const namedOnly = Object.assign(new Error("open"), { name: "BrokenCircuitError" });
    assert.equal(isOverloadError(namedOnly), false, "a name alone is not a refusal");
  });

  it("agrees on connection failures, statuses, gRPC codes and timeouts, through causes", async () => {
    using expired = withTimeout(background(), 1);
    await expired.done;
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    const cases: [unknown, boolean][] = [
      [new TypeError("fetch failed", { cause: reset }), true],
      [Object.assign(new Error("bad gateway"), { status: 502 }), true],
      [Object.assign(new Error("x"), { response: { status: 503 } }), true],
      [Object.assign(new Error("UNAVAILABLE"), { code: 14 }), true],
      [expired.err, true],
      [Object.assign(new Error("not found"), { status: 404 }), false],
      [new RangeError("bad input"), false],
    ];
    for (const [i, [error, expected]] of cases.entries()) {
      assert.equal(isTransientError(error), expected, `case ${i}: transient`);
      assert.equal(isOverloadError(error), expected, `case ${i}: overload`);
    }
  });

  it("retry does not retry a refusal; adaptive throttle counts it as not accepted", async () => {
    let runs = 0;
    const policy = retry({ maxAttempts: 3, backoff: () => 0 });
    const foreign = Object.assign(new Error("full"), { code: "TIMEBOUND_ERR_BULKHEAD_REJECTED" });
    await assert.rejects(
      policy.execute(background(), () => {
        runs++;
        throw foreign;
      }),
      (e) => e === foreign,
    );
    assert.equal(runs, 1, "one attempt only");
    const throttle = adaptiveThrottle({ k: 1, random: () => 1 });
    const refusal = Object.assign(new Error("open"), {
      name: "X",
      code: "TIMEBOUND_ERR_BROKEN_CIRCUIT",
    });
    for (let i = 0; i < 20; i++)
      await throttle.execute(background(), () => Promise.reject(refusal)).catch(() => {});
    assert.equal(throttle.accepts, 0, "a refusal is not an accept");
    assert.ok(
      throttle.probability > 0,
      "refusals taught the throttle that the upstream is saturated",
    );
  });
});

describe("hedge deposits into a retry budget it uses alone", () => {
  it("records one request per hedged call, so the budget earns hedges", async () => {
    let t = 0;
    const budget = retryBudget({ percent: 50, minPerSecond: 0, clock: () => t });
    assert.equal(budget.available(), 0, "an empty budget");
    const policy = hedge({ delayMs: 1_000, budget });
    using ctx = withTimeout(background(), 5_000);
    for (let i = 0; i < 4; i++) await policy.execute(ctx, () => i);
    t += 1; // the same window
    assert.equal(budget.available(), 2, "4 calls at 50% earn 2 hedges");
  });
});
