// One error model: every error of timebound's has a stable code, its name set on its prototype,
// an identity that survives two copies of the library, and guards that never throw.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Canceled,
  ContextError,
  DeadlineExceeded,
  background,
  isCanceled,
  isDeadlineExceeded,
  isTimeboundError,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import { INVALID_ARGUMENT, UNKNOWN_OPTION } from "../../src/core/internal.js";

function canceled(): Canceled {
  const ctx = withCancel(background());
  ctx.cancel();
  return ctx.err as Canceled;
}

function expired(): DeadlineExceeded {
  return withTimeout(background(), 0).err as DeadlineExceeded;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail("expected a throw");
}

describe("the error model", () => {
  it("context errors: names of the web platform, stable codes, classes kept apart", () => {
    const c = canceled();
    const d = expired();
    assert.equal(c.name, "AbortError");
    assert.equal(c.code, "ABORT_ERR", "Node's own code for an abort");
    assert.equal(d.name, "TimeoutError");
    assert.equal(d.code, "TIMEBOUND_ERR_DEADLINE_EXCEEDED");
    assert.ok(c instanceof ContextError && c instanceof Canceled && c instanceof Error);
    assert.equal(c instanceof DeadlineExceeded, false);
    assert.ok(d instanceof ContextError && d instanceof DeadlineExceeded);
    assert.equal(d instanceof Canceled, false);
    assert.ok(c.stack?.startsWith("AbortError: "), "the stack header reads the name");
  });

  it("guards answer for any value, and never throw", () => {
    const c = canceled();
    const d = expired();
    assert.equal(isCanceled(c), true);
    assert.equal(isCanceled(d), false);
    assert.equal(isDeadlineExceeded(d), true);
    assert.equal(isTimeboundError(c) && isTimeboundError(d), true);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const other of [new Error("x"), undefined, null, 42, "AbortError", proxy]) {
      assert.equal(isCanceled(other), false);
      assert.equal(isDeadlineExceeded(other), false);
      assert.equal(isTimeboundError(other), false);
    }
    const lookalike = Object.assign(new Error("x"), { name: "AbortError", code: "ABORT_ERR" });
    assert.equal(isCanceled(lookalike), false, "a lookalike by name is not ours");
    assert.equal(lookalike instanceof Canceled, false);
  });

  it("a bad argument is a TypeError or RangeError with a code", () => {
    const type = thrown(() => withTimeout(background(), "5" as unknown as number));
    assert.ok(type instanceof TypeError);
    assert.equal((type as { code?: string }).code, INVALID_ARGUMENT);
    assert.equal(isTimeboundError(type), true);
    const range = thrown(() => withTimeout(background(), Number.NaN));
    assert.ok(range instanceof RangeError);
    assert.equal((range as { code?: string }).code, INVALID_ARGUMENT);
  });

  it("an unknown option is refused, naming it and the known ones", () => {
    const err = thrown(() => withCancel(background(), { nmae: "typo" } as never));
    assert.ok(err instanceof TypeError);
    assert.equal((err as { code?: string }).code, UNKNOWN_OPTION);
    assert.equal(err.message, "withCancel: unknown option options.nmae (known: name)");
  });

  it("a class a user derives from ours keeps ordinary instanceof", () => {
    class Mine extends DeadlineExceeded {}
    const mine = new Mine(expired().explanation);
    assert.ok(mine instanceof Mine && mine instanceof DeadlineExceeded);
    assert.equal(expired() instanceof Mine, false, "ours is not the user's subclass");
  });
});
