// timebound/process's error in the library's error model: a stable code (Node's own code kept
// beside it), its name set on the prototype, an identity that survives a second copy of the
// module, and isTimeboundError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as Errors from "../../../src/io/process/errors.js";
import { isCanceled, isDeadlineExceeded, isTimeboundError } from "../../../src/index.js";
import { OutputLimitError } from "../../../src/io/process/index.js";

/** The same module loaded a second time, as the ESM and CJS builds are two copies of it. */
async function secondCopy(): Promise<typeof Errors> {
  const url = new URL("../../../src/io/process/errors.ts?copy=2", import.meta.url).href;
  return (await import(url)) as typeof Errors;
}

describe("timebound/process errors", () => {
  it("OutputLimitError: code, Node's code, name, message, isTimeboundError", () => {
    const err = new OutputLimitError("stderr", 10, "", "0123456789");
    assert.equal(err.code, "TIMEBOUND_ERR_OUTPUT_LIMIT");
    assert.equal(err.nodeCode, "ERR_CHILD_PROCESS_STDIO_MAXBUFFER", "Node's code for the case");
    assert.equal(err.name, "OutputLimitError");
    assert.equal(
      err.message,
      "stderr went past maxBuffer (10 bytes): the process group was stopped",
    );
    assert.ok(err.stack?.startsWith("OutputLimitError: stderr went past"), "stack header");
    assert.ok(
      err instanceof OutputLimitError && err instanceof RangeError,
      "a RangeError, as Node's",
    );
    assert.equal(isTimeboundError(err), true);
    assert.equal(isCanceled(err) || isDeadlineExceeded(err), false, "not a context's error");
    const lookalike = Object.assign(new RangeError("x"), { code: "TIMEBOUND_ERR_OUTPUT_LIMIT" });
    assert.equal(lookalike instanceof OutputLimitError, false, "a lookalike is not ours");
  });

  it("OutputLimitError: instanceof holds across two copies of the module", async () => {
    const copy = await secondCopy();
    assert.notEqual(copy.OutputLimitError, OutputLimitError, "two classes");
    const other = new copy.OutputLimitError("stdout", 1, "y", "");
    assert.ok(other instanceof OutputLimitError, "the other copy's error is recognised");
    assert.ok(new OutputLimitError("stdout", 1, "y", "") instanceof copy.OutputLimitError);
  });
});
