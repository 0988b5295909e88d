// batch(): modes, order, optional parts, limit, budgets and drift compensation, bad input.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import {
  type Context,
  Canceled,
  DeadlineExceeded,
  background,
  cause,
  now,
  sleep,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import { dependents } from "../../src/core/introspect.js";
import {
  BatchFailedError,
  type BudgetMessage,
  CallNotNeededError,
  type CompensateMessage,
  LatencyTracker,
  batch,
  quorum,
} from "../../src/fanout/index.js";

/** Waits `ms` under ctx and returns `value`; records how the wait ended in `seen`. */
function after<T>(ms: number, value: T, seen?: { err?: unknown }): (ctx: Context) => Promise<T> {
  return async (ctx) => {
    try {
      await sleep(ctx, ms);
    } catch (err) {
      if (seen) seen.err = err;
      throw err;
    }
    return value;
  };
}

function failAfter(ms: number, message: string): (ctx: Context) => Promise<never> {
  return async (ctx) => {
    await sleep(ctx, ms);
    throw new Error(message);
  };
}

/** Collects the messages of a channel while `fn` runs. */
async function collect<T>(name: string, fn: () => Promise<unknown>): Promise<T[]> {
  const got: T[] = [];
  const listener = (m: unknown) => got.push(m as T);
  subscribe(name, listener);
  try {
    await fn();
  } finally {
    unsubscribe(name, listener);
  }
  return got;
}

describe("batch, mode all", () => {
  it("resolves with typed values in input order, whatever order they finish in", async () => {
    const { values, missing } = await batch(background(), [
      after(40, "slow"),
      after(1, 2),
      after(20, { ok: true }),
    ] as const);
    const [a, b, c] = values;
    assert.equal(a, "slow");
    assert.equal(b, 2);
    assert.deepEqual(c, { ok: true });
    assert.deepEqual(missing, []);
  });

  it("keeps a record's keys", async () => {
    const { values } = await batch(background(), { user: after(5, "ann"), count: () => 3 });
    const user: string = values.user;
    const count: number = values.count;
    assert.deepEqual({ user, count }, { user: "ann", count: 3 });
  });

  it("the first required failure rejects and cancels the rest, whose work sees the cancel", async () => {
    const seen: { err?: unknown } = {};
    const started = now();
    const err = await batch(
      background(),
      { slow: after(5_000, 1, seen), broken: failAfter(5, "boom") },
      { name: "page" },
    ).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BatchFailedError, `rejected with ${String(err)}`);
    assert.equal(err.code, "TIMEBOUND_ERR_BATCH_FAILED");
    assert.match(err.message, /batch "page" \(mode all\): required call "broken" failed: boom/);
    assert.ok(err.cause instanceof Error && err.cause.message === "boom", "cause is the failure");
    assert.deepEqual(
      err.missing.map((m) => [m.key, m.status]),
      [
        ["slow", "canceled"],
        ["broken", "rejected"],
      ],
    );
    assert.ok(now() - started < 2_000, "it did not wait for the slow call");
    await sleep(background(), 1);
    assert.ok(seen.err instanceof Canceled, `the slow call's sleep ended with ${String(seen.err)}`);
    assert.equal(seen.err.cause, err.cause, "canceled with the failure as cause");
  });

  it("optional calls may fail or time out: partial values, each missing part with its reason", async () => {
    const { values, missing } = await batch(
      withTimeout(background(), 300),
      {
        main: after(20, "main"),
        broken: { run: failAfter(1, "no ads today"), optional: true },
        slow: { run: after(10_000, "late"), optional: true, p95Ms: 1, weight: 0.01 },
      },
      { reserveMs: 0 },
    );
    const main: string = values.main; // required: typed without undefined
    // @ts-expect-error an optional part may be missing: its type includes undefined
    const late: string = values.slow;
    assert.equal(main, "main");
    assert.equal(late, undefined);
    assert.equal(values.broken, undefined);
    assert.equal(values.slow, undefined);
    const byKey = Object.fromEntries(missing.map((m) => [m.key, m]));
    assert.equal(byKey.broken!.status, "rejected");
    assert.match(byKey.broken!.message, /failed: no ads today/);
    assert.equal(byKey.slow!.status, "timed-out");
    assert.ok(byKey.slow!.reason instanceof DeadlineExceeded, "the budget's error");
    assert.match(byKey.slow!.message, /timed out after .* \(budget .*\)/);
  });

  it("rejects with the caller's context error when the caller cancels", async () => {
    const parent = withCancel(background());
    const p = batch(parent, [after(5_000, 1)]);
    parent.cancel(new Error("client left"));
    await assert.rejects(p, Canceled);
  });

  it("a required call cut by its budget (the deadline less the reserve) fails the batch", async () => {
    const err = await batch(withTimeout(background(), 200), [after(5_000, 1), after(5_000, 2)], {
      reserveMs: 60,
    }).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BatchFailedError, `rejected with ${String(err)}`);
    assert.match(err.message, /required call #\d timed out after .* \(budget .*\)/);
    assert.ok(err.cause instanceof DeadlineExceeded, "its cause is the budget's DeadlineExceeded");
    assert.ok(
      err.missing.every((m) => m.status === "timed-out" || m.status === "canceled"),
      "every part is accounted for",
    );
  });

  it("rejects with the batch's own deadline error when timeoutMs ends it first", async () => {
    // No budgets below the batch's: the calls run until the batch's deadline.
    await assert.rejects(
      batch(background(), [after(5_000, 1)], {
        timeoutMs: 20,
        reserveMs: 0,
        compensate: false,
      }).catch((e: unknown) => {
        throw e instanceof BatchFailedError ? e.cause : e;
      }),
      DeadlineExceeded,
    );
  });

  it("rejects at once when the context has already ended, starting nothing", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    let ran = false;
    await assert.rejects(
      batch(ctx, [
        () => {
          ran = true;
        },
      ]),
      Canceled,
    );
    assert.equal(ran, false);
  });

  it("leaves nothing under the caller's context once it settles", async () => {
    using parent = withTimeout(background(), 5_000);
    await batch(parent, [after(5, 1), after(10, 2)]);
    await batch(parent, [failAfter(1, "x"), after(2_000, 2)]).catch(() => {});
    await batch(parent, [after(1, 1), after(2_000, 2)], { mode: "any" });
    assert.equal(
      dependents(parent),
      0,
      "the batches' contexts (and their budgets' timers) are gone",
    );
  });
});

describe("batch, other modes", () => {
  it("allSettled waits for every call and never rejects for a call", async () => {
    const { values, outcomes, missing } = await batch(
      background(),
      [after(5, "a"), failAfter(5, "b failed")],
      { mode: "allSettled" },
    );
    assert.equal(values[0], "a");
    assert.equal(values[1], undefined);
    assert.equal(outcomes[0].status, "fulfilled");
    assert.equal(outcomes[1].status, "rejected");
    assert.equal(missing.length, 1);
  });

  it("any: the first success wins and cancels the rest, with CallNotNeededError as cause", async () => {
    const seen: { err?: unknown } = {};
    const r = await batch(
      background(),
      { primary: after(5_000, "p", seen), replica: after(5, "r"), broken: failAfter(1, "x") },
      { mode: "any" },
    );
    assert.equal(r.winner, "replica");
    assert.equal(r.values.replica, "r");
    assert.equal(r.outcomes.primary.status, "canceled");
    await sleep(background(), 1);
    assert.ok(seen.err instanceof Canceled, "the losing call's work saw the cancel");
    assert.ok(seen.err.cause instanceof CallNotNeededError, "and why");
    assert.equal(seen.err.cause.code, "TIMEBOUND_ERR_CALL_NOT_NEEDED");
    assert.match(seen.err.cause.message, /call "replica" succeeded first \(mode any\)/);
  });

  it("any: rejects with BatchFailedError when every call fails", async () => {
    await assert.rejects(
      batch(background(), [failAfter(1, "a"), failAfter(2, "b")], { mode: "any" }),
      (err: unknown) =>
        err instanceof BatchFailedError &&
        /mode any\): every call failed/.test(err.message) &&
        err.missing.length === 2,
    );
  });

  it("quorum(n): n successes settle it and cancel the rest", async () => {
    const seen: { err?: unknown } = {};
    const r = await batch(background(), [after(1, "a"), after(5_000, "b", seen), after(3, "c")], {
      mode: quorum(2),
    });
    assert.deepEqual([r.values[0], r.values[1], r.values[2]], ["a", undefined, "c"]);
    await sleep(background(), 1);
    assert.ok(seen.err instanceof Canceled, "the third call saw the cancel");
  });

  it("quorum(n): rejects as soon as n is out of reach", async () => {
    const started = now();
    await assert.rejects(
      batch(background(), [failAfter(1, "a"), failAfter(2, "b"), after(5_000, "c")], {
        mode: quorum(2),
      }),
      (err: unknown) =>
        err instanceof BatchFailedError && /quorum of 2 is out of reach/.test(err.message),
    );
    assert.ok(now() - started < 2_000, "did not wait for the last call");
  });
});

describe("batch, limit", () => {
  it("never runs more than `limit` calls at once, and runs them all", async () => {
    let running = 0;
    let most = 0;
    const call = (i: number) => async (ctx: Context) => {
      running++;
      most = Math.max(most, running);
      try {
        await sleep(ctx, 5);
      } finally {
        running--;
      }
      return i;
    };
    const { values } = await batch(
      background(),
      Array.from({ length: 7 }, (_, i) => call(i)),
      { limit: 2 },
    );
    assert.equal(most, 2);
    assert.deepEqual(values, [0, 1, 2, 3, 4, 5, 6]);
  });

  it("calls still queued when the batch is decided are not started, and say so", async () => {
    let started = 0;
    const call = (ms: number) => async (ctx: Context) => {
      started++;
      await sleep(ctx, ms);
      return ms;
    };
    const fail = async (ctx: Context) => {
      started++;
      await sleep(ctx, 1);
      throw new Error("first fails");
    };
    const r = await batch(background(), [fail, call(20), call(5_000), call(5_000)], {
      mode: "any",
      limit: 2,
    });
    assert.equal(r.winner, 1);
    assert.equal(started, 3, "the third started when the first failed; the fourth never");
    assert.equal(r.outcomes[3].status, "not-started");
  });
});

describe("batch, budgets and drift compensation", () => {
  it("splits the deadline by P95 × weight and announces it", async () => {
    const [msg] = await collect<BudgetMessage>("timebound:fanout:budget", () =>
      batch(
        withTimeout(background(), 1_005),
        { a: { run: () => 1, p95Ms: 100 }, b: { run: () => 2, p95Ms: 50 } },
        { name: "split", allocation: "proportional" },
      ),
    );
    assert.ok(msg !== undefined, "a budget message");
    assert.equal(msg.batch, "split");
    const a = msg.calls.find((c) => c.key === "a")!;
    const b = msg.calls.find((c) => c.key === "b")!;
    assert.ok(Math.abs(a.budgetMs - 2 * b.budgetMs) < 1e-6, `${a.budgetMs} vs ${b.budgetMs}`);
    assert.ok(a.budgetMs + b.budgetMs <= msg.totalMs - msg.reserveMs + 1e-6, "within the total");
  });

  it("a call that finishes early gives its time to one still running, which then succeeds", async () => {
    const calls = {
      quick: { run: () => "done", p95Ms: 100 },
      // Its budget is a tenth of the quick one's: 40 ms of 400; it needs 150.
      patient: { run: after(150, "made it"), p95Ms: 10 },
    };
    let result: Awaited<ReturnType<typeof batch<typeof calls, "all">>> | undefined;
    const messages = await collect<CompensateMessage>("timebound:fanout:compensate", async () => {
      result = await batch(withTimeout(background(), 405), calls, { name: "drift" });
    });
    assert.equal(result!.values.patient, "made it");
    const m = messages.find((x) => x.from === "quick");
    assert.ok(m !== undefined, "a compensation message from the quick call");
    const grant = m.grants.find((g) => g.key === "patient")!;
    assert.ok(grant.addMs > 100, `patient got ${grant.addMs} ms more`);
    assert.ok(grant.addMs <= m.unusedMs + 1e-6, "no more than what was left");

    const without = await batch(withTimeout(background(), 405), calls, { compensate: false }).then(
      () => "resolved",
      (e: unknown) => e,
    );
    assert.ok(without instanceof BatchFailedError, `without compensation: ${String(without)}`);
    assert.match(without.message, /required call "patient" timed out/);
  });

  it("never moves a call's deadline past the batch's deadline, nor into the reserve", async () => {
    const parent = withTimeout(background(), 300);
    const messages = await collect<CompensateMessage>("timebound:fanout:compensate", () =>
      // Parallel split: the quick call's budget is the whole window, the other's a tenth of
      // it; what the quick one leaves is more than the other can take before the reserve.
      batch(
        parent,
        [
          { run: () => 1, p95Ms: 100 },
          { run: after(30, 2), p95Ms: 10 },
        ],
        {
          reserveMs: 50,
        },
      ),
    );
    assert.ok(messages.length > 0, "compensation happened");
    assert.ok(messages[0]!.unallocatedMs > 0, "some of the time could not be given");
    for (const m of messages) {
      for (const g of m.grants) {
        assert.ok(
          g.deadline <= parent.deadline! - 50 + 1e-6,
          "within the parent's, less the reserve",
        );
      }
      const given = m.grants.reduce((s, g) => s + g.addMs, 0);
      assert.ok(Math.abs(given + m.unallocatedMs - m.unusedMs) < 1e-6, "conserved");
    }
  });

  it("takes P95 and load factor from the tracker and records every call", async () => {
    let t = 0;
    const tracker = new LatencyTracker({ clock: () => t, minSamples: 5 });
    for (let i = 0; i < 20; i++) {
      tracker.record("users", 100);
      tracker.record("ads", 10);
    }
    const [msg] = await collect<BudgetMessage>("timebound:fanout:budget", () =>
      batch(
        withTimeout(background(), 505),
        { users: () => 1, ads: { run: () => 2, dependency: "ads" } },
        { tracker, allocation: "proportional" },
      ),
    );
    const users = msg!.calls.find((c) => c.key === "users")!;
    assert.equal(users.prior, false);
    assert.ok(Math.abs(users.p95Ms - 100) <= 2, `p95 ${users.p95Ms}`);
    assert.equal(tracker.stats("users").count, 21, "the call was recorded");
    t = 0;
  });
});

describe("batch, bad input", () => {
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ["an empty list", () => batch(background(), []), /batch: calls must hold at least one call/],
    ["an empty record", () => batch(background(), {}), /batch: calls must hold at least one call/],
    [
      "not calls",
      () => batch(background(), 5 as never),
      /batch: calls must be an array or a record/,
    ],
    [
      "a call that is not a function",
      () => batch(background(), [1 as never]),
      /calls\[0\] must be a function/,
    ],
    [
      "a weight of 0",
      () => batch(background(), [{ run: () => 1, weight: 0 }]),
      /calls\[0\]\.weight must be a number above 0, got 0/,
    ],
    [
      "a negative weight",
      () => batch(background(), { a: { run: () => 1, weight: -2 } }),
      /calls\["a"\]\.weight must be .* got -2/,
    ],
    [
      "a NaN latency",
      () => batch(background(), [{ run: () => 1, p95Ms: Number.NaN }]),
      /calls\[0\]\.p95Ms must be .* got NaN/,
    ],
    [
      "a bad mode",
      () => batch(background(), [() => 1], { mode: "some" as "any" }),
      /options\.mode must be "all"/,
    ],
    [
      "quorum(0)",
      () => batch(background(), [() => 1], { mode: { kind: "quorum", n: 0 } }),
      /quorum: n must be/,
    ],
    [
      "a quorum too large",
      () => batch(background(), [() => 1], { mode: quorum(2) }),
      /quorum\(2\) needs more successes/,
    ],
    ["limit 0", () => batch(background(), [() => 1], { limit: 0 }), /options\.limit must be/],
    [
      "an unknown option",
      () => batch(background(), [() => 1], { limt: 2 } as never),
      /unknown option options\.limt/,
    ],
    [
      "a negative timeout",
      () => batch(background(), [() => 1], { timeoutMs: -1 }),
      /options\.timeoutMs must be/,
    ],
    [
      "not a context",
      () => batch({} as Context, [() => 1]),
      /batch: ctx must be a timebound Context/,
    ],
  ];
  for (const [what, call, message] of cases) {
    it(`rejects (never throws) ${what}`, async () => {
      let p: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        p = call();
      });
      await assert.rejects(p!, (err: unknown) => {
        assert.ok(err instanceof TypeError || err instanceof RangeError, `class of ${String(err)}`);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it("quorum() itself refuses a bad n", () => {
    assert.throws(() => quorum(1.5), /quorum: n must be an integer/);
  });

  it("a canceled call reads the cause of its cancel", async () => {
    let seenCause: unknown;
    await batch(
      background(),
      [
        async (ctx) => {
          await ctx.done;
          seenCause = cause(ctx);
        },
        () => "first",
      ],
      { mode: "any" },
    );
    await sleep(background(), 1);
    assert.ok(seenCause instanceof CallNotNeededError, `cause ${String(seenCause)}`);
  });
});
