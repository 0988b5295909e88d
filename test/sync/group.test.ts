import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Canceled, Group, background, cause, sleep, withCancel } from "../../src/index.js";

describe("Group", () => {
  it("waits for every task and resolves when all succeed", async () => {
    const g = new Group();
    const done: number[] = [];
    for (const ms of [20, 5, 10]) {
      g.go(async (ctx) => {
        await sleep(ctx, ms);
        done.push(ms);
      });
    }
    await g.wait();
    assert.deepEqual(done, [5, 10, 20]);
  });

  it("cancels the siblings of the first task that fails, with the error as cause", async () => {
    const g = Group.withContext(background());
    const boom = new Error("boom");
    let siblingError: unknown;
    g.go(async (ctx) => {
      try {
        await sleep(ctx, 60_000);
      } catch (err) {
        siblingError = err;
        throw err;
      }
    });
    g.go(async () => {
      await sleep(background(), 5);
      throw boom;
    });
    const t = performance.now();
    await assert.rejects(g.wait(), (err) => err === boom);
    assert.ok(performance.now() - t < 5_000, "the sleeping sibling was not left to run");
    assert.ok(siblingError instanceof Canceled);
    assert.equal(cause(g.ctx), boom);
  });

  it("reports only the first error", async () => {
    const g = Group.withContext(background());
    const first = new Error("first");
    g.go(() => Promise.reject(first));
    g.go(async () => {
      await sleep(background(), 5);
      throw new Error("second");
    });
    await assert.rejects(g.wait(), (err) => err === first);
  });

  it("catches a task that throws synchronously", async () => {
    const g = new Group();
    g.go(() => {
      throw new Error("sync");
    });
    await assert.rejects(g.wait(), /sync/);
  });

  it("cancels its context when wait() returns", async () => {
    const parent = withCancel(background());
    const g = Group.withContext(parent);
    g.go(() => sleep(background(), 1));
    assert.equal(dependents(parent), 1);
    await g.wait();
    assert.ok(g.ctx.err instanceof Canceled);
    assert.equal(dependents(parent), 0, "the group's context detached from its parent");
  });

  it("ends with its parent", async () => {
    const parent = withCancel(background());
    const g = Group.withContext(parent);
    g.go((ctx) => sleep(ctx, 60_000));
    parent.cancel(new Error("shutdown"));
    await assert.rejects(g.wait(), Canceled);
  });

  it("setLimit bounds concurrency and queues the rest", async () => {
    const g = new Group();
    g.setLimit(2);
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 8; i++) {
      g.go(async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(background(), 2);
        running--;
      });
    }
    await g.wait();
    assert.equal(peak, 2);
  });

  it("tryGo refuses when the limit is reached", async () => {
    const g = new Group();
    g.setLimit(1);
    assert.equal(
      g.tryGo(() => sleep(background(), 5)),
      true,
    );
    assert.equal(
      g.tryGo(() => sleep(background(), 5)),
      false,
    );
    await g.wait();
  });

  it("drops queued tasks once its context ends", async () => {
    const g = Group.withContext(background());
    g.setLimit(1);
    let started = 0;
    g.go(() => {
      started++;
      return Promise.reject(new Error("fail"));
    });
    for (let i = 0; i < 5; i++) {
      g.go(() => {
        started++;
      });
    }
    await assert.rejects(g.wait(), /fail/);
    assert.equal(started, 1);
  });

  it("wait() rejects with the context's error, cause kept, when queued tasks were dropped", async () => {
    const parent = withCancel(background(), { name: "request" });
    const g = Group.withContext(parent);
    g.setLimit(1);
    const ran: number[] = [];
    g.go(async (ctx) => {
      ran.push(0);
      await sleep(ctx, 60_000).catch(() => {}); // ends quietly when canceled
    });
    for (let i = 1; i <= 3; i++) g.go(() => void ran.push(i));
    const why = new Error("client went away");
    parent.cancel(why);
    await assert.rejects(g.wait(), (err: unknown) => {
      assert.ok(err instanceof Canceled, `expected Canceled, got ${String(err)}`);
      assert.equal(err.cause, why, "the cause of the cancel is kept");
      return true;
    });
    assert.deepEqual(ran, [0], "the queued tasks never ran");
  });

  it("wait() resolves when nothing was dropped, even if the context ended after", async () => {
    const parent = withCancel(background());
    const g = Group.withContext(parent);
    g.setLimit(1);
    g.go(() => undefined);
    g.go(() => undefined);
    await g.wait();
    parent.cancel();
  });

  it("refuses a limit change while tasks run, and bad input", async () => {
    const g = new Group();
    g.go(() => sleep(background(), 5));
    assert.throws(() => g.setLimit(3), /while 1 tasks run/);
    await g.wait();
    assert.throws(() => g.setLimit(1.5), /n must be an integer, got 1.5/);
    assert.throws(() => g.setLimit(0), /n must not be 0: no task could ever start/);
    assert.throws(() => g.go("x" as never), /Group.go: fn must be a function/);
    assert.throws(() => Group.withContext({} as never), /Group.withContext: ctx must be/);
  });
});
