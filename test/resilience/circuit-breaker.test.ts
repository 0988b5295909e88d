import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import fc from "fast-check";
import { background, sleep, withCancel, type CancelableContext } from "../../src/index.js";
import {
  BrokenCircuitError,
  type CircuitState,
  type ResilienceEvent,
  circuitBreaker,
} from "../../src/resilience/index.js";

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Upstream extends Error {}

/** A call in flight: settle it when the test says. */
interface Pending {
  resolve: (v: number) => void;
  reject: (e: unknown) => void;
  settled: Promise<"ok" | "refused" | "failed">;
  ctx: CancelableContext;
}

// ---- The reference model: the state machine as the docs describe it, written plainly. ----

interface ModelConfig {
  failureRate: number;
  slowRate: number;
  slowMs: number;
  minimumCalls: number;
  size: number;
  openMs: number;
  maxOpenMs: number;
  permits: number;
}

class Model {
  state: CircuitState = "closed";
  gen = 0;
  window: { failed: boolean; slow: boolean }[] = [];
  trips = 0;
  openUntil = 0;
  issued = 0;
  trial: { failed: boolean; slow: boolean }[] = [];
  constructor(readonly c: ModelConfig) {}

  admit(t: number): number | "refused" {
    if (this.state === "isolated") return "refused";
    if (this.state === "open") {
      if (t < this.openUntil) return "refused";
      this.move("half-open", t);
    }
    if (this.state === "half-open") {
      if (this.issued >= this.c.permits) return "refused";
      this.issued++;
    }
    return this.gen;
  }

  finish(gen: number, start: number, t: number, outcome: "success" | "failure" | "ignored"): void {
    const slow = t - start > this.c.slowMs;
    if (outcome === "ignored" && slow) outcome = "success";
    if (gen !== this.gen) return;
    if (this.state === "closed") {
      if (outcome === "ignored") return;
      this.window.push({ failed: outcome === "failure", slow });
      if (this.window.length > this.c.size) this.window.shift();
      if (
        this.window.length >= Math.min(this.c.minimumCalls, this.c.size) &&
        this.bad(this.window)
      ) {
        this.move("open", t);
      }
    } else if (this.state === "half-open") {
      if (outcome === "ignored") {
        this.issued--;
        return;
      }
      this.trial.push({ failed: outcome === "failure", slow });
      if (this.trial.length < this.c.permits) return;
      if (this.bad(this.trial)) this.move("open", t);
      else {
        this.trips = 0;
        this.move("closed", t);
      }
    }
  }

  bad(calls: { failed: boolean; slow: boolean }[]): boolean {
    const failed = calls.filter((c) => c.failed).length;
    const slow = calls.filter((c) => c.slow).length;
    return (
      (failed / calls.length) * 100 >= this.c.failureRate ||
      (slow / calls.length) * 100 >= this.c.slowRate
    );
  }

  move(to: CircuitState, t: number): void {
    this.state = to;
    this.gen++;
    this.window = [];
    this.trial = [];
    this.issued = 0;
    if (to === "open") {
      this.trips++;
      this.openUntil = t + Math.min(this.c.maxOpenMs, this.c.openMs * 2 ** (this.trips - 1));
    }
  }
}

type Op =
  | { kind: "start"; outcome: "success" | "failure" | "ignored" }
  | { kind: "finish"; which: number }
  | { kind: "advance"; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("start" as const),
      outcome: fc.constantFrom("success" as const, "failure" as const, "ignored" as const),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("finish" as const), which: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 0, max: 400 }),
    }),
  },
);

const configArb: fc.Arbitrary<ModelConfig> = fc
  .record({
    failureRate: fc.integer({ min: 1, max: 100 }),
    slowRate: fc.integer({ min: 1, max: 100 }),
    slowMs: fc.integer({ min: 0, max: 300 }),
    minimumCalls: fc.integer({ min: 1, max: 8 }),
    size: fc.integer({ min: 1, max: 8 }),
    openMs: fc.integer({ min: 1, max: 500 }),
    growth: fc.integer({ min: 1, max: 8 }),
    permits: fc.integer({ min: 1, max: 4 }),
  })
  .map(({ growth, ...c }) => ({ ...c, maxOpenMs: c.openMs * growth }));

describe("circuitBreaker: the state machine", () => {
  it("matches the reference model over random outcomes, durations and interleavings (fake clock)", async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 80 }), async (c, ops) => {
        let t = 1_000;
        const breaker = circuitBreaker({
          failureRateThreshold: c.failureRate,
          slowCallRateThreshold: c.slowRate,
          slowCallDurationMs: c.slowMs,
          minimumCalls: c.minimumCalls,
          window: { type: "count", size: c.size },
          openDurationMs: c.openMs,
          maxOpenDurationMs: c.maxOpenMs,
          halfOpenPermits: c.permits,
          clock: () => t,
        });
        const model = new Model(c);
        const inFlight: {
          p: Pending;
          gen: number;
          start: number;
          outcome: "success" | "failure" | "ignored";
        }[] = [];
        for (const op of ops) {
          if (op.kind === "advance") t += op.ms;
          else if (op.kind === "start") {
            const admitted = model.admit(t);
            const ctx = withCancel(background());
            let resolve!: (v: number) => void;
            let reject!: (e: unknown) => void;
            const work = new Promise<number>((res, rej) => {
              resolve = res;
              reject = rej;
            });
            const settled = breaker
              .execute(ctx, () => work)
              .then(
                () => "ok" as const,
                (e: unknown) =>
                  e instanceof BrokenCircuitError ? ("refused" as const) : ("failed" as const),
              );
            await flush();
            if (admitted === "refused") {
              assert.equal(
                await settled,
                "refused",
                "the model refuses this call: so must the breaker",
              );
            } else {
              inFlight.push({
                p: { resolve, reject, settled, ctx },
                gen: admitted,
                start: t,
                outcome: op.outcome,
              });
            }
          } else if (inFlight.length > 0) {
            const [call] = inFlight.splice(op.which % inFlight.length, 1);
            const { p, outcome } = call!;
            if (outcome === "success") p.resolve(1);
            else if (outcome === "failure") p.reject(new Upstream("boom"));
            else {
              p.ctx.cancel(); // the caller left
              p.reject(p.ctx.err);
            }
            await p.settled;
            model.finish(call!.gen, call!.start, t, outcome);
          }
          assert.equal(breaker.state, model.state, `state after ${JSON.stringify(op)}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("half-open lets exactly halfOpenPermits calls through under concurrency, then decides", async () => {
    let t = 0;
    const breaker = circuitBreaker({
      minimumCalls: 2,
      window: { type: "count", size: 2 },
      openDurationMs: 100,
      halfOpenPermits: 5,
      clock: () => t,
    });
    const bg = background();
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        breaker.execute(bg, () => Promise.reject(new Upstream("down"))),
        Upstream,
      );
    }
    assert.equal(breaker.state, "open", "two failures out of two open it");
    t += 100;
    const releases: (() => void)[] = [];
    let started = 0;
    const calls = Array.from({ length: 40 }, () =>
      breaker.execute(bg, () => {
        started++;
        return new Promise<number>((resolve) => releases.push(() => resolve(1)));
      }),
    );
    const outcomes = Promise.allSettled(calls);
    await flush();
    assert.equal(started, 5, "exactly 5 trial calls started");
    assert.equal(breaker.state, "half-open", "half-open while the trial calls run");
    for (const release of releases) release();
    const settled = await outcomes;
    const refused = settled.filter(
      (s) => s.status === "rejected" && s.reason instanceof BrokenCircuitError,
    );
    assert.equal(refused.length, 35, "the other 35 were refused at once");
    const first = refused[0] as PromiseRejectedResult;
    assert.match(
      (first.reason as Error).message,
      /is half-open since .* all its trial calls are in flight/,
      "the refusal says why",
    );
    assert.equal(breaker.state, "closed", "5 successful trial calls close it");
  });

  it("rejects at once with BrokenCircuitError saying since when and until when", async () => {
    let t = 0;
    const breaker = circuitBreaker({
      name: "payments",
      minimumCalls: 1,
      openDurationMs: 5_000,
      clock: () => t,
    });
    await assert.rejects(breaker.execute(background(), () => Promise.reject(new Upstream("x"))));
    t += 1_000;
    let ran = false;
    const err = await breaker
      .execute(background(), () => {
        ran = true;
        return 1;
      })
      .then(
        () => assert.fail("an open breaker must refuse"),
        (e: unknown) => e,
      );
    assert.ok(!ran, "the work never ran");
    assert.ok(err instanceof BrokenCircuitError, "a BrokenCircuitError");
    assert.equal(err.code, "TIMEBOUND_ERR_BROKEN_CIRCUIT");
    assert.equal(err.state, "open");
    assert.match(
      err.message,
      /^circuit breaker "payments" is open since \S+Z \(failure rate 100%, slow-call rate 0% over 1 call\): calls are refused until \S+Z \(in 4000 ms\)$/,
      `message: ${err.message}`,
    );
    assert.ok(err.until!.getTime() - err.since.getTime() === 5_000, "open for openDurationMs");
  });

  it("a caller's cancel is not a failure of the upstream", async () => {
    const breaker = circuitBreaker({ minimumCalls: 1 });
    for (let i = 0; i < 5; i++) {
      const ctx = withCancel(background());
      const p = breaker.execute(ctx, (ctx) => sleep(ctx, 10_000));
      ctx.cancel();
      await assert.rejects(p, { name: "AbortError" });
    }
    assert.equal(breaker.state, "closed", "five calls the caller canceled leave it closed");
    assert.equal(breaker.rates().calls, 0, "and are not counted");
  });

  it("the seed's configuration is expressible as is", () => {
    const breaker = circuitBreaker({
      failureRateThreshold: 50,
      slowCallDurationMs: 600,
      halfOpenPermits: 10,
    });
    assert.equal(breaker.failureRateThreshold, 50);
    assert.equal(breaker.slowCallDurationMs, 600);
    assert.equal(breaker.halfOpenPermits, 10);
  });

  it("slow calls open it; the open duration grows on repeated trips up to the maximum", async () => {
    let t = 0;
    const breaker = circuitBreaker({
      slowCallRateThreshold: 50,
      slowCallDurationMs: 600,
      minimumCalls: 2,
      window: { type: "count", size: 2 },
      openDurationMs: 1_000,
      maxOpenDurationMs: 3_000,
      halfOpenPermits: 1,
      clock: () => t,
    });
    const slowCall = () =>
      breaker.execute(background(), () => {
        t += 700;
        return 1;
      });
    await slowCall();
    await slowCall();
    assert.equal(breaker.state, "open", "two slow successes out of two: open");
    const events: ResilienceEvent[] = [];
    const listener = (m: unknown) => events.push(m as ResilienceEvent);
    subscribe("timebound:resilience:circuit-breaker", listener);
    try {
      for (const wait of [1_000, 2_000, 3_000, 3_000]) {
        t += wait - 1;
        await assert.rejects(slowCall(), BrokenCircuitError, `still open 1 ms before ${wait} ms`);
        t += 1;
        await slowCall(); // the one trial call, slow again: open again, for longer
        assert.equal(breaker.state, "open", "a slow trial call opens it again");
      }
    } finally {
      unsubscribe("timebound:resilience:circuit-breaker", listener);
    }
    const opens = events.filter((e) => e.event === "state-change" && e.to === "open");
    assert.deepEqual(
      opens.map((e) => e.openDurationMs),
      [2_000, 3_000, 3_000, 3_000],
      "doubling, capped at maxOpenDurationMs",
    );
    assert.equal(opens[0]!.reason, "slow-call-rate", "the event says why");
  });

  it("announces its creation and changes on its channel, and each call only on the call channel", async () => {
    const seen: [string, ResilienceEvent][] = [];
    const onState = (m: unknown) => seen.push(["state", m as ResilienceEvent]);
    const onCall = (m: unknown) => seen.push(["call", m as ResilienceEvent]);
    subscribe("timebound:resilience:circuit-breaker", onState);
    try {
      const breaker = circuitBreaker({ name: "channels" });
      await breaker.execute(background(), () => 1);
      subscribe("timebound:resilience:circuit-breaker:call", onCall);
      try {
        await breaker.execute(background(), () => 2);
      } finally {
        unsubscribe("timebound:resilience:circuit-breaker:call", onCall);
      }
    } finally {
      unsubscribe("timebound:resilience:circuit-breaker", onState);
    }
    const mine = seen.filter(([, e]) => e.policy === "channels");
    assert.deepEqual(
      mine.map(([channel, e]) => [channel, e.event, e.state]),
      [
        ["state", "created", "closed"],
        ["call", "call", "closed"],
      ],
      "the first call, with only the state channel heard, published nothing",
    );
    assert.equal(mine[1]![1].outcome, "success");
  });

  it("isolate() refuses everything until reset()", async () => {
    const breaker = circuitBreaker();
    breaker.isolate();
    await assert.rejects(
      breaker.execute(background(), () => 1),
      (e: unknown) => {
        assert.ok(e instanceof BrokenCircuitError, "refused");
        assert.equal(e.state, "isolated");
        assert.match(e.message, /is isolated since .*: calls are refused until reset\(\)/);
        return true;
      },
    );
    breaker.reset();
    assert.equal(await breaker.execute(background(), () => 7), 7, "works again after reset()");
  });

  it("a time window forgets calls older than its size in seconds", async () => {
    let t = 0;
    const breaker = circuitBreaker({
      minimumCalls: 3,
      window: { type: "time", size: 2 },
      clock: () => t,
    });
    const fail = () => breaker.execute(background(), () => Promise.reject(new Upstream("x")));
    await assert.rejects(fail());
    await assert.rejects(fail());
    t += 2_500; // both fall out of the 2 s window
    await assert.rejects(fail());
    assert.equal(breaker.state, "closed", "only one call in the window: below minimumCalls");
    await assert.rejects(fail());
    await assert.rejects(fail());
    assert.equal(breaker.state, "open", "three failures within 2 s open it");
  });
});
