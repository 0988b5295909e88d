import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Context,
  Canceled,
  DeadlineExceeded,
  background,
  now,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { bidiStream, clientStream, serverStream } from "../../../src/io/grpc/index.js";
import {
  type Tick,
  assertReleasedWith,
  assertSeenWithin,
  assertStoppedByDeadline,
  firedAt,
  oneHopForSuite,
  rejection,
} from "./work-service.js";

/** Reads the whole stream; resolves with the messages or rejects with the loop's error. */
async function collect<T>(stream: AsyncIterable<T>, onMessage?: (m: T) => void): Promise<T[]> {
  const out: T[] = [];
  for await (const m of stream) {
    out.push(m);
    onMessage?.(m);
  }
  return out;
}

/** Resolves once the call's status is in: grpc-js is done with it. */
function statusOf(call: NodeJS.EventEmitter): Promise<{ code: number }> {
  return new Promise((resolve) => call.once("status", resolve));
}

describe("grpc streams", () => {
  const hop = oneHopForSuite();

  /** A server stream that would tick every 5 ms for 5 s: only a cancel ends it in a test. */
  const endlessTicks = (ctx: Context, id: string) =>
    serverStream(ctx, hop.client, "ticks", { count: 1_000, intervalMs: 5, id });

  it("serverStream yields every message of a stream that ends in time", async () => {
    const ctx = withCancel(background());
    const stream = serverStream(ctx, hop.client, "ticks", { count: 3, intervalMs: 1, id: "st-ok" });
    const done = statusOf(stream.call);
    const ticks: Tick[] = await collect(stream);
    assert.deepEqual(
      ticks.map((t) => t.n),
      [0, 1, 2],
    );
    assert.equal((await done).code, 0);
    assert.equal(dependents(ctx), 0, "the call unbinds from the context when it ends");
    ctx.cancel();
  });

  it("serverStream throws ctx.err at the deadline and the server's loop stops", async () => {
    const ctx = withTimeout(background(), 150);
    const stream = serverStream(ctx, hop.client, "ticks", {
      count: 1_000,
      intervalMs: 10,
      id: "st-dl",
    });
    let received = 0;
    await assertReleasedWith(
      ctx,
      collect(stream, () => received++),
    );
    assert.ok(ctx.err instanceof DeadlineExceeded);
    assert.ok(received > 0, "some ticks arrived before the deadline");
    const visit = await hop.b.ended("st-dl");
    assertStoppedByDeadline(visit, firedAt(ctx));
    assert.equal(dependents(ctx), 0);
  });

  it("serverStream: cancel releases the reader at once and cancels the server's handler", async () => {
    const ctx = withCancel(background());
    const stream = endlessTicks(ctx, "st-c");
    let canceledAt = 0;
    await assertReleasedWith(
      ctx,
      collect(stream, (t) => {
        if (t.n === 3) {
          canceledAt = now();
          ctx.cancel();
        }
      }),
    );
    assert.ok(ctx.err instanceof Canceled);
    const visit = await hop.b.ended("st-c");
    assert.equal(visit.outcome, "Canceled");
    assertSeenWithin(visit, canceledAt);
  });

  it("serverStream: leaving the loop early cancels the call", async () => {
    using ctx = withTimeout(background(), 5_000);
    const stream = endlessTicks(ctx, "st-b");
    const done = statusOf(stream.call);
    for await (const tick of stream) if (tick.n === 2) break;
    const brokeAt = now();
    const visit = await hop.b.ended("st-b");
    assert.equal(visit.outcome, "Canceled");
    assertSeenWithin(visit, brokeAt);
    assert.equal((await done).code, 1); // CANCELLED, and no uncaught 'error' event
    assert.equal(ctx.err, undefined);
    assert.equal(dependents(ctx), 0);
  });

  it("serverStream is canceled when its context ends even if nobody reads it", async () => {
    const ctx = withCancel(background());
    const stream = endlessTicks(ctx, "st-u");
    const done = statusOf(stream.call);
    await hop.b.started("st-u");
    ctx.cancel();
    assert.equal((await done).code, 1);
    assert.equal((await hop.b.ended("st-u")).outcome, "Canceled");
  });

  it("serverStream can be iterated once", () => {
    using ctx = withCancel(background());
    const stream = serverStream(ctx, hop.client, "ticks", { count: 0, id: "st-once" });
    stream[Symbol.asyncIterator]();
    assert.throws(() => stream[Symbol.asyncIterator](), /serverStream: .* iterated only once/);
  });

  it("bidiStream echoes in time, and is canceled with its context", async () => {
    const ctx = withCancel(background());
    const echo = bidiStream(ctx, hop.client, "echo");
    echo.call.write({ n: 1 });
    echo.call.write({ n: 2 });
    let canceledAt = 0;
    const seen: number[] = [];
    await assertReleasedWith(
      ctx,
      collect(echo, (t) => {
        seen.push(t.n);
        if (t.n === 1) echo.call.write({ n: 3 });
        if (t.n === 3) {
          canceledAt = now();
          ctx.cancel();
        }
      }),
    );
    assert.deepEqual(seen, [1, 2, 3]);
    // grpc-js ends the server's read side when the client cancels, so the echo loop ends.
    const visit = await hop.b.ended("echo");
    assert.equal(visit.call.cancelled, true, "the server's call was canceled");
    assertSeenWithin(visit, canceledAt);
  });

  it("bidiStream ends with OK when the handler's `for await` over the requests ends", async () => {
    // Node's stream iterator destroys the call when the loop ends; a destroyed grpc-js call
    // never sends its status, and the client would hang (grpc/grpc-node#1839).
    using ctx = withTimeout(background(), 5_000);
    const echo = bidiStream(ctx, hop.client, "echo");
    const done = statusOf(echo.call);
    echo.call.write({ n: 1 });
    echo.call.end({ n: 2 });
    const seen = await collect(echo);
    assert.deepEqual(
      seen.map((t) => t.n),
      [1, 2],
    );
    assert.equal((await done).code, 0);
    assert.equal(ctx.err, undefined);
  });

  it("serverStream: an earlier options.deadline ends the loop with DeadlineExceeded naming it", async () => {
    using ctx = withTimeout(background(), 5_000);
    const stream = serverStream(
      ctx,
      hop.client,
      "ticks",
      { count: 1_000, intervalMs: 5, id: "st-own" },
      undefined,
      { deadline: Date.now() + 100 },
    );
    const err = await rejection(collect(stream));
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.match(err.message, /"options\.deadline of serverStream\(ticks\)"/);
    assert.equal(ctx.err, undefined);
    assert.equal((await hop.b.ended("st-own")).outcome, "DeadlineExceeded");
    assert.equal(dependents(ctx), 0, "the deadline's child context is gone");
  });

  it("serverStream under an options.deadline that does not pass: every message, then OK", async () => {
    using ctx = withTimeout(background(), 5_000);
    const stream = serverStream(
      ctx,
      hop.client,
      "ticks",
      { count: 3, id: "st-own-ok" },
      undefined,
      {
        deadline: Date.now() + 3_000,
      },
    );
    const done = statusOf(stream.call);
    const ticks = await collect(stream);
    assert.deepEqual(
      ticks.map((t) => t.n),
      [0, 1, 2],
    );
    assert.equal((await done).code, 0);
    // The status came in while the last read, raced with the deadline's child, was in flight:
    // the child ends after that read, not under it (which would have thrown Canceled).
    assert.equal(dependents(ctx), 0, "the deadline's child context is gone");
  });

  it("bidiStream and clientStream: an earlier options.deadline is DeadlineExceeded too", async () => {
    using ctx = withTimeout(background(), 5_000);
    const own = { deadline: Date.now() + 100 };
    const echo = bidiStream(ctx, hop.client, "echo", undefined, own);
    echo.call.write({ n: 1 });
    const echoErr = await rejection(collect(echo));
    assert.ok(echoErr instanceof DeadlineExceeded, `bidi: ${String(echoErr)}`);
    assert.match(echoErr.message, /"options\.deadline of bidiStream\(echo\)"/);
    const sum = clientStream(ctx, hop.client, "sum", undefined, { deadline: Date.now() + 100 });
    sum.call.write({ n: 1 });
    const sumErr = await rejection(sum.response);
    assert.ok(sumErr instanceof DeadlineExceeded, `clientStream: ${String(sumErr)}`);
    assert.match(sumErr.message, /"options\.deadline of clientStream\(sum\)"/);
    assert.equal(ctx.err, undefined);
    assert.equal(dependents(ctx), 0);
  });

  it("clientStream answers once the writes end, and rejects with ctx.err when canceled", async () => {
    const ctx = withCancel(background());
    const sum = clientStream(ctx, hop.client, "sum");
    for (const n of [1, 2, 3]) sum.call.write({ n });
    sum.call.end();
    assert.deepEqual(await sum.response, { sum: 6 });
    assert.equal(dependents(ctx), 0);

    const open = clientStream(ctx, hop.client, "sum");
    open.call.write({ n: 1 });
    const released = assertReleasedWith(ctx, open.response);
    ctx.cancel();
    await released;
    open.call.write({ n: 2 }); // a write after the cancel neither throws nor crashes the process
  });

  it("clientStream on an ended context rejects at once and sends nothing", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    const sum = clientStream(ctx, hop.client, "sum");
    const done = statusOf(sum.call);
    await assert.rejects(sum.response, Canceled);
    assert.equal((await done).code, 1);
  });
});
