// LatencyTracker: quantiles within DDSketch's relative accuracy, a window that slides, in-flight
// counts and the load factor as documented. A clock passed in makes time exact.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LatencyTracker } from "../../src/fanout/index.js";

function tracker(options: ConstructorParameters<typeof LatencyTracker>[0] = {}) {
  const clock = { t: 0 };
  const latency = new LatencyTracker({ clock: () => clock.t, ...options });
  return { clock, latency };
}

describe("LatencyTracker", () => {
  it("gives P50/P95/P99 within the sketch's relative accuracy", () => {
    const { latency } = tracker({ relativeAccuracy: 0.01 });
    for (let ms = 1; ms <= 1_000; ms++) latency.record("db", ms);
    const s = latency.stats("db");
    assert.equal(s.count, 1_000);
    for (const [q, exact] of [
      [s.p50Ms, 500],
      [s.p95Ms, 950],
      [s.p99Ms, 990],
    ] as const) {
      assert.ok(q !== undefined && Math.abs(q - exact) <= exact * 0.02, `${q} vs ${exact}`);
    }
  });

  it("has no history below minSamples: quantiles undefined, load factor 1", () => {
    const { latency } = tracker({ minSamples: 5 });
    for (let i = 0; i < 4; i++) latency.record("new", 10);
    const s = latency.stats("new");
    assert.equal(s.p95Ms, undefined);
    assert.equal(s.loadFactor, 1);
  });

  it("forgets samples older than the window", () => {
    const { clock, latency } = tracker({ windowMs: 6_000, slices: 6, minSamples: 1 });
    for (let i = 0; i < 50; i++) latency.record("api", 500);
    clock.t = 3_000;
    for (let i = 0; i < 50; i++) latency.record("api", 10);
    assert.equal(latency.stats("api").count, 100, "both halves in the window");
    clock.t = 6_500; // the first slice has slid out
    const s = latency.stats("api");
    assert.equal(s.count, 50);
    assert.ok(s.p99Ms !== undefined && s.p99Ms < 20, `p99 ${s.p99Ms}: the slow samples are gone`);
    clock.t = 100_000;
    assert.equal(latency.stats("api").count, 0, "an idle dependency forgets everything");
  });

  it("load factor: recent P95 over the window's, and in-flight over capacity", () => {
    const { clock, latency } = tracker({
      windowMs: 60_000,
      slices: 6,
      minSamples: 10,
      capacity: 4,
    });
    for (let i = 0; i < 1_000; i++) latency.record("api", 20);
    clock.t = 50_000; // the newest slice: the dependency got slower
    for (let i = 0; i < 20; i++) latency.record("api", 50);
    const slower = latency.stats("api");
    assert.ok(slower.recentP95Ms! > slower.p95Ms!, "recent is slower than the window");
    assert.ok(slower.loadFactor > 1, `load factor ${slower.loadFactor}`);
    assert.ok(
      Math.abs(slower.loadFactor - slower.recentP95Ms! / slower.p95Ms!) < 1e-9,
      "as defined",
    );

    const stops = Array.from({ length: 12 }, () => latency.start("busy"));
    const busy = latency.stats("busy");
    assert.equal(busy.inFlight, 12);
    assert.equal(busy.loadFactor, 3, "12 in flight over a capacity of 4");
    for (const stop of stops) stop(false);
    assert.equal(latency.stats("busy").inFlight, 0);
    assert.equal(latency.stats("busy").count, 0, "stop(false) records nothing");
  });

  it("caps the load factor at maxLoadFactor", () => {
    const { latency } = tracker({ capacity: 1, maxLoadFactor: 2 });
    for (let i = 0; i < 10; i++) latency.start("x");
    assert.equal(latency.stats("x").loadFactor, 2);
  });

  it("start() counts in flight and records the duration once", () => {
    const { clock, latency } = tracker({ minSamples: 1 });
    const stop = latency.start("svc");
    assert.equal(latency.stats("svc").inFlight, 1);
    clock.t = 42;
    stop();
    stop();
    const s = latency.stats("svc");
    assert.equal(s.inFlight, 0);
    assert.equal(s.count, 1);
    assert.ok(Math.abs(s.p50Ms! - 42) <= 1, `p50 ${s.p50Ms}`);
    assert.deepEqual(latency.dependencies(), ["svc"]);
  });

  it("refuses bad options and names", () => {
    assert.throws(
      () => new LatencyTracker({ windowMs: 0 }),
      /new LatencyTracker: options\.windowMs must be/,
    );
    assert.throws(() => new LatencyTracker({ slices: 1.5 }), /options\.slices must be an integer/);
    assert.throws(
      () => new LatencyTracker({ window: 5 } as never),
      /unknown option options\.window/,
    );
    assert.throws(
      () => new LatencyTracker().stats(""),
      /LatencyTracker\.stats: dependency must be a non-empty string/,
    );
    assert.throws(
      () => new LatencyTracker().record("db", Number.NaN),
      /LatencyTracker\.record: ms must be .* got NaN/,
    );
    assert.throws(
      () => new LatencyTracker().record("db", -1),
      /LatencyTracker\.record: ms must be .* got -1/,
    );
  });
});
