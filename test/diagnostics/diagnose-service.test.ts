// End to end: `timebound diagnose` with its default settings on a small service with the seed's
// bugs planted (fixtures/service.ts) reports every one at its line, and not the correct handler.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DiagnoseResult, runDiagnose } from "../../src/diagnostics/diagnose.js";
import type { Finding, FindingKind } from "../../src/diagnostics/model.js";
import type { TraceEvent } from "../../src/diagnostics/trace.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURE = "test/diagnostics/fixtures/service.ts";
const SOURCE = readFileSync(join(ROOT, FIXTURE), "utf8").split("\n");

/** 1-based lines of the fixture that carry `marker`. */
function linesWith(marker: string): number[] {
  return SOURCE.flatMap((text, i) => (text.includes(marker) ? [i + 1] : []));
}

function atLine(f: Finding, line: number): boolean {
  const top = f.stack[0];
  return top !== undefined && top.file.endsWith(FIXTURE) && top.line === line;
}

describe("timebound diagnose on a service with the seed's bugs (defaults only)", () => {
  let out: string;
  let printed = "";
  let result: DiagnoseResult;

  before(async () => {
    out = mkdtempSync(join(tmpdir(), "timebound-service-"));
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      result = await runDiagnose({
        command: ["node", FIXTURE],
        out,
        // Only what keeps the test from touching the terminal; no threshold is lowered.
        env: { TIMEBOUND_DUMP_SIGNAL: "off" },
        stdout: { write: (text: string) => (printed += text) },
      });
    } finally {
      process.chdir(cwd);
    }
  });

  after(() => rmSync(out, { recursive: true, force: true }));

  it("exits cleanly and writes one report", () => {
    assert.equal(result.exitCode, 0, printed);
    assert.deepEqual(result.reportDirs, [out]);
  });

  const planted: [FindingKind, string][] = [
    ["lost-cancel", "withCancel child of the server's context never canceled"],
    ["lost-cancel", "30 s withTimeout never canceled"],
    ["ignored-cancellation", "fetch in run(ctx) without the signal"],
    ["timer-loop", "setTimeout loop with no context"],
    ["timer-loop", "poller re-armed after an await by an arrow that returns nothing"],
  ];
  const markers = SOURCE.flatMap((text, i) => {
    const m = /BUG\(([a-z-]+)\)/.exec(text);
    return m === null ? [] : [{ kind: m[1] as FindingKind, line: i + 1 }];
  });

  it("has a marker for each planted bug", () => {
    assert.deepEqual(
      markers.map((m) => m.kind).sort(),
      planted.map(([kind]) => kind).sort(),
      "one BUG(...) marker per planted bug",
    );
  });

  for (const [kind, what] of planted) {
    it(`reports the ${what} as ${kind}, at its line`, () => {
      const lines = markers.filter((m) => m.kind === kind).map((m) => m.line);
      const found = lines.filter((line) =>
        result.findings.some((f) => f.kind === kind && atLine(f, line)),
      );
      assert.deepEqual(found, lines, `${kind} at lines ${lines.join(", ")}:\n${printed}`);
    });
  }

  it("says how each lost cancel ended, with counts", () => {
    const lost = result.findings.filter((f) => f.kind === "lost-cancel");
    const child = lost.find((f) => f.contextName === "per-request");
    const timeout = lost.find((f) => f.contextName === "lookup");
    assert.ok(child !== undefined && timeout !== undefined, printed);
    assert.equal(child.details?.count, 3);
    assert.equal(child.details?.endedByAncestor, 3);
    assert.match(child.message, /3 contexts "per-request" \(withCancel\).*never canceled/);
    assert.equal(timeout.details?.count, 3);
    assert.equal(timeout.details?.liveAtExit, 3);
  });

  it("says how long the fetch went on after its context ended", () => {
    const f = result.findings.find((x) => x.kind === "ignored-cancellation");
    assert.ok(f !== undefined, printed);
    assert.ok(Number(f.details?.overrunMs) >= 1_000, `overran ${f.details?.overrunMs} ms`);
    assert.match(f.message, /"fetch" operation .* after context "report" ended, then finished/);
  });

  it("reports nothing at the correct handler's lines, and no server context", () => {
    const correct = linesWith("// CORRECT");
    assert.equal(correct.length, 3, "the correct handler's markers");
    // A late deadline says the machine held the loop up, not that the handler is wrong.
    const blamed = result.findings.filter(
      (f) => f.kind !== "late-deadline" && correct.some((line) => atLine(f, line)),
    );
    assert.deepEqual(blamed, [], printed);
    assert.ok(
      !result.findings.some((f) => f.contextName === "server"),
      `the long-lived server context is not a finding:\n${printed}`,
    );
    assert.ok(
      !result.findings.some((f) => f.kind === "growth" || f.kind === "timer-growth"),
      `no growth verdict on a run of a few seconds:\n${printed}`,
    );
  });

  it("prints every planted bug in the summary", () => {
    for (const kind of ["lost-cancel", "ignored-cancellation", "timer-loop"]) {
      assert.match(printed, new RegExp(`\\[${kind}\\]`), printed);
    }
  });

  it("writes a well-formed timeline that names the planted bugs", () => {
    const trace = JSON.parse(readFileSync(join(out, "timeline.json"), "utf8")) as {
      traceEvents: TraceEvent[];
    };
    assert.ok(Array.isArray(trace.traceEvents), "traceEvents is an array");
    const open = new Map<string, number>();
    for (const e of trace.traceEvents) {
      assert.equal(typeof e.name, "string", "every event has a name");
      assert.ok(["b", "e", "i", "C", "M"].includes(e.ph), `phase ${e.ph}`);
      assert.ok(Number.isInteger(e.ts) && e.ts >= 0, `ts ${e.ts}`);
      assert.equal(typeof e.pid, "number", "every event has a pid");
      if (e.ph === "b") open.set(e.id!, e.ts);
      if (e.ph === "e") {
        const began = open.get(e.id!);
        assert.ok(began !== undefined && began <= e.ts, `span ${e.id} begins before it ends`);
        open.delete(e.id!);
      }
    }
    assert.equal(open.size, 0, "every span ends");
    const marks = trace.traceEvents.filter((e) => e.cat === "finding").map((e) => e.name);
    for (const m of markers) {
      assert.ok(
        marks.some(
          (name) => name.startsWith(`[${m.kind}]`) && name.includes(`${FIXTURE}:${m.line}:`),
        ),
        `a ${m.kind} mark at line ${m.line}: ${marks.join("; ")}`,
      );
    }
    const spans = trace.traceEvents.filter((e) => e.ph === "b" && e.cat === "context");
    assert.ok(
      spans.some((e) => e.name === "per-request" && e.args?.endedBy === "ancestor"),
      "the lost withCancel children are spans that ended with the server's context",
    );
  });
});
