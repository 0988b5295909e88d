import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Canceled,
  Key,
  background,
  cause,
  createKey,
  fromSignal,
  now,
  withCancel,
  withCancelCause,
  withTimeout,
  withValue,
  withoutCancel,
  type Context,
} from "../../src/index.js";

/** Whether `ctx` is live, read without letting TypeScript narrow `ctx.err` for later lines. */
function isLive(ctx: Context): boolean {
  return ctx.err === undefined;
}

interface User {
  readonly id: string;
}

async function isPending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  const winner = await Promise.race([
    p.then(() => "settled"),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(marker))),
  ]);
  return winner === marker;
}

describe("createKey", () => {
  it("makes a named Key", () => {
    const k = createKey<User>("user");
    assert.ok(k instanceof Key);
    assert.equal(k.name, "user");
    assert.equal(String(k), "Key(user)");
  });

  it("keys compare by identity: same name, no collision", () => {
    const a = createKey<string>("id");
    const b = createKey<string>("id");
    const ctx = withValue(withValue(background(), a, "A"), b, "B");
    assert.equal(ctx.value(a), "A");
    assert.equal(ctx.value(b), "B");
  });
});

describe("withValue", () => {
  it("stores a typed value under a key", () => {
    const UserKey = createKey<User>("user");
    const ctx = withValue(background(), UserKey, { id: "u1" });
    const user: User | undefined = ctx.value(UserKey);
    assert.deepEqual(user, { id: "u1" });
    assert.equal(ctx.value(createKey<User>("other")), undefined);
  });

  it("the nearest ancestor's value wins (shadowing)", () => {
    const k = createKey<number>("n");
    const outer = withValue(background(), k, 1);
    const inner = withValue(outer, k, 2);
    assert.equal(inner.value(k), 2);
    assert.equal(outer.value(k), 1, "the parent does not see the child's value");
  });

  it("falsy values are values (0, '', false, null, undefined-shadowing)", () => {
    const n = createKey<number>("n");
    const s = createKey<string>("s");
    const b = createKey<boolean>("b");
    const z = createKey<null>("z");
    const ctx = withValue(
      withValue(withValue(withValue(background(), n, 0), s, ""), b, false),
      z,
      null,
    );
    assert.equal(ctx.value(n), 0);
    assert.equal(ctx.value(s), "");
    assert.equal(ctx.value(b), false);
    assert.equal(ctx.value(z), null);
    const u = createKey<string | undefined>("u");
    const shadow = withValue(withValue(background(), u, "set"), u, undefined);
    assert.equal(shadow.value(u), undefined);
  });

  it("values are found through cancellable contexts", () => {
    const k = createKey<string>("request-id");
    const root = withValue(background(), k, "r-1");
    const c1 = withCancel(root);
    const c2 = withTimeout(c1, 10_000);
    const c3 = fromSignal(new AbortController().signal, { parent: c2 });
    const c4 = withCancelCause(c3);
    for (const ctx of [c1, c2, c3, c4]) assert.equal(ctx.value(k), "r-1");
    c1.cancel();
    assert.equal(c4.value(k), "r-1", "values stay readable after the end");
  });

  it("ends exactly when its parent does, with the parent's error and cause", async () => {
    const parent = withCancelCause(background());
    using sibling = withTimeout(background(), 10_000);
    void sibling;
    const v = withValue(parent, createKey<number>("n"), 1);
    const vv = withValue(v, createKey<number>("m"), 2);
    assert.equal(v.err, undefined);
    assert.equal(v.signal.aborted, false);
    assert.equal(await isPending(vv.done), true);
    parent.cancel("why");
    for (const ctx of [v, vv]) {
      assert.ok(ctx.err instanceof Canceled);
      assert.equal(ctx.err, parent.err);
      assert.equal(cause(ctx), "why");
      assert.equal(ctx.signal.aborted, true);
      assert.equal(ctx.remaining(), 0);
      assert.throws(() => ctx.throwIfDone(), Canceled);
      assert.equal(await isPending(ctx.done), false);
    }
  });

  it("has its parent's deadline", () => {
    using parent = withTimeout(background(), 1_000);
    const v = withValue(parent, createKey<number>("n"), 1);
    assert.equal(v.deadline, parent.deadline);
    const left = v.remaining();
    assert.ok(left > 0 && left <= 1_000);
  });

  it("over background: never ends, no deadline", async () => {
    const v = withValue(background(), createKey<number>("n"), 1);
    assert.equal(v.err, undefined);
    assert.equal(v.cause, undefined);
    assert.equal(v.deadline, undefined);
    assert.equal(v.remaining(), Infinity);
    assert.equal(v.signal.aborted, false);
    assert.equal(await isPending(v.done), true);
  });

  it("over an ended parent: ended already", () => {
    const parent = withCancel(background());
    parent.cancel();
    const v = withValue(parent, createKey<number>("n"), 1);
    assert.ok(v.err instanceof Canceled);
    assert.equal(v.signal.aborted, true);
  });

  it("its parent property is the parent", () => {
    const parent = withCancel(background());
    const v = withValue(parent, createKey<number>("n"), 1);
    assert.equal(v.parent, parent);
    parent.cancel();
  });
});

describe("withoutCancel", () => {
  it("keeps values but never ends, even when the parent does", async () => {
    const k = createKey<string>("user");
    const parent = withTimeout(withValue(background(), k, "ann"), 10_000);
    const detached = withoutCancel(parent, { name: "audit" });
    assert.equal(detached.name, "audit");
    assert.equal(detached.parent, parent);
    assert.equal(detached.value(k), "ann");
    assert.equal(detached.deadline, undefined, "no deadline although the parent has one");
    assert.equal(detached.remaining(), Infinity);
    parent.cancel(new Error("request done"));
    assert.equal(detached.err, undefined);
    assert.equal(detached.cause, undefined);
    assert.equal(cause(detached), undefined);
    assert.equal(detached.signal.aborted, false);
    assert.doesNotThrow(() => detached.throwIfDone());
    assert.equal(await isPending(detached.done), true);
    assert.equal(detached.value(k), "ann");
  });

  it("over an already-ended parent: live", () => {
    const parent = withCancel(background());
    parent.cancel();
    const detached = withoutCancel(parent);
    assert.equal(detached.err, undefined);
    assert.equal(detached.signal.aborted, false);
  });

  it("children of it live on after the original parent ends and can end on their own", async () => {
    const parent = withCancel(background());
    const child = withCancel(withoutCancel(parent));
    const timed = withTimeout(withoutCancel(parent), 20);
    parent.cancel();
    assert.ok(isLive(child));
    assert.ok(isLive(timed));
    const d = timed.deadline;
    assert.ok(d !== undefined && d > now());
    child.cancel();
    assert.ok(child.err instanceof Canceled);
    await timed.done;
    assert.ok(timed.err !== undefined);
  });
});
