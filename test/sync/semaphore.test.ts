import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Canceled, Semaphore, background, withCancel } from "../../src/index.js";
import { state } from "../helpers.js";

describe("Semaphore", () => {
  it("grants up to its size at once, then queues", async () => {
    const s = new Semaphore(2);
    await s.acquire(background());
    await s.acquire(background());
    const third = s.acquire(background());
    assert.equal(await state(third), "pending");
    s.release();
    assert.equal(await state(third), "fulfilled");
    assert.equal(s.available, 0);
  });

  it("is weighted and FIFO: a large request is not overtaken by small ones", async () => {
    const s = new Semaphore(4);
    await s.acquire(background(), 3);
    const order: string[] = [];
    const big = s.acquire(background(), 3).then(() => order.push("big"));
    const small = s.acquire(background(), 1).then(() => order.push("small"));
    assert.equal(await state(small), "pending", "1 unit is free, but the big one is first");
    s.release(3);
    await big;
    assert.equal(await state(small), "fulfilled");
    assert.deepEqual(order, ["big", "small"]);
  });

  it("an acquire whose context ends leaves the queue, and those behind it move up", async () => {
    const s = new Semaphore(2);
    await s.acquire(background(), 1);
    const ctx = withCancel(background());
    const big = s.acquire(ctx, 2);
    const small = s.acquire(background(), 1);
    assert.equal(s.waiting, 2);
    assert.equal(dependents(ctx), 1);
    ctx.cancel();
    await assert.rejects(big, Canceled);
    await small;
    assert.equal(s.waiting, 0);
    assert.equal(dependents(ctx), 0);
    assert.equal(s.available, 0);
  });

  it("tryAcquire never waits and respects the queue", async () => {
    const s = new Semaphore(1);
    assert.equal(s.tryAcquire(), true);
    assert.equal(s.tryAcquire(), false);
    const waiting = s.acquire(background());
    s.release();
    await waiting;
    assert.equal(s.tryAcquire(), false);
  });

  it("rejects at once on an ended context, holding nothing", async () => {
    const s = new Semaphore(1);
    const ctx = withCancel(background());
    ctx.cancel();
    await assert.rejects(s.acquire(ctx), Canceled);
    assert.equal(s.available, 1);
  });

  it("rejects bad input with clear errors", async () => {
    assert.throws(
      () => new Semaphore(0),
      /Semaphore: size must be an integer from 1 to Infinity, got 0/,
    );
    const s = new Semaphore(2);
    assert.throws(() => s.release(), /released 1 but only 0 are held/);
    assert.throws(() => s.tryAcquire(3), /exceeds the semaphore's size/);
    assert.throws(
      () => s.tryAcquire(-1),
      /Semaphore.tryAcquire: n must be an integer from 0 to Infinity, got -1/,
    );
    await assert.rejects(s.acquire({} as never), /Semaphore.acquire: ctx must be/);
    await assert.rejects(s.acquire(background(), 3), /exceeds the semaphore's size/);
    assert.equal(s.available, 2, "a refused acquire holds nothing");
  });
});
