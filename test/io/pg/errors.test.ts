// timebound/pg's error in the library's error model: a stable code, its name set on the
// prototype, an identity that survives a second copy of the module, isTimeboundError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as Errors from "../../../src/io/pg/errors.js";
import { isCanceled, isDeadlineExceeded, isTimeboundError } from "../../../src/index.js";
import { TransactionRolledBackError } from "../../../src/io/pg/index.js";

/** The same module loaded a second time, as the ESM and CJS builds are two copies of it. */
async function secondCopy(): Promise<typeof Errors> {
  const url = new URL("../../../src/io/pg/errors.ts?copy=2", import.meta.url).href;
  return (await import(url)) as typeof Errors;
}

describe("timebound/pg errors", () => {
  it("TransactionRolledBackError: code, name, message, isTimeboundError", () => {
    const err = new TransactionRolledBackError();
    assert.equal(err.code, "TIMEBOUND_ERR_TRANSACTION_ROLLED_BACK");
    assert.equal(err.name, "TransactionRolledBackError");
    assert.ok(err.stack?.startsWith("TransactionRolledBackError: transaction: COMMIT rolled back"));
    assert.equal(Object.hasOwn(err, "name"), false, "name comes from the prototype");
    assert.ok(err instanceof TransactionRolledBackError && err instanceof Error, "instanceof");
    assert.equal(isTimeboundError(err), true);
    assert.equal(isCanceled(err) || isDeadlineExceeded(err), false, "not a context's error");
    const lookalike = Object.assign(new Error("x"), {
      name: "TransactionRolledBackError",
      code: "TIMEBOUND_ERR_TRANSACTION_ROLLED_BACK",
    });
    assert.equal(lookalike instanceof TransactionRolledBackError, false, "a lookalike is not ours");
    assert.equal(isTimeboundError(lookalike), false);
  });

  it("TransactionRolledBackError: instanceof holds across two copies of the module", async () => {
    const copy = await secondCopy();
    assert.notEqual(copy.TransactionRolledBackError, TransactionRolledBackError, "two classes");
    assert.ok(
      new copy.TransactionRolledBackError() instanceof TransactionRolledBackError,
      "the other copy's error is recognised",
    );
    assert.ok(
      new TransactionRolledBackError() instanceof copy.TransactionRolledBackError,
      "and the other way round",
    );
  });
});
