import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseDiagnoseArgs, runDiagnose } from "../../src/diagnostics/diagnose.js";
import { FAST_ENV } from "./run-fixture.js";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("runDiagnose (timebound diagnose -- node app.js)", () => {
  it("runs the program with the preload and prints its findings", async () => {
    const out = mkdtempSync(join(tmpdir(), "timebound-diagnose-"));
    let printed = "";
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      const result = await runDiagnose({
        command: ["node", "test/diagnostics/fixtures/never-canceled.ts", "leak"],
        out,
        env: FAST_ENV,
        stdout: { write: (text: string) => (printed += text) },
      });
      assert.equal(result.exitCode, 0, printed);
      assert.deepEqual(result.reportDirs, [out]);
      assert.ok(result.findings.some((f) => f.kind === "never-canceled"));
      assert.match(
        printed,
        /timebound diagnose: 1 finding\n {2}\[never-canceled\] 50 contexts "worker"/,
      );
      assert.match(printed, /dump\.txt {9}live contexts, operations and findings grouped by stack/);
      assert.ok(existsSync(join(out, "flamegraph.html")));
    } finally {
      process.chdir(cwd);
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("passes the program's exit code on, and says so when no report was written", async () => {
    const out = mkdtempSync(join(tmpdir(), "timebound-diagnose-"));
    let printed = "";
    try {
      const result = await runDiagnose({
        command: [process.execPath, "-e", "process.exitCode = 3"],
        out: join(out, "none"),
        env: { TIMEBOUND_DUMP_ON_EXIT: "0" },
        stdout: { write: (text: string) => (printed += text) },
      });
      assert.equal(result.exitCode, 3);
      assert.match(printed, /no report was written/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("parses its arguments, naming the mistake", () => {
    assert.deepEqual(parseDiagnoseArgs(["--out", "r", "--", "node", "app.js"]), {
      out: "r",
      command: ["node", "app.js"],
      help: false,
    });
    assert.deepEqual(parseDiagnoseArgs(["node", "--inspect", "app.js"]).command, [
      "node",
      "--inspect",
      "app.js",
    ]);
    assert.equal(parseDiagnoseArgs(["--help"]).help, true);
    assert.throws(() => parseDiagnoseArgs([]), /no command to run/);
    assert.throws(() => parseDiagnoseArgs(["--out"]), /--out needs a folder/);
    assert.throws(() => parseDiagnoseArgs(["--verbose", "--", "x"]), /unknown option "--verbose"/);
    assert.throws(() => parseDiagnoseArgs(["--"]), /nothing to run after --/);
  });

  it("rejects an empty command", async () => {
    await assert.rejects(
      runDiagnose({ command: [] }),
      /options\.command must name a program to run/,
    );
  });
});
