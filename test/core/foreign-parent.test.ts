// A Context that timebound did not make, as a parent: Go's context tests run their functions over
// `otherContext` (a type that embeds a Context and forwards to it), and Go's propagateCancel
// adopts it. These are those tests' cases, and the other ESM/CJS copy of timebound.
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import {
  Canceled,
  type Context,
  DeadlineExceeded,
  type Key,
  background,
  cause,
  createKey,
  explain,
  isCanceled,
  isDeadlineExceeded,
  now,
  sleep,
  withCancel,
  withTimeout,
  withValue,
  withoutCancel,
} from "../../src/index.js";
import { coreStats, inspect } from "../../src/core/introspect.js";
import type * as TimeboundModule from "../../src/index.js";

type Timebound = typeof TimeboundModule;
import { state } from "../helpers.js";

/** Go's otherContext: a user's type that forwards every method to a context it wraps. */
class Wrapper implements Context {
  constructor(readonly inner: Context) {}
  get name(): string | undefined {
    return `wrapped ${this.inner.name ?? "context"}`;
  }
  get parent(): Context | undefined {
    return this.inner;
  }
  get err() {
    return this.inner.err;
  }
  get cause(): unknown {
    return this.inner.cause;
  }
  get deadline(): number | undefined {
    return this.inner.deadline;
  }
  remaining(): number {
    return this.inner.remaining();
  }
  get signal(): AbortSignal {
    return this.inner.signal;
  }
  get done(): Promise<void> {
    return this.inner.done;
  }
  value<T>(key: Key<T>): T | undefined {
    return this.inner.value(key);
  }
  throwIfDone(): void {
    this.inner.throwIfDone();
  }
}

const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, "abort").length;

describe("a parent that implements Context but is not one of timebound's", () => {
  it("withCancel: the parent's cancel reaches the child, with its cause", () => {
    const inner = withCancel(background(), { name: "request" });
    const child = withCancel(new Wrapper(inner));
    assert.equal(child.err, undefined);
    const why = new Error("client went away");
    inner.cancel(why);
    assert.ok(isCanceled(child.err), "the child ended with Canceled");
    assert.equal(cause(child), why, "the cause came through");
  });

  it("withTimeout: the parent's earlier deadline is the child's, and ends it", async () => {
    const inner = withTimeout(background(), 30, { name: "request" });
    const child = withTimeout(new Wrapper(inner), 60_000);
    assert.ok(
      Math.abs(child.deadline! - inner.deadline!) < 1,
      "the child took the parent's deadline",
    );
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded, `got ${String(child.err)}`);
  });

  it("a child's own earlier deadline still applies", async () => {
    using inner = withTimeout(background(), 60_000);
    const child = withTimeout(new Wrapper(inner), 20);
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded);
    assert.equal(inner.err, undefined, "the parent is untouched");
  });

  it("values are looked up through the parent", () => {
    const key = createKey<string>("user");
    const inner = withValue(background(), key, "ada");
    const wrapped = new Wrapper(inner);
    using child = withCancel(wrapped);
    assert.equal(child.value(key), "ada");
    assert.equal(withValue(wrapped, createKey<number>("n"), 1).value(key), "ada");
    assert.equal(withoutCancel(wrapped).value(key), "ada");
  });

  it("a child of a parent that has ended is born ended", () => {
    const inner = withCancel(background());
    inner.cancel("early");
    const child = withCancel(new Wrapper(inner));
    assert.ok(child.err instanceof Canceled);
    assert.equal(cause(child), "early");
  });

  it("a test double whose signal aborts with a TimeoutError gives DeadlineExceeded", () => {
    const controller = new AbortController();
    const timeout = new DOMException("deadline", "TimeoutError");
    let ended = false;
    const double: Context = {
      name: "double",
      parent: undefined,
      get err() {
        return ended ? (timeout as unknown as DeadlineExceeded) : undefined;
      },
      get cause() {
        return ended ? timeout : undefined;
      },
      deadline: undefined,
      remaining: () => Infinity,
      signal: controller.signal,
      done: new Promise(() => {}),
      value: () => undefined,
      throwIfDone: () => {},
    };
    const child = withCancel(double);
    ended = true;
    controller.abort(timeout);
    assert.ok(isDeadlineExceeded(child.err), `got ${String(child.err)}`);
    assert.equal(cause(child), timeout);
  });

  it("a test double's deadline ends its children even if nothing aborts its signal", async () => {
    const double: Context = {
      name: "double",
      parent: undefined,
      err: undefined,
      cause: undefined,
      deadline: now() + 20,
      remaining: () => 20,
      signal: new AbortController().signal,
      done: new Promise(() => {}),
      value: () => undefined,
      throwIfDone: () => {},
    };
    const child = withCancel(double);
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded);
  });

  it("children that end first leave no listener on the parent's signal, and no timer", () => {
    using inner = withTimeout(background(), 60_000);
    const wrapped = new Wrapper(inner);
    const timers = coreStats().armedTimers;
    for (let i = 0; i < 1_000; i++) withTimeout(wrapped, 50_000).cancel();
    assert.equal(abortListeners(inner.signal), 0, "every child removed its listener");
    assert.equal(coreStats().armedTimers, timers, "every child's timer was cleared");
  });

  it("a wait on a value context over it is woken by the parent, and leaves no listener", async () => {
    const inner = withCancel(background());
    const derived = withValue(new Wrapper(inner), createKey<number>("n"), 1);
    const slept = sleep(derived, 60_000);
    assert.equal(await state(slept), "pending");
    inner.cancel();
    await assert.rejects(slept, Canceled);
    const quick = withCancel(background());
    await sleep(withValue(new Wrapper(quick), createKey<number>("m"), 1), 1);
    assert.equal(abortListeners(quick.signal), 0, "the wait's follower went with the wait");
  });

  it("a function that waits on a context refuses the foreign one itself, saying what to do", async () => {
    using inner = withCancel(background());
    await assert.rejects(
      sleep(new Wrapper(inner), 1),
      /sleep: ctx is a Context that timebound did not make .* derive one from it first \(withCancel\(ctx\)\)/,
    );
  });

  it("explain and inspect read the child as usual", () => {
    const inner = withCancel(background(), { name: "request" });
    const child = withCancel(new Wrapper(inner), { name: "db" });
    inner.cancel("bye");
    assert.match(explain(child).message, /context "db" was canceled/);
    assert.equal(inspect(child).state, "canceled");
  });
});

const root = new URL("../../", import.meta.url).pathname;
const built = existsSync(`${root}dist/cjs/index.js`) && existsSync(`${root}dist/esm/index.js`);

describe("the other copy of timebound (the CommonJS build beside the ESM one)", () => {
  const skip = built ? false : "dist is not built (npm run build)";

  it("a context of one copy is a parent for the other", { skip }, async () => {
    const cjs = createRequire(import.meta.url)(`${root}dist/cjs/index.js`) as Timebound;
    const esm = (await import(`${root}dist/esm/index.js`)) as Timebound;
    const parent = cjs.withTimeout(cjs.background(), 60_000, { name: "cjs request" });
    const child = esm.withCancel(parent);
    parent.cancel("drain");
    assert.equal(esm.cause(child), "drain");
    assert.ok(child.err instanceof esm.Canceled);
    assert.ok(child.err instanceof cjs.Canceled, "instanceof works across the copies");
    assert.ok(parent.err instanceof esm.Canceled && esm.isCanceled(parent.err));
    assert.equal(parent.err instanceof esm.DeadlineExceeded, false, "and keeps the classes apart");
    assert.ok(isCanceled(parent.err), "the source copy's guards agree");
  });
});
