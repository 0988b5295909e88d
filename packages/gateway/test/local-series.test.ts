// The gateway's per-request series render exactly as prom-client renders its own Counter and
// Histogram for the same observations: same lines, same order, same values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { LocalCounter, LocalHistogram } from "../src/observe/local-series.js";

// No bucket at -1: prom-client 15 counts a value above its last bound in a `-1` bucket when
// there is one (its "no bucket" marker is -1); see the last test.
const BUCKETS = [-2, -0.005, 0, 0.001, 0.01, 0.25, 1, 30];
const route = fc.constantFrom("/pay", "/items/:id", 'odd "route"\\', "");
const value = fc.oneof(
  fc.double({ min: -5, max: 60, noNaN: true }),
  fc.constantFrom(...BUCKETS), // on a bound: counted in that bucket (le is "less or equal")
);

describe("local series", () => {
  it("a histogram renders as prom-client's Histogram", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(route, value), { maxLength: 60 }), async (seen) => {
        const ours = new Registry();
        const theirs = new Registry();
        const local = new LocalHistogram("t_seconds", "help", "route", BUCKETS).register(ours);
        const reference = new Histogram({
          name: "t_seconds",
          help: "help",
          labelNames: ["route"],
          buckets: BUCKETS,
          registers: [theirs],
        });
        for (const [r, v] of seen) {
          local.observe(r, v);
          reference.observe({ route: r }, v);
        }
        assert.equal(await ours.metrics(), await theirs.metrics());
      }),
      { numRuns: 200 },
    );
  });

  it("a counter renders as prom-client's Counter", async () => {
    const status = fc.constantFrom("200", "503", "504");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(route, status), { maxLength: 60 }), async (seen) => {
        const ours = new Registry();
        const theirs = new Registry();
        const local = new LocalCounter("n_total", "help", ["route", "status"]).register(ours);
        const reference = new Counter({
          name: "n_total",
          help: "help",
          labelNames: ["route", "status"],
          registers: [theirs],
        });
        for (const [r, s] of seen) {
          local.inc([r, s]);
          reference.inc({ route: r, status: s });
        }
        assert.equal(await ours.metrics(), await theirs.metrics());
      }),
      { numRuns: 200 },
    );
  });

  it("a value above the last bound is counted only in +Inf, also with a bucket at -1", async () => {
    const registry = new Registry();
    const local = new LocalHistogram("late_seconds", "h", "route", [-1, 0, 30]).register(registry);
    local.observe("/pay", 45);
    const text = await registry.metrics();
    assert.match(text, /late_seconds_bucket\{le="-1",route="\/pay"\} 0/);
    assert.match(text, /late_seconds_bucket\{le="30",route="\/pay"\} 0/);
    assert.match(text, /late_seconds_bucket\{le="\+Inf",route="\/pay"\} 1/);
  });

  it("a histogram's buckets must rise, and the error names the series", () => {
    assert.throws(
      () => new LocalHistogram("bad_seconds", "help", "route", [0.1, 0.1]),
      /bad_seconds: buckets must rise, got 0\.1, 0\.1/,
    );
  });

  it("reset forgets every count, as prom-client's resetMetrics does", async () => {
    const registry = new Registry();
    const local = new LocalCounter("r_total", "help", ["route"]).register(registry);
    local.inc(["/a"]);
    assert.match(await registry.metrics(), /r_total\{route="\/a"\} 1/);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /r_total\{/);
    local.inc(["/a"]);
    assert.match(await registry.metrics(), /r_total\{route="\/a"\} 1/, "counting starts again");
  });
});
