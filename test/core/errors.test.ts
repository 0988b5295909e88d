import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Canceled,
  ContextError,
  DeadlineExceeded,
  background,
  explain,
  withCancel,
  withCancelCause,
  withTimeout,
  withTimeoutCause,
} from "../../src/index.js";

function canceledError(cause?: unknown): Canceled {
  const ctx = withCancelCause(background(), { name: "job" });
  ctx.cancel(cause);
  const err = ctx.err;
  assert.ok(err instanceof Canceled);
  return err;
}

function expiredError(): DeadlineExceeded {
  const err = withTimeout(background(), 0, { name: "job" }).err;
  assert.ok(err instanceof DeadlineExceeded);
  return err;
}

describe("Canceled", () => {
  it('is named "AbortError" with code "ABORT_ERR"', () => {
    const err = canceledError();
    assert.equal(err.name, "AbortError");
    assert.equal(err.code, "ABORT_ERR");
  });

  it("is an Error, a ContextError, and not a DeadlineExceeded", () => {
    const err = canceledError();
    assert.ok(err instanceof Error);
    assert.ok(err instanceof ContextError);
    assert.ok(err instanceof Canceled);
    assert.equal(err instanceof DeadlineExceeded, false);
  });

  it('has a stack whose first line starts with "AbortError: "', () => {
    const err = canceledError();
    const first = err.stack?.split("\n")[0] ?? "";
    assert.ok(first.startsWith("AbortError: "), first);
    assert.ok(first.includes(err.message.split("\n")[0] ?? "\0"));
  });
});

describe("DeadlineExceeded", () => {
  it('is named "TimeoutError"', () => {
    assert.equal(expiredError().name, "TimeoutError");
  });

  it("is an Error, a ContextError, and not a Canceled", () => {
    const err = expiredError();
    assert.ok(err instanceof Error);
    assert.ok(err instanceof ContextError);
    assert.ok(err instanceof DeadlineExceeded);
    assert.equal(err instanceof Canceled, false);
  });

  it('has a stack whose first line starts with "TimeoutError: "', () => {
    const first = expiredError().stack?.split("\n")[0] ?? "";
    assert.ok(first.startsWith("TimeoutError: "), first);
  });
});

describe("error fields", () => {
  it("err.cause is the explicit cause when one was given", () => {
    const why = new Error("client went away");
    assert.equal(canceledError(why).cause, why);
    assert.equal(canceledError("str").cause, "str");
    assert.equal(canceledError(null).cause, null);
  });

  it("err.cause is absent when no cause was given", () => {
    const err = canceledError();
    assert.equal(err.cause, undefined);
    assert.equal(Object.hasOwn(err, "cause"), false);
  });

  it("a DeadlineExceeded from withTimeoutCause carries the cause", () => {
    const why = new Error("slo");
    const err = withTimeoutCause(background(), 0, why).err;
    assert.ok(err instanceof DeadlineExceeded);
    assert.equal(err.cause, why);
  });

  it("carries the context name, the origin label, lateByMs and the explanation", () => {
    const parent = withCancel(background(), { name: "request" });
    const child = withCancel(parent, { name: "db" });
    parent.cancel();
    const err = child.err;
    assert.ok(err instanceof Canceled);
    assert.equal(err.context, "db");
    assert.equal(err.origin, "request");
    assert.equal(err.lateByMs, 0);
    assert.equal(err.explanation.state, "canceled");
    assert.equal(err.explanation.message, err.message);
    assert.equal(err.message, explain(child).message);
  });

  it("an unnamed context is labelled by how it was made", () => {
    const err = withTimeout(background(), -1).err;
    assert.equal(err?.context, undefined);
    assert.match(err?.origin ?? "", /^withTimeout/);
    const c = withCancel(background());
    c.cancel();
    assert.equal(c.err?.origin, "withCancel");
  });

  it("the message says what ended the context", () => {
    const err = canceledError(new Error("bye"));
    assert.match(err.message, /"job"/);
    assert.match(err.message, /canceled/);
    assert.match(err.message, /cause: Error: bye/);
    assert.match(expiredError().message, /"job".*exceeded its deadline/);
  });
});
