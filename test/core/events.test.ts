import { describe, it } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import {
  Canceled,
  DeadlineExceeded,
  background,
  cause,
  channels,
  createKey,
  fromSignal,
  now,
  withCancel,
  withCancelCause,
  withTimeout,
  withValue,
  type CancelableContext,
  type Context,
  type ContextCreatedMessage,
  type ContextEndedMessage,
  type DeadlineFiredMessage,
} from "../../src/index.js";

const CREATED = "timebound:context:created";
const ENDED = "timebound:context:ended";
const FIRED = "timebound:deadline:fired";

/** Subscribes to `name` while `body` runs; returns the messages received. */
async function collect<T>(name: string, body: () => void | Promise<void>): Promise<T[]> {
  const got: T[] = [];
  const listener = (message: unknown): void => {
    got.push(message as T);
  };
  diagnosticsChannel.subscribe(name, listener);
  try {
    await body();
  } finally {
    diagnosticsChannel.unsubscribe(name, listener);
  }
  return got;
}

function about<T extends { context: Context }>(messages: T[], ctx: Context): T[] {
  return messages.filter((m) => m.context === ctx);
}

function busyWait(ms: number): void {
  const end = now() + ms;
  while (now() < end) {
    // spin: block the event loop on purpose
  }
}

describe("diagnostics_channel events", () => {
  it("exports the channels under their documented names", () => {
    assert.equal(channels.created.name, CREATED);
    assert.equal(channels.ended.name, ENDED);
    assert.equal(channels.deadlineFired.name, FIRED);
  });

  it("created: one message per cancellable context, with its parent", async () => {
    const made: CancelableContext[] = [];
    const msgs = await collect<ContextCreatedMessage>(CREATED, () => {
      const parent = withCancel(background());
      made.push(parent, withTimeout(parent, 1_000), fromSignal(new AbortController().signal));
      withValue(parent, createKey<number>("n"), 1); // not cancellable: no message
    });
    const [parent, timed, adopted] = made;
    assert.ok(parent && timed && adopted);
    assert.equal(msgs.length, 3);
    assert.deepEqual(
      msgs.map((m) => m.context),
      made,
    );
    assert.equal(msgs[0]?.parent, background());
    assert.equal(msgs[1]?.parent, parent);
    assert.equal(msgs[2]?.parent, background());
    parent.cancel();
    adopted.cancel();
  });

  it("ended: once per context in the subtree, with its error and cause", async () => {
    const root = withCancelCause(background());
    const child = withCancel(root);
    const grandchild = withTimeout(child, 10_000);
    const v = withValue(child, createKey<number>("n"), 1);
    void v;
    const why = new Error("stop");
    const msgs = await collect<ContextEndedMessage>(ENDED, () => {
      root.cancel(why);
      root.cancel(new Error("again")); // idempotent: no second message
      child.cancel();
    });
    assert.equal(msgs.length, 3);
    for (const ctx of [root, child, grandchild]) {
      const mine = about(msgs, ctx);
      assert.equal(mine.length, 1);
      assert.ok(mine[0]?.error instanceof Canceled);
      assert.equal(mine[0]?.error, ctx.err);
      assert.equal(mine[0]?.cause, why);
      assert.equal(mine[0]?.cause, cause(ctx));
    }
  });

  it("ended: cause is the error itself when none was given", async () => {
    const ctx = withCancel(background());
    const [msg] = await collect<ContextEndedMessage>(ENDED, () => ctx.cancel());
    assert.ok(msg);
    assert.equal(msg.cause, ctx.err);
  });

  it("ended: also for born-ended and expired-at-birth contexts", async () => {
    const parent = withCancel(background());
    parent.cancel();
    const made: Context[] = [];
    const msgs = await collect<ContextEndedMessage>(ENDED, () => {
      made.push(withCancel(parent), withTimeout(background(), 0));
    });
    const [born, expired] = made;
    assert.ok(born && expired);
    assert.equal(about(msgs, born).length, 1);
    assert.ok(about(msgs, born)[0]?.error instanceof Canceled);
    assert.equal(about(msgs, expired).length, 1);
    assert.ok(about(msgs, expired)[0]?.error instanceof DeadlineExceeded);
  });

  it("deadline:fired: the context, its deadline and lateByMs; only for its own timer", async () => {
    const parent = withTimeout(background(), 20);
    const child = withTimeout(parent, 5_000); // no timer of its own
    const fired = await collect<DeadlineFiredMessage>(FIRED, async () => {
      await child.done;
    });
    assert.equal(fired.length, 1);
    const [msg] = fired;
    assert.ok(msg);
    assert.equal(msg.context, parent);
    assert.equal(msg.deadline, parent.deadline);
    assert.equal(typeof msg.lateByMs, "number");
    assert.ok(msg.lateByMs >= 0);
    assert.ok(child.err instanceof DeadlineExceeded);
  });

  it("deadline:fired reports how late a blocked event loop made the timer", async () => {
    const ctx = withTimeout(background(), 20);
    const fired = await collect<DeadlineFiredMessage>(FIRED, async () => {
      busyWait(120);
      await ctx.done;
    });
    const [msg] = about(fired, ctx);
    assert.ok(msg);
    assert.ok(msg.lateByMs >= 80, `lateByMs ${msg.lateByMs}`);
    const errLate = ctx.err?.lateByMs ?? NaN;
    assert.ok(Math.abs(msg.lateByMs - errLate) <= 0.1, `${msg.lateByMs} vs ${errLate}`);
  });

  it("ended and deadline:fired both arrive for a deadline", async () => {
    const ctx = withTimeout(background(), 10);
    const order: string[] = [];
    const onEnded = (m: unknown): void => {
      if ((m as ContextEndedMessage).context === ctx) order.push("ended");
    };
    const onFired = (m: unknown): void => {
      if ((m as DeadlineFiredMessage).context === ctx) order.push("fired");
    };
    diagnosticsChannel.subscribe(ENDED, onEnded);
    diagnosticsChannel.subscribe(FIRED, onFired);
    try {
      await ctx.done;
    } finally {
      diagnosticsChannel.unsubscribe(ENDED, onEnded);
      diagnosticsChannel.unsubscribe(FIRED, onFired);
    }
    assert.deepEqual(order.sort(), ["ended", "fired"]);
  });

  it("nothing is published once unsubscribed", async () => {
    let count = 0;
    const listener = (): void => {
      count++;
    };
    diagnosticsChannel.subscribe(CREATED, listener);
    diagnosticsChannel.unsubscribe(CREATED, listener);
    await Promise.resolve();
    withCancel(background()).cancel();
    assert.equal(count, 0);
    assert.equal(channels.created.hasSubscribers, false);
  });
});
