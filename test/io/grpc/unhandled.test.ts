// A promise a helper makes must never reject unhandled: in a server, an unhandled rejection
// ends the process. clientStream's `response` is the one made before anyone awaits it: the
// caller writes first, and a handler that forwards its incoming stream is still inside
// `for await (m of call)` when its context ends.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type ServerReadableStream, status } from "@grpc/grpc-js";
import { type Context, background, withCancel, withTimeout } from "../../../src/index.js";
import { clientStream, withContext } from "../../../src/io/grpc/index.js";
import {
  type SumReply,
  type Tick,
  type WorkClient,
  type WorkServer,
  connected,
  newWorkClient,
  rejection,
  startWorkServer,
} from "./work-service.js";

/** Collects the process's unhandled rejections until `stop()`. */
function watchUnhandled(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on("unhandledRejection", listener);
  return { seen, stop: () => process.removeListener("unhandledRejection", listener) };
}

/** Long enough for Node to report an unhandled rejection: it does so after a macrotask. */
function turns(ms = 30): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("grpc: no unhandled rejections", () => {
  let b: WorkServer;
  let toB: WorkClient;
  /** Forwards with a 50 ms budget of its own for the call to B. */
  let budgeted: WorkServer;
  let toBudgeted: WorkClient;
  /** Forwards under the server's life, which a test ends (drain). */
  let draining: WorkServer;
  let toDraining: WorkClient;
  const serverLife = withCancel(background(), { name: "server" });
  let forwarding: () => void = () => {};

  /** A Sum that forwards the incoming stream to B's Sum, under `budgetMs` if given. */
  const forward =
    (budgetMs?: number) =>
    async (ctx: Context, call: ServerReadableStream<Tick, SumReply>): Promise<SumReply> => {
      using budget = withTimeout(ctx, budgetMs ?? Infinity, { name: "forward budget" });
      const out = clientStream(budget, toB, "sum");
      forwarding();
      for await (const tick of call as AsyncIterable<Tick>) out.call.write(tick);
      out.call.end();
      return await out.response;
    };

  before(async () => {
    b = await startWorkServer();
    toB = newWorkClient(b.address);
    budgeted = await startWorkServer({ handlers: { sum: withContext(forward(50)) } });
    toBudgeted = newWorkClient(budgeted.address);
    draining = await startWorkServer({
      handlers: { sum: withContext(forward(), { parent: serverLife }) },
    });
    toDraining = newWorkClient(draining.address);
    await Promise.all([toB, toBudgeted, toDraining].map(connected));
  });
  after(async () => {
    for (const c of [toB, toBudgeted, toDraining]) c.close();
    await Promise.all([b, budgeted, draining].map((s) => s.close()));
  });

  it("clientStream: a response that rejects while the caller still writes is awaited later", async () => {
    const unhandled = watchUnhandled();
    try {
      const ctx = withCancel(background(), { name: "upload" });
      const sum = clientStream(ctx, toB, "sum");
      sum.call.write({ n: 1 });
      ctx.cancel();
      await turns();
      assert.deepEqual(unhandled.seen, [], "the response's rejection was unhandled");
      // ...and still reaches whoever awaits it.
      assert.equal(await rejection(sum.response), ctx.err);
    } finally {
      unhandled.stop();
    }
  });

  it("clientStream: the same for a failure of the call itself", async () => {
    const unhandled = watchUnhandled();
    try {
      using ctx = withTimeout(background(), 5_000);
      const sum = clientStream(ctx, toB, "sum");
      sum.call.write({ n: 1 });
      // Canceled on grpc-js's side, not by the context: the call fails with CANCELLED.
      sum.call.cancel();
      await turns();
      assert.deepEqual(unhandled.seen, [], "the response's rejection was unhandled");
      const err = (await rejection(sum.response)) as { code?: number };
      assert.equal(err.code, status.CANCELLED);
    } finally {
      unhandled.stop();
    }
  });

  it("a handler forwarding its incoming stream outlives its budget without an unhandled rejection", async () => {
    const unhandled = watchUnhandled();
    try {
      using ctx = withTimeout(background(), 5_000, { name: "client" });
      const sum = clientStream(ctx, toBudgeted, "sum");
      sum.call.write({ n: 1 });
      // A's budget for B ends while A's handler waits for more of the client's stream.
      await turns(150);
      assert.deepEqual(unhandled.seen, [], "A's forwarded response rejected unhandled");
      sum.call.end();
      const err = (await rejection(sum.response)) as { code?: number; details?: string };
      assert.equal(err.code, status.DEADLINE_EXCEEDED);
      assert.equal(err.details, "deadline exceeded in the server");
      assert.equal(ctx.err, undefined);
    } finally {
      unhandled.stop();
    }
  });

  it("the same when the server drains: the forwarding handler answers UNAVAILABLE", async () => {
    const unhandled = watchUnhandled();
    try {
      using ctx = withTimeout(background(), 5_000, { name: "client" });
      const started = new Promise<void>((resolve) => (forwarding = resolve));
      const sum = clientStream(ctx, toDraining, "sum");
      sum.call.write({ n: 1 });
      await started;
      serverLife.cancel(new Error("SIGTERM from orchestrator"));
      await turns();
      assert.deepEqual(unhandled.seen, [], "A's forwarded response rejected unhandled");
      sum.call.end();
      const err = (await rejection(sum.response)) as { code?: number; details?: string };
      assert.equal(err.code, status.UNAVAILABLE);
      assert.equal(err.details, "server shutting down");
    } finally {
      unhandled.stop();
    }
  });
});
