import { dependents } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import {
  Canceled,
  DeadlineExceeded,
  background,
  cause,
  createKey,
  explain,
  fromSignal,
  withCancel,
  withCancelCause,
  withTimeout,
  withValue,
  type Context,
} from "../../src/index.js";

/** Whether `ctx` is live, read without letting TypeScript narrow `ctx.err` for later lines. */
function isLive(ctx: Context): boolean {
  return ctx.err === undefined;
}

function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, "abort").length;
}

/** Awaits `p`, keeping the process alive (adopted signals hold no ref'd timer). */
async function settle<T>(p: Promise<T>, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("fromSignal", () => {
  it("is live until the signal aborts, then Canceled with cause = reason", async () => {
    const ac = new AbortController();
    const ctx = fromSignal(ac.signal, { name: "req" });
    assert.equal(ctx.name, "req");
    assert.ok(isLive(ctx));
    assert.equal(ctx.deadline, undefined);
    const why = new Error("client closed");
    ac.abort(why);
    assert.ok(ctx.err instanceof Canceled, "ended synchronously");
    assert.equal(cause(ctx), why);
    assert.equal(ctx.err.cause, why);
    assert.equal(ctx.signal.reason, ctx.err);
    await settle(ctx.done);
  });

  it("abort() without a reason: Canceled with the DOMException as cause", () => {
    const ac = new AbortController();
    const ctx = fromSignal(ac.signal);
    ac.abort();
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(cause(ctx), ac.signal.reason);
    assert.equal((cause(ctx) as Error).name, "AbortError");
  });

  it("AbortSignal.timeout gives DeadlineExceeded", async () => {
    const signal = AbortSignal.timeout(10);
    const ctx = fromSignal(signal);
    await settle(ctx.done);
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.equal(cause(ctx), signal.reason);
    assert.equal((signal.reason as Error).name, "TimeoutError");
  });

  it("any reason named TimeoutError gives DeadlineExceeded", () => {
    const ac = new AbortController();
    const ctx = fromSignal(ac.signal);
    const reason = new Error("upstream timed out");
    reason.name = "TimeoutError";
    ac.abort(reason);
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.equal(cause(ctx), reason);
  });

  it("an already-aborted signal gives an already-ended context and adds no listener", () => {
    const why = new Error("already");
    const signal = AbortSignal.abort(why);
    const ctx = fromSignal(signal);
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(cause(ctx), why);
    assert.equal(ctx.signal.aborted, true);
    assert.equal(listeners(signal), 0);
  });

  it("an already-timed-out signal gives DeadlineExceeded", async () => {
    const signal = AbortSignal.timeout(1);
    await settle(new Promise((r) => signal.addEventListener("abort", r, { once: true })));
    assert.ok(fromSignal(signal).err instanceof DeadlineExceeded);
  });

  it("cancel first removes its listener from the signal; a later abort changes nothing", () => {
    const ac = new AbortController();
    const baseline = listeners(ac.signal);
    const ctx = fromSignal(ac.signal);
    assert.equal(listeners(ac.signal), baseline + 1);
    ctx.cancel("mine");
    assert.equal(listeners(ac.signal), baseline);
    ac.abort(new Error("theirs"));
    assert.equal(cause(ctx), "mine");
    assert.ok(ctx.err instanceof Canceled);
  });

  it("the listener is removed when the signal aborts", () => {
    const ac = new AbortController();
    fromSignal(ac.signal);
    ac.abort();
    assert.equal(listeners(ac.signal), 0);
  });

  it("adopting one long-lived signal many times leaks no listeners (each canceled)", () => {
    const ac = new AbortController();
    const baseline = listeners(ac.signal);
    for (let i = 0; i < 500; i++) {
      using ctx = fromSignal(ac.signal);
      void ctx;
    }
    assert.equal(listeners(ac.signal), baseline);
  });

  it("internal bookkeeping is released when it ends", () => {
    const ac = new AbortController();
    const ctx = fromSignal(ac.signal);
    ctx.cancel();
    assert.equal(dependents(ctx), 0);
  });
});

describe("fromSignal with a parent", () => {
  it("ends when the parent ends, with the parent's cause, and removes its listener", () => {
    const ac = new AbortController();
    const parent = withCancelCause(background());
    const ctx = fromSignal(ac.signal, { parent, name: "adopted" });
    assert.equal(ctx.parent, parent);
    assert.equal(dependents(parent), 1);
    parent.cancel("shutdown");
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(cause(ctx), "shutdown");
    assert.equal(listeners(ac.signal), 0);
    assert.equal(explain(ctx).origin?.depth, 1);
  });

  it("aborting the signal ends the context but not the parent", () => {
    const ac = new AbortController();
    const parent = withCancel(background());
    const ctx = fromSignal(ac.signal, { parent });
    ac.abort();
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(parent.err, undefined);
    assert.equal(dependents(parent), 0);
    parent.cancel();
  });

  it("takes the parent's values and deadline", () => {
    const k = createKey<string>("user");
    using timed = withTimeout(background(), 5_000);
    const parent = withValue(timed, k, "ann");
    using ctx = fromSignal(new AbortController().signal, { parent });
    assert.equal(ctx.value(k), "ann");
    assert.equal(ctx.deadline, timed.deadline);
  });

  it("ends when the parent's deadline passes, with DeadlineExceeded", async () => {
    const parent = withTimeout(background(), 10);
    const ctx = fromSignal(new AbortController().signal, { parent });
    await ctx.done;
    assert.ok(ctx.err instanceof DeadlineExceeded);
  });

  it("a parent already ended: born ended, no listener added", () => {
    const ac = new AbortController();
    const parent = withCancel(background());
    parent.cancel("early");
    const ctx = fromSignal(ac.signal, { parent });
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(cause(ctx), "early");
    assert.equal(listeners(ac.signal), 0);
  });

  it("adopting another context's signal carries its error as the cause", () => {
    const other = withCancel(background());
    const ctx = fromSignal(other.signal);
    other.cancel();
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(cause(ctx), other.err);
  });
});
