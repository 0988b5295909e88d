// What `timebound/diagnostics` exports: the library, not the command line's parsing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as diagnostics from "../../src/diagnostics/index.js";
import { diagnoseSummary } from "../../src/diagnostics/diagnose-summary.js";
import { DUMP_SIGNALS } from "../../src/diagnostics/options.js";
import { REPORT_FORMAT, REPORT_VERSION, toJsonReport } from "../../src/diagnostics/report-json.js";
import { emptySnapshot } from "../../src/diagnostics/snapshot.js";

describe("timebound/diagnostics entry", () => {
  it("exports the constants a report reader and a dump trigger need", () => {
    assert.equal(diagnostics.REPORT_FORMAT, REPORT_FORMAT);
    assert.equal(diagnostics.REPORT_VERSION, REPORT_VERSION);
    const report = toJsonReport(emptySnapshot());
    assert.equal(
      report.format,
      diagnostics.REPORT_FORMAT,
      "the format written is the one exported",
    );
    assert.equal(report.version, diagnostics.REPORT_VERSION);
    assert.equal(diagnostics.DUMP_SIGNALS, DUMP_SIGNALS);
    assert.ok(diagnostics.DUMP_SIGNALS.includes("SIGUSR2"), "SIGUSR2 can ask for a dump");
  });

  it("exports no command-line parsing and no internal analysis", () => {
    const names = Object.keys(diagnostics);
    for (const gone of ["DIAGNOSE_USAGE", "parseDiagnoseArgs", "analyze"]) {
      assert.ok(!names.includes(gone), `${gone} is not exported`);
    }
    assert.ok(names.includes("runDiagnose"), "runDiagnose stays");
    assert.ok(names.includes("ProgramStartError"), "ProgramStartError stays");
  });

  it("keeps diagnoseSummary as a deprecated alias of what runDiagnose prints", () => {
    assert.equal(diagnostics.diagnoseSummary, diagnoseSummary);
    assert.match(diagnostics.diagnoseSummary([], []), /no report was written/);
  });
});
