import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import fc from "fast-check";
import { background, sleep, withCancel, withTimeout } from "../../src/index.js";
import {
  RetriesExhaustedError,
  type ResilienceEvent,
  constantBackoff,
  decorrelatedJitterBackoff,
  exponentialBackoff,
  isTransientError,
  retry,
  retryAfterMs,
  retryBudget,
  timeout,
  pipeline,
} from "../../src/resilience/index.js";

function resetError(): Error {
  return Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
}

describe("retry", () => {
  it("retries transient errors and returns the first success", async () => {
    let calls = 0;
    const policy = retry({ maxAttempts: 3, backoff: constantBackoff(0) });
    const value = await policy.execute(background(), () => {
      calls++;
      if (calls < 3) throw resetError();
      return "ok";
    });
    assert.equal(value, "ok");
    assert.equal(calls, 3, "two retries");
  });

  it("never retries a non-transient error, and passes it through unchanged", async () => {
    let calls = 0;
    const bad = new TypeError("invalid request body");
    const policy = retry({ maxAttempts: 5, backoff: constantBackoff(0) });
    await assert.rejects(
      policy.execute(background(), () => {
        calls++;
        throw bad;
      }),
      (e: unknown) => e === bad,
    );
    assert.equal(calls, 1, "one attempt only");
  });

  it("says how many attempts were made and why it stopped, with the last error as cause", async () => {
    const last = resetError();
    const policy = retry({ name: "users-retry", maxAttempts: 3, backoff: constantBackoff(1) });
    const err = await policy
      .execute(background(), () => Promise.reject(last))
      .then(
        () => assert.fail("must fail"),
        (e: unknown) => e,
      );
    assert.ok(err instanceof RetriesExhaustedError, "RetriesExhaustedError");
    assert.equal(err.code, "TIMEBOUND_ERR_RETRIES_EXHAUSTED");
    assert.equal(err.attempts, 3);
    assert.equal(err.reason, "attempts");
    assert.equal(err.cause, last);
    assert.match(
      err.message,
      /^users-retry: gave up after 3 attempts: attempts used up; last error: /,
    );
  });

  it("retries an attempt's own timeout but never the caller's deadline", async () => {
    let attempts = 0;
    const own = pipeline(retry({ maxAttempts: 3, backoff: constantBackoff(0) }), timeout(5));
    const err = await own
      .execute(background(), (ctx) => {
        attempts++;
        return sleep(ctx, 10_000);
      })
      .then(
        () => assert.fail("must fail"),
        (e: unknown) => e,
      );
    assert.equal(attempts, 3, "each attempt's own timeout was retried");
    assert.ok(err instanceof RetriesExhaustedError, "then retries ran out");
    assert.equal((err.cause as Error).name, "TimeoutError");

    attempts = 0;
    using caller = withTimeout(background(), 20);
    await assert.rejects(
      retry({ maxAttempts: 5, backoff: constantBackoff(0) }).execute(caller, (ctx) => {
        attempts++;
        return sleep(ctx, 10_000);
      }),
      (e: unknown) => e === caller.err,
      "the caller's own DeadlineExceeded",
    );
    assert.equal(attempts, 1, "the caller's deadline is never retried");
  });

  it("stops when the caller's time left cannot hold the backoff plus minAttemptMs", async () => {
    let attempts = 0;
    using ctx = withTimeout(background(), 300);
    const policy = retry({ maxAttempts: 10, backoff: constantBackoff(200), minAttemptMs: 150 });
    const err = await policy
      .execute(ctx, () => {
        attempts++;
        throw resetError();
      })
      .then(
        () => assert.fail("must fail"),
        (e: unknown) => e,
      );
    assert.equal(attempts, 1, "200 ms backoff + 150 ms attempt do not fit in 300 ms: no retry");
    assert.ok(err instanceof RetriesExhaustedError, "RetriesExhaustedError");
    assert.equal(err.reason, "deadline");
    assert.match(
      err.message,
      /the caller's remaining time cannot hold another attempt \(\d+ ms left\)/,
    );
    assert.equal(ctx.err, undefined, "it gave up before the deadline, not at it");
  });

  it("never answers after the caller's deadline (random deadlines, backoffs, failures)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 80 }),
        fc.constantFrom("constant", "exponential", "decorrelated"),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.record({ fail: fc.boolean(), ms: fc.integer({ min: 0, max: 15 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (deadlineMs, kind, backoffMs, minAttemptMs, script) => {
          const backoff =
            kind === "constant"
              ? constantBackoff(backoffMs)
              : kind === "exponential"
                ? exponentialBackoff({ initialMs: backoffMs })
                : decorrelatedJitterBackoff({ initialMs: Math.max(1, backoffMs) });
          const policy = retry({ maxAttempts: 8, backoff, minAttemptMs });
          using ctx = withTimeout(background(), deadlineMs);
          const deadline = ctx.deadline!;
          const starts: number[] = [];
          const decisions: { delayMs: number; remaining: number }[] = [];
          const onRetry = (m: unknown): void => {
            const e = m as ResilienceEvent;
            if (e.context === ctx && e.event === "retry")
              decisions.push({ delayMs: e.delayMs as number, remaining: ctx.remaining() });
          };
          subscribe("timebound:resilience:retry", onRetry);
          let i = 0;
          const outcome = await policy
            .execute(ctx, async (ctx) => {
              starts.push(ctx.remaining());
              const step = script[Math.min(i++, script.length - 1)]!;
              await sleep(ctx, step.ms);
              if (step.fail) throw resetError();
              return "ok";
            })
            .then(
              () => "ok",
              (e: unknown) => e,
            );
          unsubscribe("timebound:resilience:retry", onRetry);
          const late = performance.now() - deadline;
          for (const d of decisions) {
            assert.ok(
              d.delayMs + minAttemptMs < d.remaining + 0.5,
              `a ${d.delayMs} ms backoff and a ${minAttemptMs} ms attempt started with ${d.remaining.toFixed(1)} ms left`,
            );
          }
          // Wide bound: a loaded machine fires timers late; the point is "not one more backoff".
          assert.ok(late < 150, `answered ${late.toFixed(1)} ms after the deadline`);
          for (const remaining of starts.slice(1)) {
            assert.ok(remaining > 0, "no retry starts on an ended context");
          }
          if (outcome instanceof RetriesExhaustedError && outcome.reason === "deadline") {
            assert.ok(ctx.err === undefined || late < 150, "gave up with time left");
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a retry budget caps retries under a 100% failing upstream", async () => {
    const budget = retryBudget({ percent: 10, minPerSecond: 0, windowMs: 60_000 });
    const policy = retry({ maxAttempts: 5, backoff: constantBackoff(0), budget });
    let attempts = 0;
    const reasons = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const err = await policy
        .execute(background(), () => {
          attempts++;
          throw resetError();
        })
        .then(
          () => assert.fail("the upstream always fails"),
          (e: unknown) => e as RetriesExhaustedError,
        );
      reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
    }
    const retries = attempts - 200;
    assert.ok(retries <= 20, `at most 10% of 200 requests retried, got ${retries}`);
    assert.ok(retries >= 15, `the budget is used, got ${retries}`);
    assert.ok((reasons.get("budget") ?? 0) > 150, "most calls stopped for the budget");
    // Without a budget the same traffic would have made 1,000 attempts.
  });

  it("a budget's floor allows minPerSecond retries however little traffic there is", () => {
    let t = 0;
    const budget = retryBudget({ percent: 0, minPerSecond: 2, windowMs: 1_000, clock: () => t });
    assert.ok(budget.tryWithdraw() && budget.tryWithdraw(), "two retries within the floor");
    assert.ok(!budget.tryWithdraw(), "a third is refused");
    t += 1_100;
    assert.ok(budget.tryWithdraw(), "the window slid: the floor is back");
  });

  it("honours Retry-After (seconds) from a real server answering 429 then 503 then 200", async () => {
    const answers = [
      { status: 429, headers: { "retry-after": "1" } },
      { status: 503, headers: { "retry-after": "0" } },
      { status: 200, headers: {} },
    ];
    const seen: number[] = [];
    const server = createServer((req, res) => {
      seen.push(performance.now());
      const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      res.writeHead(a.status, a.headers).end(String(a.status));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const events: ResilienceEvent[] = [];
      const listener = (m: unknown) => events.push(m as ResilienceEvent);
      subscribe("timebound:resilience:retry", listener);
      const policy = retry({ maxAttempts: 3, backoff: constantBackoff(0) });
      using ctx = withTimeout(background(), 10_000);
      const res = await policy.execute(ctx, (ctx) => fetch(url, { signal: ctx.signal }));
      unsubscribe("timebound:resilience:retry", listener);
      assert.equal(res.status, 200, "the third answer");
      assert.equal(await res.text(), "200");
      assert.equal(seen.length, 3, "three requests");
      assert.ok(seen[1]! - seen[0]! >= 990, `waited the 1 s asked, got ${seen[1]! - seen[0]!} ms`);
      assert.deepEqual(
        events.map((e) => e.delayMs),
        [1_000, 0],
        "the retry events carry the delays Retry-After asked",
      );
    } finally {
      server.close();
    }
  });

  it("gives up at once when Retry-After asks for more than the caller has left, returning the answer", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(503, { "retry-after": new Date(Date.now() + 30_000).toUTCString() }).end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      let requests = 0;
      using ctx = withTimeout(background(), 5_000);
      const res = await retry({ maxAttempts: 3 }).execute(ctx, (ctx) => {
        requests++;
        return fetch(url, { signal: ctx.signal });
      });
      assert.equal(res.status, 503, "the last answer, as it came");
      assert.equal(requests, 1, "a 30 s Retry-After does not fit in 5 s: no retry");
      await res.body?.cancel();
    } finally {
      server.close();
    }
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-12-07T00:00:00Z");
    assert.equal(retryAfterMs({ headers: { "retry-after": "120" } }, now), 120_000);
    assert.equal(
      retryAfterMs(
        { headers: new Headers({ "Retry-After": "Mon, 07 Dec 2026 00:00:30 GMT" }) },
        now,
      ),
      30_000,
    );
    assert.equal(retryAfterMs({ headers: { "retry-after": "soon" } }, now), undefined);
    assert.equal(retryAfterMs({ response: { headers: { "retry-after": "2" } } }, now), 2_000);
  });

  it("knows transient errors: codes, undici's, statuses, causes", () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });
    for (const code of [
      "ECONNRESET",
      "ECONNREFUSED",
      "EPIPE",
      "ETIMEDOUT",
      "UND_ERR_SOCKET",
      "UND_ERR_CONNECT_TIMEOUT",
    ]) {
      assert.ok(isTransientError(withCode(code)), `${code} is transient`);
    }
    assert.ok(
      isTransientError(new TypeError("fetch failed", { cause: withCode("ECONNREFUSED") })),
      "fetch's TypeError with a refused connection as its cause",
    );
    assert.ok(
      isTransientError(Object.assign(new Error("x"), { name: "ConnectTimeoutError" })),
      "by name",
    );
    assert.ok(isTransientError({ status: 503 }), "an error with status 503");
    assert.ok(
      isTransientError({ response: { statusCode: 429 } }),
      "an error whose response is 429",
    );
    assert.ok(!isTransientError(withCode("ENOENT")), "ENOENT is not");
    assert.ok(!isTransientError({ status: 400 }), "400 is not");
    const c = withCancel(background());
    c.cancel();
    assert.ok(!isTransientError(c.err), "a cancel is not");
  });
});
