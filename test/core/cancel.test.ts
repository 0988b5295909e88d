import { coreStats, dependents } from "../../src/core/introspect.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Canceled,
  DeadlineExceeded,
  background,
  cause,
  createKey,
  fromSignal,
  isContext,
  now,
  todo,
  withCancel,
  withCancelCause,
  withDeadline,
  withoutCancel,
  withTimeout,
  withValue,
  type CancelableContext,
  type Context,
} from "../../src/index.js";

/** True if `p` has not settled after the current macrotask turn. */
async function isPending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  const winner = await Promise.race([
    p.then(() => "settled"),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(marker))),
  ]);
  return winner === marker;
}

describe("background() and todo()", () => {
  for (const [label, make, name] of [
    ["background", background, "background"],
    ["todo", todo, "todo"],
  ] as const) {
    it(`${label}() never ends, has no deadline and no values`, async () => {
      const ctx = make();
      assert.equal(ctx.name, name);
      assert.equal(ctx.parent, undefined);
      assert.equal(ctx.err, undefined);
      assert.equal(ctx.cause, undefined);
      assert.equal(cause(ctx), undefined);
      assert.equal(ctx.deadline, undefined);
      assert.equal(ctx.remaining(), Infinity);
      assert.equal(ctx.signal.aborted, false);
      assert.equal(ctx.value(createKey<string>("k")), undefined);
      assert.doesNotThrow(() => ctx.throwIfDone());
      assert.equal(await isPending(ctx.done), true);
      assert.equal(isContext(ctx), true);
    });

    it(`${label}() returns the same context every time`, () => {
      assert.equal(make(), make());
    });
  }

  it("background() and todo() are different contexts", () => {
    assert.notEqual(background(), todo());
  });

  it("a child of background can still be canceled, and background stays live", () => {
    const ctx = withCancel(background());
    ctx.cancel();
    assert.equal(background().err, undefined);
    assert.equal(background().signal.aborted, false);
  });
});

describe("withCancel / withCancelCause", () => {
  it("is live until canceled", async () => {
    const ctx = withCancel(background(), { name: "worker" });
    assert.equal(ctx.name, "worker");
    assert.equal(ctx.parent, background());
    assert.equal(ctx.err, undefined);
    assert.equal(ctx.cause, undefined);
    assert.equal(cause(ctx), undefined);
    assert.equal(ctx.deadline, undefined);
    assert.equal(ctx.remaining(), Infinity);
    assert.equal(ctx.signal.aborted, false);
    assert.doesNotThrow(() => ctx.throwIfDone());
    assert.equal(await isPending(ctx.done), true);
    ctx.cancel();
  });

  it("cancel() ends it with Canceled; cause is the error itself when none was given", () => {
    const ctx = withCancel(background());
    ctx.cancel();
    const err = ctx.err;
    assert.ok(err instanceof Canceled);
    assert.equal(ctx.cause, err);
    assert.equal(cause(ctx), err);
    assert.equal(err.cause, undefined);
    assert.equal(ctx.remaining(), 0);
    assert.throws(
      () => ctx.throwIfDone(),
      (thrown) => thrown === err,
    );
  });

  it("err is the same object on every read", () => {
    const ctx = withCancel(background());
    ctx.cancel();
    assert.equal(ctx.err, ctx.err);
    assert.equal(ctx.signal.reason, ctx.err);
  });

  it("withCancelCause: cancel(cause) sets cause(ctx), ctx.err stays Canceled", () => {
    const ctx = withCancelCause(background());
    const why = new Error("client went away");
    ctx.cancel(why);
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(cause(ctx), why);
    assert.equal(ctx.cause, why);
    assert.equal(ctx.err.cause, why);
  });

  it("withCancel also takes a cause", () => {
    const ctx = withCancel(background());
    ctx.cancel("shutdown");
    assert.equal(cause(ctx), "shutdown");
  });

  it("cancel is idempotent: the first cause wins, later cancels change nothing", () => {
    const ctx = withCancelCause(background());
    const first = new Error("first");
    ctx.cancel(first);
    const err = ctx.err;
    ctx.cancel(new Error("second"));
    ctx.cancel();
    assert.equal(ctx.err, err);
    assert.equal(cause(ctx), first);
    assert.equal(err?.cause, first);
  });

  it("cancel() then cancel(cause) keeps no cause (the first cancel decided)", () => {
    const ctx = withCancelCause(background());
    ctx.cancel();
    ctx.cancel(new Error("late"));
    assert.equal(cause(ctx), ctx.err);
  });

  it("cancelling a child leaves the parent and siblings live", () => {
    const parent = withCancel(background());
    const a = withCancel(parent);
    const b = withCancel(parent);
    a.cancel();
    assert.ok(a.err instanceof Canceled);
    assert.equal(parent.err, undefined);
    assert.equal(b.err, undefined);
    parent.cancel();
  });
});

describe("cancel propagates synchronously to the whole subtree", () => {
  it("every descendant is ended and its signal aborted when cancel() returns", () => {
    const root = withCancel(background(), { name: "root" });
    const key = createKey<number>("n");
    const a = withCancel(root);
    const v = withValue(a, key, 1);
    const b = withTimeout(v, 10_000);
    const c = withCancel(b);
    const d = withDeadline(root, now() + 10_000);
    const all: Context[] = [a, v, b, c, d];
    const signalsReadBefore = [a.signal, b.signal, c.signal];
    root.cancel(new Error("stop"));
    for (const ctx of all) {
      assert.ok(ctx.err instanceof Canceled, `${String(ctx.name)} should be canceled`);
      assert.equal(ctx.signal.aborted, true);
      assert.equal(ctx.signal.reason, ctx.err);
      assert.equal(ctx.remaining(), 0);
    }
    for (const s of signalsReadBefore) assert.equal(s.aborted, true);
  });

  it("a deep chain (10,000 levels) ends without a stack overflow", () => {
    const root = withCancel(background());
    let leaf: CancelableContext = root;
    for (let i = 0; i < 10_000; i++) leaf = withCancel(leaf);
    const leafSignal = leaf.signal;
    root.cancel();
    assert.ok(leaf.err instanceof Canceled);
    assert.equal(leafSignal.aborted, true);
    assert.equal(dependents(root), 0);
  });

  it("abort listeners never see a half-ended tree", () => {
    const root = withCancel(background());
    const child = withCancel(root);
    const grandchild = withCancel(child);
    const seen: string[] = [];
    root.signal.addEventListener("abort", () => {
      seen.push(`root: grandchild ended=${grandchild.err !== undefined}`);
    });
    grandchild.signal.addEventListener("abort", () => {
      seen.push(`grandchild: root ended=${root.err !== undefined}`);
    });
    root.cancel();
    assert.deepEqual(seen.sort(), ["grandchild: root ended=true", "root: grandchild ended=true"]);
  });

  it("a parent's cause propagates to its children", () => {
    const parent = withCancelCause(background());
    const child = withCancel(parent);
    const grandchild = withTimeout(child, 10_000);
    const why = new Error("shutdown");
    parent.cancel(why);
    for (const ctx of [child, grandchild]) {
      assert.ok(ctx.err instanceof Canceled);
      assert.equal(cause(ctx), why);
      assert.equal(ctx.err.cause, why);
    }
  });

  it("a parent canceled without a cause gives children cause = their own err", () => {
    const parent = withCancel(background());
    const child = withCancel(parent);
    parent.cancel();
    assert.ok(child.err instanceof Canceled);
    assert.equal(cause(child), child.err);
  });

  it("cancelling a child after its parent ended is a no-op", () => {
    const parent = withCancelCause(background());
    const child = withCancelCause(parent);
    const why = new Error("parent");
    parent.cancel(why);
    const err = child.err;
    child.cancel(new Error("child"));
    assert.equal(child.err, err);
    assert.equal(cause(child), why);
  });

  it("cancelling an already-expired context is a no-op", () => {
    const ctx = withTimeout(background(), 0);
    const err = ctx.err;
    assert.ok(err instanceof DeadlineExceeded);
    ctx.cancel(new Error("too late"));
    assert.equal(ctx.err, err);
    assert.equal(cause(ctx), err);
  });
});

describe("signal and done", () => {
  it("signal is made once and aborted with ctx.err when the context ends", () => {
    const ctx = withCancel(background());
    const s = ctx.signal;
    assert.equal(ctx.signal, s);
    assert.equal(s.aborted, false);
    let reason: unknown;
    s.addEventListener("abort", () => {
      reason = s.reason;
    });
    ctx.cancel();
    assert.equal(s.aborted, true);
    assert.equal(reason, ctx.err);
  });

  it("signal read after the end is already aborted with ctx.err", () => {
    const ctx = withCancel(background());
    ctx.cancel();
    const s = ctx.signal;
    assert.equal(s.aborted, true);
    assert.ok(s.reason instanceof Canceled);
    assert.equal(s.reason, ctx.err);
  });

  it("done resolves (never rejects) when the context ends, and is the same promise", async () => {
    const ctx = withCancel(background());
    const done = ctx.done;
    assert.equal(ctx.done, done);
    assert.equal(await isPending(done), true);
    ctx.cancel(new Error("x"));
    assert.equal(await done, undefined);
  });

  it("done read after the end is already resolved", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    assert.equal(await isPending(ctx.done), false);
  });
});

describe("born-ended children", () => {
  it("a child of a canceled parent is born canceled with the parent's cause", async () => {
    const parent = withCancelCause(background());
    const why = new Error("gone");
    parent.cancel(why);
    const before = coreStats().armedTimers;
    const kids: CancelableContext[] = [
      withCancel(parent),
      withTimeout(parent, 5_000),
      withDeadline(parent, now() + 5_000),
      fromSignal(new AbortController().signal, { parent }),
    ];
    assert.equal(coreStats().armedTimers, before, "no timer for a born-ended child");
    assert.equal(dependents(parent), 0);
    for (const kid of kids) {
      assert.ok(kid.err instanceof Canceled);
      assert.equal(cause(kid), why);
      assert.equal(kid.signal.aborted, true);
      assert.equal(kid.remaining(), 0);
      assert.equal(await isPending(kid.done), false);
    }
  });

  it("a child of an expired parent is born with DeadlineExceeded", () => {
    const parent = withTimeout(background(), -1);
    const child = withCancel(parent);
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.equal(cause(child), child.err);
  });

  it("a born-ended child still reports the effective (parent's) deadline", () => {
    const parent = withTimeout(background(), 1_000);
    const parentDeadline = parent.deadline;
    parent.cancel();
    assert.equal(withCancel(parent).deadline, parentDeadline);
    assert.equal(withTimeout(parent, 5_000).deadline, parentDeadline);
  });
});

describe("a child detaches from its parent when it ends", () => {
  it("cancel of the child removes it from the parent's dependents", () => {
    const parent = withCancel(background());
    const a = withCancel(parent);
    const b = withTimeout(parent, 10_000);
    const c = withCancel(withValue(parent, createKey<number>("n"), 1));
    assert.equal(dependents(parent), 3);
    a.cancel();
    assert.equal(dependents(parent), 2);
    b.cancel();
    c.cancel();
    assert.equal(dependents(parent), 0);
    parent.cancel();
  });

  it("many short-lived children leave nothing behind", () => {
    const parent = withCancel(background());
    for (let i = 0; i < 1_000; i++) {
      using child = withTimeout(parent, 10_000);
      void child;
    }
    assert.equal(dependents(parent), 0);
    parent.cancel();
  });

  it("a child whose own deadline passes detaches too", async () => {
    const parent = withCancel(background());
    const child = withTimeout(parent, 5);
    assert.equal(dependents(parent), 1);
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.equal(dependents(parent), 0);
    parent.cancel();
  });

  it("an expired-at-birth child is not left linked", () => {
    const parent = withCancel(background());
    withTimeout(parent, 0);
    withTimeout(parent, -10);
    assert.equal(dependents(parent), 0);
    parent.cancel();
  });

  it("cancelling the parent empties its dependents and its children's", () => {
    const parent = withCancel(background());
    const child = withCancel(parent);
    withCancel(child);
    parent.cancel();
    assert.equal(dependents(parent), 0);
    assert.equal(dependents(child), 0);
  });

  it("withValue and withoutCancel add no dependents", () => {
    const parent = withCancel(background());
    withValue(parent, createKey<number>("n"), 1);
    withoutCancel(parent);
    assert.equal(dependents(parent), 0);
    parent.cancel();
  });
});

describe("Symbol.dispose (using)", () => {
  it("a `using` block cancels the context at the end of the scope", () => {
    let escaped: CancelableContext | undefined;
    {
      using ctx = withCancel(background());
      escaped = ctx;
      assert.equal(ctx.err, undefined);
    }
    assert.ok(escaped.err instanceof Canceled);
  });

  it("`using` a withTimeout clears its timer and detaches it", () => {
    const parent = withCancel(background());
    const before = coreStats().armedTimers;
    {
      using ctx = withTimeout(parent, 60_000);
      assert.equal(coreStats().armedTimers, before + 1);
      assert.equal(ctx.err, undefined);
      assert.equal(dependents(parent), 1);
    }
    assert.equal(coreStats().armedTimers, before);
    assert.equal(dependents(parent), 0);
    parent.cancel();
  });

  it("`using` also cancels when the block throws", () => {
    let escaped: CancelableContext | undefined;
    assert.throws(() => {
      using ctx = withCancel(background());
      escaped = ctx;
      throw new Error("boom");
    }, /boom/);
    assert.ok(escaped?.err instanceof Canceled);
  });

  it("dispose after cancel(cause) keeps the cause", () => {
    const ctx = withCancelCause(background());
    ctx.cancel("why");
    ctx[Symbol.dispose]();
    assert.equal(cause(ctx), "why");
  });
});

describe("isContext", () => {
  it("accepts every kind of context", () => {
    const c = withCancel(background());
    for (const ctx of [
      background(),
      todo(),
      c,
      withTimeout(c, 1_000),
      withValue(c, createKey<number>("n"), 1),
      withoutCancel(c),
      fromSignal(new AbortController().signal),
    ]) {
      assert.equal(isContext(ctx), true);
    }
    c.cancel();
  });

  it("rejects lookalikes and other values", () => {
    const fake = {
      err: undefined,
      signal: new AbortController().signal,
      deadline: undefined,
      value: () => undefined,
    };
    for (const v of [{}, null, undefined, 42, "ctx", new AbortController().signal, fake]) {
      assert.equal(isContext(v), false);
    }
  });
});
