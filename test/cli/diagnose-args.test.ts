import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDiagnoseArgs } from "../../src/cli/diagnose-args.js";
import { main } from "../../src/cli/main.js";
import { UsageError } from "../../src/cli/usage-error.js";

describe("timebound diagnose arguments", () => {
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

  it("refuses with a UsageError of the diagnose command, with its code", () => {
    assert.throws(
      () => parseDiagnoseArgs(["--out"]),
      (err: unknown) => {
        assert.ok(err instanceof UsageError, "a UsageError");
        assert.equal(err.name, "UsageError");
        assert.equal(err.code, "TIMEBOUND_ERR_USAGE");
        assert.equal(err.command, "diagnose");
        assert.match(String(err.stack), /^UsageError: --out needs a folder/);
        return true;
      },
    );
  });
});

describe("timebound diagnose arguments, through parseArgs", () => {
  it("refuses an unknown option, listing the known ones", () => {
    assert.throws(
      () => parseDiagnoseArgs(["--outt", "r", "--", "node", "app.js"]),
      (err: unknown) => {
        assert.ok(err instanceof UsageError, "a UsageError");
        assert.equal(err.command, "diagnose");
        assert.match(err.message, /^unknown option "--outt"; options: --out, /);
        assert.match(err.message, /--late-deadline-ms/, "lists the thresholds");
        return true;
      },
    );
    assert.throws(() => parseDiagnoseArgs(["-x", "--", "node"]), /unknown option "-x"/);
  });

  it("says what a value option needs when its value is missing", () => {
    assert.throws(
      () => parseDiagnoseArgs(["--out", "--", "node"]),
      /^UsageError: --out needs a folder$/m,
    );
    assert.throws(() => parseDiagnoseArgs(["--out="]), /--out needs a folder/);
    assert.throws(
      () => parseDiagnoseArgs(["--late-deadline-ms"]),
      /--late-deadline-ms needs a number of milliseconds/,
    );
    assert.throws(
      () => parseDiagnoseArgs(["--long-lived", "--", "node"]),
      /--long-lived needs context names/,
    );
  });

  it("refuses a bad number, showing what was given and the range", () => {
    assert.throws(
      () => parseDiagnoseArgs(["--late-deadline-ms", "fast", "--", "node", "app.js"]),
      /--late-deadline-ms must be a number of milliseconds from 0 to 1,000,000,000, got "fast"/,
    );
    assert.throws(
      () => parseDiagnoseArgs(["--sample-interval-ms=5", "--", "node"]),
      /--sample-interval-ms must be a number of milliseconds from 10 to .*, got "5"/,
    );
    assert.throws(
      () => parseDiagnoseArgs(["--growth-min-run-ms", "-1", "--", "node"]),
      /--growth-min-run-ms needs a number of milliseconds/,
    );
    assert.throws(
      () => parseDiagnoseArgs(["--ignored-cancellation-ms", "1e3", "--", "node"]),
      /got "1e3"/,
    );
  });

  it("passes thresholds to the program as its TIMEBOUND_* variables", () => {
    const parsed = parseDiagnoseArgs([
      "--late-deadline-ms=20",
      "--growth-min-run-ms",
      "0",
      "--long-lived",
      "server,worker-*",
      "--out",
      "r",
      "node",
      "--inspect",
      "app.js",
    ]);
    assert.deepEqual(parsed.env, {
      TIMEBOUND_LATE_DEADLINE_MS: "20",
      TIMEBOUND_GROWTH_MIN_RUN_MS: "0",
      TIMEBOUND_LONG_LIVED: "server,worker-*",
    });
    assert.equal(parsed.out, "r");
    assert.deepEqual(parsed.command, ["node", "--inspect", "app.js"]);
    assert.equal(parseDiagnoseArgs(["-h"]).help, true);
    assert.equal(parseDiagnoseArgs(["--", "node"]).env, undefined, "no env without thresholds");
  });

  it("main() prints the usage error and exits 2", async () => {
    let stderr = "";
    const io = {
      stdout: { write: () => true },
      stderr: { write: (t: string) => ((stderr += t), true) },
      version: "0.0.0",
    } as unknown as Parameters<typeof main>[1];
    const code = await main(["diagnose", "--late-deadline-ms", "soon", "--", "node"], io);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /^timebound diagnose: --late-deadline-ms must be a number of milliseconds/,
    );
    assert.match(stderr, /Run "timebound diagnose --help" for usage/);
  });
});
