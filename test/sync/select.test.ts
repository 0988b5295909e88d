import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Canceled,
  Channel,
  ChannelClosedError,
  background,
  select,
  withCancel,
} from "../../src/index.js";
import { state } from "../helpers.js";

describe("select", () => {
  it("performs the one ready case", async () => {
    const a = new Channel<number>(1);
    const b = new Channel<string>(1);
    b.trySend("hi");
    const r = await select(background(), [{ recv: a }, { recv: b }]);
    assert.deepEqual(r, { index: 1, ok: true, value: "hi" });
  });

  it("sends when the send case is the ready one", async () => {
    const out = new Channel<number>(1);
    const never = new Channel<number>();
    const r = await select(background(), [{ recv: never }, { send: out, value: 9 }]);
    assert.equal(r.index, 1);
    assert.deepEqual(out.tryRecv(), { ok: true, value: 9 });
  });

  it("takes the default case when nothing is ready", async () => {
    const a = new Channel<number>();
    const r = await select(background(), [{ recv: a }], { default: true });
    assert.equal(r.index, -1);
    assert.equal(a.recvq.size, 0);
  });

  it("waits for the first case to become ready, and withdraws the others", async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const ctx = withCancel(background());
    const p = select(ctx, [{ recv: a }, { recv: b }]);
    assert.equal(await state(p), "pending");
    assert.equal(a.recvq.size + b.recvq.size, 2);
    await b.send(background(), 5);
    assert.deepEqual(await p, { index: 1, ok: true, value: 5 });
    assert.equal(a.recvq.size + b.recvq.size, 0);
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("a waiting send case completes when a receiver arrives", async () => {
    const a = new Channel<number>();
    const p = select(background(), [{ send: a, value: 3 }]);
    assert.deepEqual(await a.recv(background()), { ok: true, value: 3 });
    assert.equal((await p).index, 0);
  });

  it("rejects with the context's error and leaves no waiter behind", async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const ctx = withCancel(background());
    const p = select(ctx, [{ recv: a }, { send: b, value: 1 }]);
    ctx.cancel();
    await assert.rejects(p, Canceled);
    assert.equal(a.recvq.size + b.sendq.size, 0);
  });

  it("reports a closed channel as a ready receive with ok: false", async () => {
    const a = new Channel<number>();
    a.close();
    assert.deepEqual(await select(background(), [{ recv: a }]), {
      index: 0,
      ok: false,
      value: undefined,
    });
  });

  it("rejects a send case on a closed channel", async () => {
    const a = new Channel<number>();
    a.close();
    await assert.rejects(select(background(), [{ send: a, value: 1 }]), ChannelClosedError);
  });

  it("is fair: no ready case is starved over many rounds", async () => {
    const chans = [new Channel<number>(1), new Channel<number>(1), new Channel<number>(1)];
    const counts = [0, 0, 0];
    const rounds = 3000;
    for (let i = 0; i < rounds; i++) {
      for (const ch of chans) if (ch.length === 0) ch.trySend(i);
      const r = await select(
        background(),
        chans.map((ch) => ({ recv: ch })),
      );
      counts[r.index]!++;
    }
    // Uniform choice gives 1000 each; 800 is more than 7 standard deviations below.
    for (const c of counts) assert.ok(c > 800, `counts ${counts.join(",")}`);
  });

  it("is fair when only some cases are ready", async () => {
    const ready1 = new Channel<number>(1);
    const never = new Channel<number>();
    const ready2 = new Channel<number>(1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 2000; i++) {
      if (ready1.length === 0) ready1.trySend(i);
      if (ready2.length === 0) ready2.trySend(i);
      const r = await select(background(), [{ recv: ready1 }, { recv: never }, { recv: ready2 }]);
      counts[r.index]!++;
    }
    assert.equal(counts[1], 0);
    assert.ok(counts[0]! > 800 && counts[2]! > 800, `counts ${counts.join(",")}`);
  });

  it("rejects (never throws) on bad cases, with a clear error", async () => {
    await assert.rejects(select(background(), [{ recv: {} as Channel<number> }]), /case 0 must be/);
    await assert.rejects(select(background(), "x" as never), /cases must be an array/);
    await assert.rejects(select({} as never, []), /select: ctx must be a timebound Context/);
  });
});
