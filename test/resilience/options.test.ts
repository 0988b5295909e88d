// Every option is checked at construction, with a message naming the function, the option and
// what it must be; unknown option names are refused (TIMEBOUND_ERR_UNKNOWN_OPTION).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { background } from "../../src/index.js";
import {
  type CircuitBreakerOptions,
  RetryBudget,
  circuitBreaker,
  constantBackoff,
  decorrelatedJitterBackoff,
  exponentialBackoff,
  fallback,
  retry,
  retryBudget,
  staleCache,
  timeout,
} from "../../src/resilience/index.js";

type Case = readonly [string, () => unknown, RegExp];

const cases: Case[] = [
  [
    "timeout ms",
    () => timeout(-1),
    /^timeout: ms must be a number of milliseconds from 0 to Infinity, or Infinity, got -1$/,
  ],
  [
    "timeout ms type",
    () => timeout("5" as unknown as number),
    /^timeout: ms must be a number of milliseconds or a function \(ctx\) => ms, got "5"$/,
  ],
  [
    "timeout abandon",
    () => timeout(5, { abandon: 1 as unknown as boolean }),
    /^timeout: options\.abandon must be true or false, got 1$/,
  ],
  [
    "timeout unknown",
    () => timeout(5, { abandn: true } as never),
    /^timeout: unknown option options\.abandn \(known: abandon, name\)$/,
  ],
  [
    "retry maxAttempts",
    () => retry({ maxAttempts: 0 }),
    /^retry: options\.maxAttempts must be an integer from 1 to 100, got 0$/,
  ],
  [
    "retry maxAttempts fraction",
    () => retry({ maxAttempts: 2.5 }),
    /^retry: options\.maxAttempts must be an integer from 1 to 100, got 2\.5$/,
  ],
  [
    "retry backoff",
    () => retry({ backoff: 100 as never }),
    /^retry: options\.backoff must be a function, got 100$/,
  ],
  [
    "retry retryOn",
    () => retry({ retryOn: "transient" as never }),
    /^retry: options\.retryOn must be a function, got "transient"$/,
  ],
  [
    "retry minAttemptMs",
    () => retry({ minAttemptMs: -5 }),
    /^retry: options\.minAttemptMs must be a number of milliseconds from 0 to 3,600,000, got -5$/,
  ],
  [
    "retry budget",
    () => retry({ budget: {} as never }),
    /^retry: options\.budget must be a RetryBudget \(an object with tryWithdraw\(\)\), got \{\}$/,
  ],
  [
    "retry unknown",
    () => retry({ attempts: 3 } as never),
    /^retry: unknown option options\.attempts \(known: maxAttempts, /,
  ],
  [
    "exponential initialMs",
    () => exponentialBackoff({ initialMs: -1 }),
    /^exponentialBackoff: options\.initialMs must be a number of milliseconds from 0 to 3,600,000, got -1$/,
  ],
  [
    "exponential maxMs",
    () => exponentialBackoff({ initialMs: 500, maxMs: 100 }),
    /^exponentialBackoff: options\.maxMs must be a number of milliseconds from 500 to 86,400,000, got 100$/,
  ],
  [
    "exponential factor",
    () => exponentialBackoff({ factor: 0.5 }),
    /^exponentialBackoff: options\.factor must be a number from 1 to 100, got 0\.5$/,
  ],
  [
    "exponential jitter",
    () => exponentialBackoff({ jitter: "half" as never }),
    /^exponentialBackoff: options\.jitter must be one of "full", "none", got "half"$/,
  ],
  [
    "decorrelated initialMs",
    () => decorrelatedJitterBackoff({ initialMs: 0 }),
    /^decorrelatedJitterBackoff: options\.initialMs must be a number of milliseconds from 1 to 3,600,000, got 0$/,
  ],
  [
    "constant delayMs",
    () => constantBackoff(NaN),
    /^constantBackoff: delayMs must be a number of milliseconds from 0 to 86,400,000, got NaN$/,
  ],
  [
    "budget percent",
    () => retryBudget({ percent: -1 }),
    /^retryBudget: options\.percent must be a number from 0 to 1,000, got -1$/,
  ],
  [
    "budget minPerSecond",
    () => retryBudget({ minPerSecond: Infinity }),
    /^retryBudget: options\.minPerSecond must be a number from 0 to 1,000,000, got Infinity$/,
  ],
  [
    "budget windowMs",
    () => new RetryBudget({ windowMs: 10 }),
    /^retryBudget: options\.windowMs must be a number of milliseconds from 100 to 3,600,000, got 10$/,
  ],
  [
    "breaker failureRateThreshold",
    () => circuitBreaker({ failureRateThreshold: 0 }),
    /^circuitBreaker: options\.failureRateThreshold must be a percentage above 0 and at most 100, got 0$/,
  ],
  [
    "breaker failureRateThreshold > 100",
    () => circuitBreaker({ failureRateThreshold: 150 }),
    /^circuitBreaker: options\.failureRateThreshold must be a number from 0 to 100, got 150$/,
  ],
  [
    "breaker slowCallRateThreshold",
    () => circuitBreaker({ slowCallRateThreshold: -1 }),
    /^circuitBreaker: options\.slowCallRateThreshold must be a number from 0 to 100, got -1$/,
  ],
  [
    "breaker slowCallDurationMs",
    () => circuitBreaker({ slowCallDurationMs: "600" as never }),
    /^circuitBreaker: options\.slowCallDurationMs must be a number of milliseconds from 0 to 86,400,000, got "600"$/,
  ],
  [
    "breaker minimumCalls",
    () => circuitBreaker({ minimumCalls: 0 }),
    /^circuitBreaker: options\.minimumCalls must be an integer from 1 to 1,000,000, got 0$/,
  ],
  [
    "breaker window",
    () => circuitBreaker({ window: "count" as never }),
    /^circuitBreaker: options\.window must be an object, got "count"$/,
  ],
  [
    "breaker window.type",
    () => circuitBreaker({ window: { type: "sliding" } as never }),
    /^circuitBreaker: options\.window\.type must be one of "count", "time", got "sliding"$/,
  ],
  [
    "breaker window.size",
    () => circuitBreaker({ window: { type: "time", size: 0 } }),
    /^circuitBreaker: options\.window\.size must be an integer number of seconds from 1 to 3,600, got 0$/,
  ],
  [
    "breaker window key",
    () =>
      circuitBreaker({ window: { type: "count", sizeMs: 5 } } as unknown as CircuitBreakerOptions),
    /^circuitBreaker: unknown option options\.window\.sizeMs \(known: type, size\)$/,
  ],
  [
    "breaker openDurationMs",
    () => circuitBreaker({ openDurationMs: 0 }),
    /^circuitBreaker: options\.openDurationMs must be a number of milliseconds from 1 to 86,400,000, got 0$/,
  ],
  [
    "breaker maxOpenDurationMs",
    () => circuitBreaker({ openDurationMs: 1_000, maxOpenDurationMs: 500 }),
    /^circuitBreaker: options\.maxOpenDurationMs must be a number of milliseconds from 1,000 to 86,400,000, got 500$/,
  ],
  [
    "breaker halfOpenPermits",
    () => circuitBreaker({ halfOpenPermits: 0 }),
    /^circuitBreaker: options\.halfOpenPermits must be an integer from 1 to 100,000, got 0$/,
  ],
  [
    "breaker isFailure",
    () => circuitBreaker({ isFailure: true as never }),
    /^circuitBreaker: options\.isFailure must be a function, got true$/,
  ],
  [
    "breaker unknown",
    () => circuitBreaker({ permittedCallsInHalfOpen: 10 } as never),
    /^circuitBreaker: unknown option options\.permittedCallsInHalfOpen \(known: /,
  ],
  [
    "fallback on",
    () => fallback(1, { on: "all" as never }),
    /^fallback: options\.on must be a function, got "all"$/,
  ],
  [
    "staleCache maxAgeMs",
    () => staleCache({ maxAgeMs: 0 }),
    /^staleCache: options\.maxAgeMs must be a number of milliseconds from 1 to 86,400,000, got 0$/,
  ],
  [
    "staleCache key",
    () => staleCache({ key: "user" as never }),
    /^staleCache: options\.key must be a function, got "user"$/,
  ],
  [
    "staleCache maxEntries",
    () => staleCache({ maxEntries: 0 }),
    /^staleCache: options\.maxEntries must be an integer from 1 to 10,000,000, got 0$/,
  ],
  ["name", () => retry({ name: "" }), /^retry: options\.name must be a non-empty string, got ""$/],
];

describe("resilience options are checked at construction", () => {
  for (const [title, make, message] of cases) {
    it(`refuses a bad ${title}`, () => {
      assert.throws(make, (e: unknown) => {
        assert.ok(
          e instanceof TypeError || e instanceof RangeError,
          `a TypeError or RangeError: ${String(e)}`,
        );
        assert.match(e.message, message);
        assert.match(
          String((e as { code?: unknown }).code),
          /^TIMEBOUND_ERR_(INVALID_ARGUMENT|UNKNOWN_OPTION)$/,
          "with a timebound code",
        );
        return true;
      });
    });
  }

  it("a backoff that returns nonsense rejects the call with a message naming it", async () => {
    const policy = retry({ backoff: () => NaN, maxAttempts: 2 });
    await assert.rejects(
      policy.execute(background(), () => {
        throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
      }),
      /^TypeError: retry: options\.backoff must return a finite number of milliseconds >= 0, got NaN$/,
    );
  });
});
