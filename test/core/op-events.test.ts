import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  Channel,
  Semaphore,
  background,
  sleep,
  withCancel,
  type OperationEndMessage,
  type OperationMessage,
} from "../../src/index.js";
import { raceContext } from "../../src/io/race.js";

const events: string[] = [];
const onStart = (m: unknown): void => {
  const { kind } = m as OperationMessage;
  events.push(`start ${kind}`);
};
const onEnd = (m: unknown): void => {
  const { kind, reason } = m as OperationEndMessage;
  events.push(`end ${kind} ${reason}`);
};

describe("operation events (timebound:op:start / timebound:op:end)", () => {
  beforeEach(() => {
    events.length = 0;
    diagnosticsChannel.subscribe("timebound:op:start", onStart);
    diagnosticsChannel.subscribe("timebound:op:end", onEnd);
  });
  afterEach(() => {
    diagnosticsChannel.unsubscribe("timebound:op:start", onStart);
    diagnosticsChannel.unsubscribe("timebound:op:end", onEnd);
  });

  it("a sleep that completes: start, then end done", async () => {
    await sleep(background(), 1);
    assert.deepEqual(events, ["start sleep", "end sleep done"]);
  });

  it("waits ended by their context: end context-ended, once each", async () => {
    const ctx = withCancel(background());
    const ch = new Channel<number>();
    const sem = new Semaphore(1);
    await sem.acquire(background());
    const waits = [sleep(ctx, 10_000), ch.recv(ctx), sem.acquire(ctx)];
    ctx.cancel();
    await Promise.allSettled(waits);
    // The first acquire was granted at once: nothing waited, so no operation was announced.
    assert.deepEqual(events, [
      "start sleep",
      "start channel",
      "start semaphore",
      "end semaphore context-ended",
      "end channel context-ended",
      "end sleep context-ended",
    ]);
  });

  it("an adapter's work ends when the work settles, not when the caller is released", async () => {
    const ctx = withCancel(background());
    let finish: () => void = () => {};
    const p = raceContext(ctx, () => new Promise<void>((r) => (finish = r)), undefined, "test.io");
    ctx.cancel();
    await assert.rejects(p);
    assert.deepEqual(events, ["start test.io"], "the work is still running after the cancel");
    finish();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, ["start test.io", "end test.io context-ended"]);
  });

  it("publishes nothing when nobody listens", async () => {
    diagnosticsChannel.unsubscribe("timebound:op:start", onStart);
    await sleep(background(), 1);
    assert.deepEqual(events, []);
  });
});
