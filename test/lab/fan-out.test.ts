import { coreStats } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type FanOutPlan,
  type VariantResult,
  fanOut,
  fanOutFindings,
  fanOutPlan,
  measures,
  compare,
} from "../../src/lab/fan-out.js";
import type { FrontCounts, Strategy } from "../../src/lab/fan-out-front.js";
import { compareCosts, compareShares } from "../../src/lab/fan-out-verdict.js";
import { labOptions } from "../../src/lab/options.js";
import { renderReport } from "../../src/lab/render.js";
import { type ScenarioResult, silentProgress } from "../../src/lab/scenario.js";

const PLAN: FanOutPlan = { rate: 20, seconds: 4 };

/** A variant that answered `requests` at the planned rate, with the given counts. */
function variant(
  strategy: Strategy,
  counts: Partial<FrontCounts>,
  rate = PLAN.rate,
): VariantResult {
  return {
    strategy,
    front: {
      requests: 100,
      succeeded: 100,
      optionalPresent: 200,
      calls: 500,
      cutOff: 0,
      cutOffMs: 0,
      ...counts,
    },
    load: { requests: 100, rate, p99Ms: 300, errors: 0 },
  };
}

function rowText(result: ScenarioResult, key: string, side: "wrong" | "right"): string {
  const row = result.rows.find((r) => r.key === key);
  assert.ok(row, `row ${key}`);
  return row[side].text;
}

describe("lab: fan-out verdicts", () => {
  it("calls a difference within noise the same, and a clear one better or worse", () => {
    assert.equal(compareShares({ k: 97, n: 100 }, { k: 95, n: 100 }), "same");
    assert.equal(compareShares({ k: 60, n: 100 }, { k: 95, n: 100 }), "worse");
    assert.equal(compareShares({ k: 990, n: 1000 }, { k: 900, n: 1000 }), "better");
    assert.equal(compareCosts(105, 100, 0.15, 10), "same");
    assert.equal(compareCosts(300, 100, 0.15, 10), "worse");
    assert.equal(compareCosts(20, 100, 0.15, 10), "better");
  });

  it("says WORSE where dynamic budgets lose, from the numbers (never hard-coded)", () => {
    const results = [
      variant("static", { succeeded: 60, optionalPresent: 120, cutOff: 100, cutOffMs: 20_000 }),
      variant("whole", { succeeded: 99, optionalPresent: 198, cutOff: 10, cutOffMs: 5_000 }),
      variant("dynamic", { succeeded: 80, optionalPresent: 160, cutOff: 50, cutOffMs: 10_000 }),
    ];
    const c = compare(measures(results[2]!), measures(results[1]!));
    assert.equal(c.success, "worse", "80% vs 99% of 100 requests");
    assert.equal(c.cutOff, "worse", "100 ms vs 50 ms per request");
    const findings = fanOutFindings(results, PLAN);
    assert.match(findings[0] ?? "", /static per-call timeouts, dynamic budgets were better on/);
    assert.match(findings[1] ?? "", /whole deadline .* WORSE on success rate, .*time held/);
  });

  it("gives no verdict when the machine did not sustain the rate", () => {
    const results = [
      variant("static", {}),
      variant("whole", {}, PLAN.rate / 2),
      variant("dynamic", { succeeded: 10 }),
    ];
    const findings = fanOutFindings(results, PLAN);
    assert.equal(findings.length, 1, findings.join("\n"));
    assert.match(findings[0]!, /^No verdict: .* \(2\) the whole deadline for every call \(10\/s\)/);
  });

  it("says a quick run is one, and how to get the full run, before any verdict", () => {
    const results = [variant("static", {}), variant("whole", {}), variant("dynamic", {})];
    const findings = fanOutFindings(results, { ...PLAN, seconds: 2, quick: true });
    assert.match(findings[0] ?? "", /^Quick run \(the whole lab's\): 2 s per variant/);
    assert.match(findings[0] ?? "", /`timebound lab --only fan-out` runs 4,000 ms per variant/);
    assert.match(findings[1] ?? "", /^Against \(1\) static per-call timeouts/);
    assert.ok(!fanOutFindings(results, PLAN).some((f) => f.startsWith("Quick run")), "full run");
  });

  it("sizes the quick run to 2 s per variant, and the full run behind --scale or --only", () => {
    assert.deepEqual(fanOutPlan(labOptions()), { rate: 20, seconds: 2, quick: true });
    assert.deepEqual(fanOutPlan(labOptions({ quick: false })), { rate: 20, seconds: 4 });
    assert.equal(fanOutPlan(labOptions({ scale: 1 })).seconds, 16);
    assert.equal(fanOutPlan(labOptions({ scale: 0.05 })).seconds, 1, "never below a second");
  });
});

describe("lab: fan-out run", () => {
  it("a tiny run: three variants measured, a verdict per measure, nothing left behind", async () => {
    const timersBefore = coreStats().armedTimers;
    const result = await fanOut.run(labOptions({ scale: 0.05 }), silentProgress);
    if (result.setup.startsWith("skipped")) {
      assert.fail(`skipped here: ${result.setup}`); // autocannon is a dev dependency: present
    }
    for (const other of ["static", "whole"]) {
      for (const measure of ["success", "optional", "p99", "cutOff"]) {
        assert.match(
          rowText(result, `${other}.${measure}`, "right"),
          /: (better|worse|same within noise|no verdict)$/,
          `${other}.${measure}`,
        );
      }
      assert.match(rowText(result, `${other}.success`, "wrong"), /^\d+\.\d% \(\d+ \/ \d+\)$/);
    }
    // The run happened. Not every variant must answer in a 1 s run: on this shared machine, at
    // a load average of 25, one autocannon may start too late for any of its requests to end.
    const answered = (key: string, side: "wrong" | "right"): number =>
      result.rows.find((r) => r.key === key)?.[side].value as number;
    const total =
      answered("static.rate", "wrong") +
      answered("whole.rate", "wrong") +
      answered("static.rate", "right");
    assert.ok(total > 0, "the front service answered requests");
    // What holds by construction, with a wide margin, where both answered enough to tell: every
    // call of (2) had at least the time (1) gave it, so (2) did not fail clearly more requests.
    const success = (key: string): number =>
      result.rows.find((r) => r.key === key)?.wrong.value as number;
    if (answered("static.rate", "wrong") >= 10 && answered("whole.rate", "wrong") >= 10) {
      assert.ok(
        success("whole.success") >= success("static.success") - 0.3,
        `whole ${success("whole.success")} vs static ${success("static.success")}`,
      );
    }
    // Findings are verdict sentences or the one "no verdict" sentence, never both.
    const verdicts = result.findings.filter((f) => f.startsWith("Against "));
    const none = result.findings.filter((f) => f.startsWith("No verdict"));
    assert.ok(
      (verdicts.length === 2 && none.length === 0) || (verdicts.length === 0 && none.length === 1),
      result.findings.join("\n"),
    );
    // The lab's renderer shows it like any scenario.
    const text = renderReport({
      node: process.version,
      platform: "test",
      options: labOptions({ scale: 0.05 }),
      gc: false,
      durationMs: 0,
      scenarios: [
        {
          id: fanOut.id,
          title: fanOut.title,
          goArticle: fanOut.goArticle,
          wrong: fanOut.wrong,
          right: fanOut.right,
          durationMs: 0,
          ...result,
        },
      ],
    });
    assert.match(text, /\(2\) the whole deadline for every call vs \(3\) dynamic budgets/);
    assert.equal(coreStats().armedTimers, timersBefore, "no deadline timer left armed");
  });
});
