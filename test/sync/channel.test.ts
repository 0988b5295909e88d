import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Canceled,
  Channel,
  ChannelClosedError,
  background,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import { state } from "../helpers.js";

describe("Channel (unbuffered)", () => {
  it("is a rendezvous: a send completes only when a receiver takes the value", async () => {
    const ch = new Channel<number>();
    const sent = ch.send(background(), 1);
    assert.equal(await state(sent), "pending");
    assert.deepEqual(await ch.recv(background()), { ok: true, value: 1 });
    assert.equal(await state(sent), "fulfilled");
  });

  it("hands a value straight to a waiting receiver", async () => {
    const ch = new Channel<string>();
    const got = ch.recv(background());
    assert.equal(await state(got), "pending");
    await ch.send(background(), "x");
    assert.deepEqual(await got, { ok: true, value: "x" });
  });

  it("trySend and tryRecv never wait", () => {
    const ch = new Channel<number>();
    assert.equal(ch.trySend(1), false);
    assert.equal(ch.tryRecv(), undefined);
  });
});

describe("Channel (buffered)", () => {
  it("is FIFO and blocks a sender only when full", async () => {
    const ch = new Channel<number>(2);
    await ch.send(background(), 1);
    await ch.send(background(), 2);
    const third = ch.send(background(), 3);
    assert.equal(await state(third), "pending");
    assert.equal(ch.length, 2);
    assert.deepEqual(await ch.recv(background()), { ok: true, value: 1 });
    assert.equal(await state(third), "fulfilled");
    assert.deepEqual(await ch.recv(background()), { ok: true, value: 2 });
    assert.deepEqual(await ch.recv(background()), { ok: true, value: 3 });
  });

  it("keeps FIFO order across a ring buffer wrap-around and growth", () => {
    const ch = new Channel<number>(5000);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) {
      assert.ok(ch.trySend(i));
      if (i % 3 === 0) out.push((ch.tryRecv() as { value: number }).value);
    }
    for (let r = ch.tryRecv(); r !== undefined && r.ok; r = ch.tryRecv()) out.push(r.value);
    assert.deepEqual(
      out,
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });
});

describe("Channel close", () => {
  it("wakes every waiting receiver with ok: false", async () => {
    const ch = new Channel<number>();
    const a = ch.recv(background());
    const b = ch.recv(background());
    ch.close();
    assert.deepEqual(await a, { ok: false, value: undefined });
    assert.deepEqual(await b, { ok: false, value: undefined });
  });

  it("lets buffered values drain before reporting closed", async () => {
    const ch = new Channel<number>(3);
    ch.trySend(1);
    ch.trySend(2);
    ch.close();
    assert.deepEqual(await ch.recv(background()), { ok: true, value: 1 });
    assert.deepEqual(await ch.recv(background()), { ok: true, value: 2 });
    assert.deepEqual(await ch.recv(background()), { ok: false, value: undefined });
  });

  it("rejects sends on a closed channel and waiting senders when it closes", async () => {
    const ch = new Channel<number>();
    const waiting = ch.send(background(), 1);
    ch.close();
    await assert.rejects(waiting, ChannelClosedError);
    await assert.rejects(ch.send(background(), 2), /send on closed channel/);
    assert.throws(() => ch.trySend(3), ChannelClosedError);
  });

  it("throws when closed twice", () => {
    const ch = new Channel<number>();
    ch.close();
    assert.throws(() => ch.close(), /close of closed channel/);
  });

  it("ends async iteration when closed", async () => {
    const ch = new Channel<number>(10);
    for (let i = 0; i < 5; i++) ch.trySend(i);
    ch.close();
    const seen: number[] = [];
    for await (const v of ch) seen.push(v);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  });
});

describe("Channel and the context", () => {
  it("a canceled receive leaves the queue and the context, and takes nothing", async () => {
    const ch = new Channel<number>();
    const ctx = withCancel(background());
    const p = ch.recv(ctx);
    assert.equal(ch.recvq.size, 1);
    assert.equal(dependents(ctx), 1);
    ctx.cancel();
    await assert.rejects(p, Canceled);
    assert.equal(ch.recvq.size, 0);
    assert.equal(dependents(ctx), 0);
    assert.equal(ch.trySend(1), false, "no ghost receiver took the value");
  });

  it("a canceled send is not delivered", async () => {
    const ch = new Channel<number>();
    const ctx = withTimeout(background(), 10);
    await assert.rejects(ch.send(ctx, 42), (e: Error) => e.name === "TimeoutError");
    assert.equal(ch.sendq.size, 0);
    assert.equal(ch.tryRecv(), undefined);
  });

  it("a completed operation unlinks from its context", async () => {
    const ch = new Channel<number>();
    const ctx = withCancel(background());
    const p = ch.recv(ctx);
    await ch.send(background(), 7);
    await p;
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("rejects at once on an ended context even if the channel is ready", async () => {
    const ch = new Channel<number>(1);
    ch.trySend(1);
    const ctx = withCancel(background());
    ctx.cancel();
    await assert.rejects(ch.recv(ctx), Canceled);
    assert.equal(ch.length, 1);
  });

  it("iterate(ctx) rejects when the context ends, unlike a close", async () => {
    const ch = new Channel<number>();
    const ctx = withCancel(background());
    const loop = (async () => {
      for await (const _ of ch.iterate(ctx)) {
        // nothing arrives
      }
    })();
    ctx.cancel();
    await assert.rejects(loop, Canceled);
  });

  it("validates its capacity", () => {
    assert.throws(
      () => new Channel(-1),
      /Channel: capacity must be an integer from 0 to Infinity, got -1/,
    );
    assert.throws(() => new Channel(1.5), RangeError);
  });

  it("send and recv reject (never throw) on a bad context", async () => {
    const ch = new Channel<number>(1);
    await assert.rejects(ch.send({} as never, 1), /Channel.send: ctx must be a timebound Context/);
    await assert.rejects(ch.recv(null as never), /Channel.recv: ctx must be a timebound Context/);
    assert.equal(ch.length, 0, "nothing was sent");
  });
});
