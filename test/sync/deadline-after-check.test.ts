// A deadline that passes between a waiter's own `ctx.err` check and its watch of the context (a
// collection or a preemption between the two statements) ends the wait at once, with the
// context's error: before, the waiter was in line under a context that had already ended, and
// waited for an end that had come (a channel receive, a select, a semaphore, a ticker: until a
// value came, if ever; raceContext: until the work finished). The gap is made wide here by a
// `timebound:op:start` subscriber (watch announces the wait just before it looks at the context)
// that holds the thread until the deadline has passed; raceContext is given a context that says
// it is live on the first read and has ended on the next.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import {
  Channel,
  type Context,
  DeadlineExceeded,
  type Key,
  Semaphore,
  background,
  createKey,
  now,
  select,
  ticker,
  withCancel,
  withTimeout,
  withValue,
} from "../../src/index.js";
import { raceContext } from "../../src/io/race.js";

/** Runs `wait` with the thread held at its watch until `ctx`'s deadline has passed. */
async function withDeadlinePassingAtWatch<T>(ctx: Context, wait: () => Promise<T>): Promise<T> {
  const hold = (): void => {
    const deadline = ctx.deadline!;
    while (now() <= deadline + 1); // the deadline passes here, its timer cannot run
  };
  subscribe("timebound:op:start", hold);
  let pending: Promise<T>;
  try {
    pending = wait();
  } finally {
    unsubscribe("timebound:op:start", hold);
  }
  // A wait that missed the end would never settle: bounded, so that the test fails, not hangs.
  const guard = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error("the wait did not end with its context")), 1_000);
    void pending.finally(() => clearTimeout(t)).catch(() => {});
  });
  return Promise.race([pending, guard]);
}

async function endsWithDeadline(name: string, wait: (ctx: Context) => Promise<unknown>) {
  using ctx = withTimeout(background(), 20, { name });
  await assert.rejects(
    withDeadlinePassingAtWatch(ctx, () => wait(ctx)),
    (err: unknown) => err instanceof DeadlineExceeded && err.message.includes(`"${name}"`),
  );
}

describe("a deadline that passes between a waiter's check and its watch", () => {
  it("ends a channel receive", () =>
    endsWithDeadline("recv", (ctx) => new Channel<number>().recv(ctx)));

  it("ends a channel send", () =>
    endsWithDeadline("send", (ctx) => new Channel<number>().send(ctx, 1)));

  it("ends a select", () =>
    endsWithDeadline("select", (ctx) => {
      const ch = new Channel<number>();
      return select(ctx, [{ recv: ch }]);
    }));

  it("ends a semaphore acquire, and leaves its line", async () => {
    const sem = new Semaphore(1);
    using hold = withCancel(background());
    await sem.acquire(hold);
    await endsWithDeadline("acquire", (ctx) => sem.acquire(ctx));
    sem.release();
    using next = withTimeout(background(), 1_000);
    await sem.acquire(next); // the ended waiter did not keep the unit
    sem.release();
  });

  it("ends a ticker's wait for its next tick", async () => {
    using ctx = withTimeout(background(), 20, { name: "tick" });
    const ticks = ticker(ctx, 10_000);
    const next = await withDeadlinePassingAtWatch(ctx, () => ticks.next());
    assert.equal(next.done, true, "the ticker stops with its context");
  });

  it("keeps raceContext from starting work under a context that has ended", async () => {
    using inner = withCancel(background(), { name: "inner" });
    let armed = false;
    let checked = false;
    // Once armed: live when raceContext checks err, ended by the time its watch follows it.
    const flaky: Context = {
      get name() {
        return "flaky";
      },
      get parent() {
        return inner;
      },
      get err() {
        if (armed && !checked) {
          checked = true;
          return undefined;
        }
        return inner.err;
      },
      get cause() {
        return inner.cause;
      },
      get deadline() {
        return inner.deadline;
      },
      remaining: () => inner.remaining(),
      get signal() {
        if (checked) inner.cancel(); // it ended between the check and the watch
        return inner.signal;
      },
      get done() {
        return inner.done;
      },
      value: <T>(key: Key<T>) => inner.value(key),
      throwIfDone: () => inner.throwIfDone(),
    };
    // A context of the user's own making reaches timebound's functions through one derived from it.
    const ctx = withValue(flaky, createKey<number>("k"), 1);
    armed = true;
    let started = false;
    const guard = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("raceContext waited for the work")), 1_000).unref(),
    );
    await assert.rejects(
      Promise.race([
        raceContext(ctx, () => {
          started = true;
          return new Promise<string>(() => undefined); // work that never ends by itself
        }),
        guard,
      ]),
      (err: unknown) => err instanceof Error && err.name === "AbortError",
    );
    assert.equal(started, false, "no work started under an ended context");
  });
});
