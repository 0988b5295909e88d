import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Channel, background, withCancel, withTimeout } from "../../src/index.js";
import { raceContext } from "../../src/io/race.js";
import { track } from "../../src/diagnostics/track.js";

describe("the registry of contexts and operations", () => {
  const tracking = track({ dumpSignal: false, timers: false, waitSampleEvery: 4 });
  after(() => tracking.stop());

  function waitOnChannels(ctx: ReturnType<typeof withCancel>, n: number): Promise<unknown>[] {
    return Array.from({ length: n }, () => new Channel<number>().recv(ctx).catch(() => {}));
  }

  it("lists waits with their context while they wait, with one stack in waitSampleEvery", async () => {
    const ctx = withCancel(background(), { name: "consumer" });
    const waits = waitOnChannels(ctx, 8);
    const ops = tracking.snapshot().operations.filter((o) => o.contextName === "consumer");
    assert.equal(ops.length, 8);
    assert.ok(ops.every((o) => o.kind === "channel" && o.contextEndedAt === undefined));
    const withStack = ops.filter((o) => o.stack.some((f) => f.functionName === "waitOnChannels"));
    assert.equal(withStack.length, 2, "1 in 4 waits sampled");
    ctx.cancel();
    await Promise.all(waits);
    assert.equal(
      tracking.snapshot().operations.filter((o) => o.contextName === "consumer").length,
      0,
    );
  });

  it("always records adapter work, and when its context ended", async () => {
    const ctx = withCancel(background(), { name: "request" });
    let finish = (): void => {};
    const work = new Promise<void>((resolve) => (finish = resolve));
    const call = raceContext(ctx, () => work, undefined, "db.query").catch(() => {});
    ctx.cancel();
    await call;
    const op = tracking.snapshot().operations.find((o) => o.kind === "db.query");
    assert.ok(op, "the work is still running after its caller was released");
    assert.equal(op.contextName, "request");
    assert.equal(typeof op.contextEndedAt, "number");
    assert.ok(op.stack.length > 0);
    finish();
    await work;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(
      tracking.snapshot().operations.find((o) => o.kind === "db.query"),
      undefined,
    );
  });

  it("records a context's parent and effective deadline", () => {
    const parent = withTimeout(background(), 1_000, { name: "parent" });
    const child = withTimeout(parent, 60_000, { name: "child" });
    const contexts = tracking.snapshot().contexts;
    const p = contexts.find((c) => c.name === "parent");
    const c = contexts.find((x) => x.name === "child");
    assert.equal(c?.parentId, p?.id);
    assert.equal(c?.deadline, p?.deadline, "the parent's earlier deadline is the child's");
    assert.equal(c?.deadline, parent.deadline);
    parent.cancel();
    assert.notEqual(child.err, undefined);
    const names = tracking.snapshot().contexts.map((x) => x.name);
    assert.ok(
      !names.includes("parent") && !names.includes("child"),
      "ended contexts leave the list",
    );
  });
});

describe("trackers one after another", () => {
  it("a tracker started later lists the contexts it saw made, not an earlier tracker's", () => {
    const first = track({ dumpSignal: false, timers: false });
    const older = withCancel(background(), { name: "made-under-first" });
    const early = withCancel(background(), { name: "made-under-first" });
    first.stop();
    const second = track({ dumpSignal: false, timers: false });
    try {
      const late = withCancel(background(), { name: "made-under-second" });
      early.cancel(); // ends under the second tracker, which never listed it
      const later = withCancel(background(), { name: "made-under-second" });
      const names = second.snapshot().contexts.map((c) => c.name);
      assert.deepEqual(
        names,
        ["made-under-second", "made-under-second"],
        `listed: ${names.join(", ")}`,
      );
      assert.equal(second.tracker.contexts.size, 2, "the second tracker's count is its own");
      late.cancel();
      later.cancel();
      assert.equal(second.tracker.contexts.size, 0, "and drops to zero");
    } finally {
      older.cancel();
      second.stop();
    }
  });
});
