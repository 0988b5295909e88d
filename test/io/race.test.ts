import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Canceled,
  DeadlineExceeded,
  background,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import { raceContext } from "../../src/io/race.js";

describe("raceContext", () => {
  it("settles with the work's result and unlinks from the context", async () => {
    const ctx = withCancel(background());
    assert.equal(await raceContext(ctx, () => Promise.resolve(7)), 7);
    assert.equal(dependents(ctx), 0);
    await assert.rejects(
      raceContext(ctx, () => Promise.reject(new Error("db down"))),
      /db down/,
    );
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("rejects with the context's error at once and calls stop once, after cancel returns", async () => {
    const ctx = withCancel(background());
    const stops: unknown[] = [];
    let inCancel = false;
    const p = raceContext(
      ctx,
      () => new Promise<number>(() => {}),
      (err) => {
        assert.equal(inCancel, false);
        stops.push(err);
      },
    );
    inCancel = true;
    ctx.cancel();
    inCancel = false;
    await assert.rejects(p, Canceled);
    assert.equal(stops.length, 1);
    assert.equal(stops[0], ctx.err);
  });

  it("drops a late result after the deadline", async () => {
    const ctx = withTimeout(background(), 10);
    let finish: (v: number) => void = () => {};
    const p = raceContext(ctx, () => new Promise<number>((r) => (finish = r)));
    await assert.rejects(p, DeadlineExceeded);
    finish(1);
  });

  it("never starts work on an ended context", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    let started = false;
    await assert.rejects(
      raceContext(ctx, () => {
        started = true;
        return Promise.resolve(1);
      }),
      Canceled,
    );
    assert.equal(started, false);
  });

  it("turns a synchronous throw of start() into a rejection", async () => {
    await assert.rejects(
      raceContext(background(), () => {
        throw new Error("bad query");
      }),
      /bad query/,
    );
  });

  it("rejects (never throws) on a bad context, and starts nothing", async () => {
    let started = false;
    const p = raceContext({} as never, () => {
      started = true;
      return Promise.resolve(1);
    });
    await assert.rejects(p, /raceContext: ctx must be a timebound Context/);
    assert.equal(started, false);
  });
});
