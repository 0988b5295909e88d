import { test } from "node:test";
import assert from "node:assert/strict";
import { silentProgress } from "../../src/lab/scenario.js";
import {
  runThreeTier,
  threeTierFindings,
  threeTierPlan,
  threeTierRows,
} from "../../src/lab/three-tier.js";

test("three-tier: a quick or short run says so before any verdict", () => {
  const quick = threeTierFindings([], threeTierPlan(0.15, 100, true));
  assert.match(quick[0] ?? "", /^Quick run \(the whole lab's\): 2,400 ms per variant;/);
  assert.match(quick[0] ?? "", /`timebound lab --only three-tier` runs 4,000 ms per variant/);
  // The seed's three attempts take 2,700 ms: an outage of 1,600 ms (at 4 s) is shorter.
  const short = threeTierFindings([], threeTierPlan(0.25));
  assert.match(short[0] ?? "", /^Short run: the outage lasted 1,600 ms, .* \(2,700 ms\)/);
  assert.match(short[0] ?? "", /--scale 0\.5 or more/);
  assert.deepEqual(threeTierFindings([], threeTierPlan(0.5)), [], "outage of 3,200 ms");
});

// One small run (scale 0.15: 2.4 s per variant, at 100 requests/s) shared by the
// checks below; margins are wide, since the machine is shared and noisy.
test("three-tier: the verdicts a reader gets from a small run", async () => {
  const plan = threeTierPlan(0.15, 100);
  const runs = await runThreeTier(plan, silentProgress);
  if (typeof runs === "string") {
    assert.fail(`three-tier was skipped: ${runs}`);
  }
  const by = new Map(runs.map((r) => [r.variant.key, r]));
  const none = by.get("none")!;
  const seed = by.get("seed")!;
  const best = by.get("timebound")!;
  assert.equal(runs.length, 4, "four variants ran");

  // The outage (hanging) is what unprotected callers pay for: errors and a long tail.
  assert.ok(
    none.figures.errorRate > 0.05,
    `no protection should fail more than 5% over an outage, got ${none.figures.errorRate}`,
  );
  for (const r of [seed, best]) {
    assert.ok(
      r.figures.errorRate < none.figures.errorRate,
      `${r.variant.label}: error rate ${r.figures.errorRate} should be below no protection's ${none.figures.errorRate}`,
    );
  }
  assert.ok(
    best.figures.p99Ms < none.figures.p99Ms,
    `timebound's best P99 ${best.figures.p99Ms} should be below no protection's ${none.figures.p99Ms}`,
  );

  // Only variants with a fallback answer from one; timebound's, whose budget ends before the
  // clients give up, did in the outage. (The seed's may not: its retries outlast the clients.)
  for (const r of runs) {
    if (!r.variant.hasFallback) {
      assert.equal(r.figures.fallbackShare, 0, `${r.variant.label} has no fallback`);
    }
  }
  assert.ok(
    best.figures.fallbackShare > 0,
    `timebound's best answered nothing from its fallback during the outage`,
  );

  // The upstream's load is counted from its own stats.
  for (const r of runs) {
    assert.ok(r.upstreamReceived > 0, `${r.variant.label}: the upstream counted no requests`);
    assert.ok(r.upstreamPeakInFlight > 0, `${r.variant.label}: no peak in flight counted`);
  }
  // Unprotected calls hang with the outage: they pile up at the upstream.
  assert.ok(
    none.upstreamPeakInFlight > best.upstreamPeakInFlight,
    `peak in flight: no protection ${none.upstreamPeakInFlight} vs timebound ${best.upstreamPeakInFlight}`,
  );

  // The table: the seed's figures first, then one group per protected variant; "(worse)" only
  // where the numbers say so.
  const rows = threeTierRows(runs);
  assert.deepEqual(
    rows.slice(0, 3).map((r) => r.right.text),
    ["23 ms", "47 ms", "0.020%"],
    "the seed's reported figures come first",
  );
  const fb = rows.find((r) => r.key === "timeout.fallback");
  assert.ok(fb !== undefined && !fb.right.text.includes("worse"), "no fallback, no verdict on it");
  const errors = rows.find((r) => r.key === "timebound.errors");
  assert.ok(errors?.wrong.text.endsWith("(worse)"), `no protection's error rate is marked worse`);
  const findings = threeTierFindings(runs, plan);
  assert.ok(
    findings.some((f) => f.startsWith("Timebound's best vs the seed's three tiers")),
    `a finding compares timebound's best with the seed's configuration: ${findings.join(" | ")}`,
  );
});
