import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDiagnoseArgs } from "../../src/cli/diagnose-args.js";
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
