import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderReport } from "../../src/lab/render.js";
import type { LabReport } from "../../src/lab/run.js";

const report: LabReport = {
  node: "v20.0.0",
  platform: "linux-x64",
  options: { requests: 10, scale: 0.5 },
  gc: true,
  durationMs: 1234,
  scenarios: [
    {
      id: "demo",
      title: "a demo",
      goArticle: "section 9.9 reports something",
      wrong: "bad way",
      right: "good way",
      setup: "ten requests",
      durationMs: 12,
      findings: ["It shows."],
      rows: [
        {
          key: "x.n",
          group: "(x) first case",
          measure: "count",
          unit: "count",
          wrong: { value: 10, text: "10" },
          right: { value: 0, text: "0" },
        },
        {
          key: "y.n",
          group: "(y) second case",
          measure: "count",
          unit: "count",
          wrong: { value: 9, text: "9" },
          right: { value: 1, text: "1" },
        },
      ],
    },
  ],
};

describe("renderReport", () => {
  it("prints a titled table per scenario, with case headings, findings and the total time", () => {
    const out = renderReport(report);
    assert.match(out, /node v20\.0\.0, linux-x64; requests 10, scale x0\.5\)/);
    assert.match(out, /\[1\/1\] demo: a demo {2}\(12 ms\)/);
    assert.match(out, /the Go article: section 9\.9 reports something/);
    assert.match(out, /a Chinese article on why Go's\s+context\.WithTimeout fails in practice/);
    assert.doesNotMatch(out, /\bseed\b/, "no reader knows what 'the seed' is");
    assert.match(out, /measure {2}wrong: bad way {2}right: good way/);
    assert.ok(
      out.includes(
        ["  (x) first case", "  count    10              0", "", "  (y) second case"].join("\n"),
      ),
      out,
    );
    assert.match(out, / {2}\* It shows\./);
    assert.match(out, /done in 1,234 ms\n$/);
  });

  it("says when the report is the whole lab's quick run", () => {
    const quick = renderReport({ ...report, options: { ...report.options, quick: true } });
    assert.match(quick, /scale x0\.5, the quick run: the longest scenarios shortened\)/);
    assert.doesNotMatch(renderReport(report), /quick run/);
  });

  it("says when heap figures were taken without a forced GC", () => {
    assert.match(renderReport({ ...report, gc: false }), /no GC available/);
  });
});
