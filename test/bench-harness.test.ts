// Smoke test for the bench harness, so `npm test` covers it; the suites themselves are too slow.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compare, envNumber, formatRow, median, row, verdict } from "../bench/harness.js";

test("compare times a task and its anchor in the same run and gives a finite ratio", async () => {
  let sink = 0;
  const result = await compare(
    "sum",
    {
      name: "short loop",
      fn: () => {
        for (let i = 0; i < 1000; i++) sink += i;
      },
    },
    {
      name: "long loop",
      fn: () => {
        for (let i = 0; i < 3000; i++) sink += i;
      },
    },
    { batch: 1000, time: 10, warmupTime: 2, rounds: 1, goal: 1 },
  );
  assert.ok(sink > 0);
  assert.ok(result.opsPerSec > 0, `ops/s ${result.opsPerSec}`);
  assert.ok(result.anchorOpsPerSec > 0, `anchor ops/s ${result.anchorOpsPerSec}`);
  assert.ok(Number.isFinite(result.ratio) && result.ratio > 0, `ratio ${result.ratio}`);
  assert.equal(result.rounds.length, 1);
  assert.equal(result.pass, result.ratio >= 1);
  assert.match(formatRow(result), /^sum\s+[\d,.]+\s+[\d,.]+\s+[\d.]+x\s+(PASS|MISS)/);
});

test("verdicts say by how much a goal was missed", () => {
  assert.equal(verdict(row("a", "b", 30, 10, 2)), "PASS (goal >= 2x)");
  assert.equal(verdict(row("a", "b", 15, 10, 2)), "MISS (goal >= 2x, reached 1.50x: 25% short)");
  assert.equal(verdict(row("a", "b", 15, 10)), "-");
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

test("envNumber reads a bench setting, and refuses one that is not a number in range by name", () => {
  const name = "TIMEBOUND_BENCH_TEST_SETTING";
  try {
    delete process.env[name];
    assert.equal(envNumber(name, 5), 5);
    process.env[name] = "";
    assert.equal(envNumber(name, 5), 5);
    process.env[name] = "12";
    assert.equal(envNumber(name, 5), 12);
    process.env[name] = "0";
    assert.equal(envNumber(name, 5, 0), 0);
    assert.throws(() => envNumber(name, 5), {
      name: "RangeError",
      message: 'TIMEBOUND_BENCH_TEST_SETTING must be a number of at least 1, got "0"',
    });
    process.env[name] = "ten";
    assert.throws(() => envNumber(name, 5), /TIMEBOUND_BENCH_TEST_SETTING .* got "ten"/);
  } finally {
    delete process.env[name];
  }
});
