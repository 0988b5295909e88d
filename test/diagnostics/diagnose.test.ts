import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runDiagnose } from "../../src/diagnostics/diagnose.js";
import { ProgramStartError } from "../../src/diagnostics/program-start-error.js";
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
      assert.ok(result.findings.some((f) => f.kind === "lost-cancel"));
      assert.match(
        printed,
        /timebound diagnose: 1 finding\n {2}\[lost-cancel\] 50 contexts "worker"/,
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

  it("rejects an empty command", async () => {
    await assert.rejects(
      runDiagnose({ command: [] }),
      /options\.command must name a program to run/,
    );
  });

  it("rejects bad options, an unknown one included, without starting anything", async () => {
    await assert.rejects(runDiagnose({ command: ["node"], outDir: "r" } as never), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message: /runDiagnose: unknown option options\.outDir \(known: command, out, env, stdout\)/,
    });
    await assert.rejects(runDiagnose({ command: ["node"], out: 5 } as never), {
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message: /runDiagnose: options\.out must be a non-empty string, got 5/,
    });
    await assert.rejects(runDiagnose({ command: ["node"], stdout: {} } as never), {
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message: /runDiagnose: options\.stdout\.write must be a function/,
    });
  });

  it("says which program could not be started, with a code to match on", async () => {
    const out = mkdtempSync(join(tmpdir(), "timebound-diagnose-"));
    try {
      await assert.rejects(
        runDiagnose({ command: ["timebound-no-such-program"], out, stdout: { write: () => {} } }),
        (err: unknown) => {
          assert.ok(err instanceof ProgramStartError, "a ProgramStartError");
          assert.equal(err.name, "ProgramStartError");
          assert.equal(err.code, "TIMEBOUND_ERR_PROGRAM_START");
          assert.equal(err.program, "timebound-no-such-program");
          assert.match(err.message, /could not start "timebound-no-such-program": no such file/);
          assert.match(String(err.stack), /^ProgramStartError: could not start/);
          return true;
        },
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
