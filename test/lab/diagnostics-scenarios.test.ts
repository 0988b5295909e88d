import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import { parseLabArgs } from "../../src/cli/lab.js";
import { parseJsonReport } from "../../src/diagnostics/report-json.js";
import { fetchSignal } from "../../src/lab/fetch-signal.js";
import { leakRate } from "../../src/lab/leak-rate.js";
import { labOptions } from "../../src/lab/options.js";
import {
  type ResultRow,
  type Scenario,
  type ScenarioResult,
  silentProgress,
} from "../../src/lab/scenario.js";
import { timerRecursion } from "../../src/lab/timer-recursion.js";

function row(result: ScenarioResult, key: string): ResultRow {
  const found = result.rows.find((r) => r.key === key);
  assert.ok(found, `row "${key}" in ${result.rows.map((r) => r.key).join(", ")}`);
  return found;
}

function num(m: { value: number | string | null }): number {
  assert.equal(typeof m.value, "number");
  return m.value as number;
}

/** Runs a scenario into a fresh folder; returns its result and that folder. */
async function runScenario(scenario: Scenario): Promise<{ result: ScenarioResult; out: string }> {
  const out = mkdtempSync(join(tmpdir(), `timebound-lab-${scenario.id}-`));
  const result = await scenario.run(labOptions({ scale: 0.25, out }), silentProgress);
  return { result, out };
}

/** The finding kinds in a variant's report.json, and checks that its dump files are there. */
function reportKinds(out: string, id: string, variant: string): string[] {
  const dir = join(out, id, variant);
  for (const file of ["dump.txt", "report.json", "profile.pb.gz", "flamegraph.html"]) {
    assert.ok(existsSync(join(dir, file)), `${file} in ${dir}`);
  }
  const profile = Profile.decode(gunzipSync(readFileSync(join(dir, "profile.pb.gz"))));
  assert.ok(profile.sampleType.length > 0, "the pprof profile decodes");
  return parseJsonReport(readFileSync(join(dir, "report.json"), "utf8")).findings.map(
    (f) => f.kind,
  );
}

/** The findings of a variant's report, each as "kind: message", for assertion messages. */
function reportFindings(out: string, id: string, variant: string): string {
  const report = parseJsonReport(readFileSync(join(out, id, variant, "report.json"), "utf8"));
  return report.findings.map((f) => `${f.kind}: ${f.message}`).join("\n");
}

function assertPrintsDumpPaths(result: ScenarioResult, out: string, id: string): void {
  for (const variant of ["wrong", "right"]) {
    assert.ok(
      result.findings.some((f) => f.includes(join(id, variant, "flamegraph.html"))),
      `the findings name the ${variant} flame graph: ${result.findings.join(" | ")}`,
    );
  }
  assert.ok(existsSync(join(out, id)));
}

describe("lab: diagnostics scenarios", () => {
  it("timer-recursion: armed timers pile up and the tracker says where", async () => {
    const { result, out } = await runScenario(timerRecursion);
    try {
      const timers = row(result, "timers");
      assert.ok(num(timers.wrong) >= 50, `wrong leaves timers armed: ${timers.wrong.text}`);
      assert.ok(num(timers.right) <= 5, `right leaves almost none: ${timers.right.text}`);
      const wrong = reportKinds(out, "timer-recursion", "wrong");
      const right = reportKinds(out, "timer-recursion", "right");
      // A timer re-armed from its own callback is named as a loop (timer-loop); the armed count
      // may also cross the growth threshold (timer-growth) on a long enough run.
      assert.ok(wrong.includes("timer-loop") || wrong.includes("timer-growth"), wrong.join(", "));
      assert.deepEqual(right, [], reportFindings(out, "timer-recursion", "right"));
      assert.match(
        readFileSync(join(out, "timer-recursion", "wrong", "dump.txt"), "utf8"),
        /startCleanup/,
      );
      assertPrintsDumpPaths(result, out, "timer-recursion");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("leak-rate: live contexts grow at the request rate without cancel, and not with it", async () => {
    const { result, out } = await runScenario(leakRate);
    try {
      const requests = num(row(result, "requests").wrong);
      const live = row(result, "live");
      assert.ok(num(live.wrong) >= requests * 0.9, `wrong: ${live.wrong.text} of ${requests}`);
      assert.equal(num(live.right), 0);
      assert.match(row(result, "verdict").wrong.text, /^leak/);
      assert.match(row(result, "verdict").right.text, /^no-leak/);
      const wrong = reportKinds(out, "leak-rate", "wrong");
      const right = reportKinds(out, "leak-rate", "right");
      assert.ok(wrong.includes("never-canceled"), wrong.join(", "));
      assert.deepEqual(right, [], reportFindings(out, "leak-rate", "right"));
      assert.match(
        readFileSync(join(out, "leak-rate", "wrong", "dump.txt"), "utf8"),
        /leakyHandler/,
      );
      assertPrintsDumpPaths(result, out, "leak-rate");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("fetch-signal: the fetch without the signal outlives its context, fetch(ctx) does not", async () => {
    const { result, out } = await runScenario(fetchSignal);
    try {
      if (result.rows[0]?.key === "skipped") {
        assert.match(result.setup, /skipped/);
        return;
      }
      assert.equal(num(row(result, "running").wrong), 1);
      assert.equal(num(row(result, "running").right), 0);
      const bytes = row(result, "bytes");
      assert.ok(num(bytes.wrong) > 0, `upstream kept sending: ${bytes.wrong.text}`);
      assert.equal(num(bytes.right), 0);
      assert.ok(num(row(result, "caller").right) < num(row(result, "caller").wrong));
      const wrong = reportKinds(out, "fetch-signal", "wrong");
      const right = reportKinds(out, "fetch-signal", "right");
      assert.ok(wrong.includes("ignored-cancellation"), wrong.join(", "));
      assert.ok(!right.includes("ignored-cancellation"), right.join(", "));
      assertPrintsDumpPaths(result, out, "fetch-signal");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("timebound lab --out sets the dump folder; labOptions refuses an empty one", () => {
    assert.equal(parseLabArgs(["--out", "somewhere"]).options.out, "somewhere");
    assert.equal(parseLabArgs(["--out=elsewhere"]).options.out, "elsewhere");
    assert.equal(parseLabArgs([]).options.out, undefined);
    assert.throws(() => parseLabArgs(["--out"]), /--out needs a value/);
    assert.throws(() => labOptions({ out: "" }), /out must be a folder path/);
  });
});
