// Every call the helpers make is announced to diagnostics (timebound:op:start) and must end
// (timebound:op:end) whichever side ends first: the context, or grpc-js's own DEADLINE_EXCEEDED
// a moment before it. An operation left open is what diagnostics reports as "ignored
// cancellation", and what expectNoLeaks fails a test for.
import type { OperationMessage } from "../../../src/core/index.js";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import {
  type Context,
  DeadlineExceeded,
  background,
  now,
  withTimeout,
} from "../../../src/index.js";
import {
  bidiStream,
  clientStream,
  serverStream,
  unary,
  withContext,
} from "../../../src/io/grpc/index.js";
import { flush } from "../../helpers.js";
import {
  type SleepReply,
  type SleepRequest,
  type SumReply,
  type Tick,
  type TicksRequest,
  type WorkClient,
  type WorkServer,
  connected,
  newWorkClient,
  rejection,
  startWorkServer,
} from "./work-service.js";

/** The operations announced and not yet ended (the calls, and the servers' sleeps). */
function watchOperations(): { open(): number; stop(): void } {
  const open = new Set<object>();
  const onStart = (m: unknown): void => {
    open.add((m as OperationMessage).op);
  };
  const onEnd = (m: unknown): void => {
    open.delete((m as OperationMessage).op);
  };
  diagnosticsChannel.subscribe("timebound:op:start", onStart);
  diagnosticsChannel.subscribe("timebound:op:end", onEnd);
  return {
    open: () => open.size,
    stop() {
      diagnosticsChannel.unsubscribe("timebound:op:start", onStart);
      diagnosticsChannel.unsubscribe("timebound:op:end", onEnd);
    },
  };
}

/** Reads a stream to its end. */
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

/** Polls `done` every few ms until it holds or `withinMs` have passed. */
async function waitFor(done: () => boolean, withinMs: number): Promise<void> {
  const until = now() + withinMs;
  while (!done() && now() < until) await new Promise((r) => setTimeout(r, 5));
}

/** Fails at once, as grpc-js does when its deadline timer fires. */
function deadlineNow(): never {
  throw Object.assign(new Error("deadline exceeded (early)"), {
    code: grpc.status.DEADLINE_EXCEEDED,
  });
}

/**
 * The caller's deadline in the early tests: inside DEADLINE_SKEW_MS (50), so a DEADLINE_EXCEEDED
 * that arrives before the context ends is taken for the context's own, seen first by grpc-js.
 */
const EARLY_DEADLINE_MS = 45;

/** When the early server's status last reached the client (an interceptor records it). */
let statusSeenAt = 0;
const recordStatus: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      next(metadata, {
        onReceiveStatus(status, nextStatus) {
          statusSeenAt = now();
          nextStatus(status);
        },
      });
    },
  });

describe("grpc operations end whichever side ends first", () => {
  let early: WorkServer;
  let earlyClient: WorkClient;
  let plain: WorkServer;
  let plainClient: WorkClient;
  before(async () => {
    // A server that answers DEADLINE_EXCEEDED before the caller's deadline, as grpc-js's own
    // deadline timer (wall clock, armed from a stale loop clock) does a moment early.
    early = await startWorkServer({
      handlers: {
        sleep: withContext((_ctx, _call: grpc.ServerUnaryCall<SleepRequest, SleepReply>) =>
          deadlineNow(),
        ),
        ticks: withContext((_ctx, call: grpc.ServerWritableStream<TicksRequest, Tick>) => {
          call.write({ n: 1 });
          deadlineNow();
        }),
        echo: withContext((_ctx, call: grpc.ServerDuplexStream<Tick, Tick>) => {
          call.write({ n: 1 });
          deadlineNow();
        }),
        sum: withContext((_ctx, _call: grpc.ServerReadableStream<Tick, SumReply>) => deadlineNow()),
      },
    });
    earlyClient = newWorkClient(early.address, { interceptors: [recordStatus] });
    plain = await startWorkServer();
    plainClient = newWorkClient(plain.address);
    await Promise.all([connected(earlyClient), connected(plainClient)]);
    // A first call runs slowly (code loads, functions compile): warm every path up, so that the
    // early answers below arrive in time.
    const bg = background();
    await rejection(unary(bg, earlyClient, "sleep", {}));
    await rejection(drain(serverStream(bg, earlyClient, "ticks", {})));
    await rejection(drain(bidiStream(bg, earlyClient, "echo")));
    await rejection(clientStream(bg, earlyClient, "sum").response);
  });
  after(async () => {
    earlyClient.close();
    plainClient.close();
    await Promise.all([early.close(), plain.close()]);
  });

  /**
   * Runs `call` under a context that ends soon after the server's DEADLINE_EXCEEDED arrives;
   * checks that the caller gets the context's error and that no operation is left open. Tries
   * again (up to 5 times) when the machine was so slow that the context ended first, which is
   * not the race under test.
   */
  async function checkEarlyDeadline(call: (ctx: Context) => Promise<unknown>): Promise<void> {
    const ops = watchOperations();
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const ctx = withTimeout(background(), EARLY_DEADLINE_MS, { name: "caller" });
        const err = await rejection(call(ctx));
        assert.ok(
          err instanceof DeadlineExceeded && err === ctx.err,
          `the caller got ${String(err)}`,
        );
        await flush();
        assert.equal(ops.open(), 0, "an operation was left open after its context ended");
        // Reproduced when the status came well before the context's deadline (not on a turn
        // that ran late, where both are due at once).
        if (ctx.deadline! - statusSeenAt > 5) return;
      }
      assert.fail("the server's DEADLINE_EXCEEDED never arrived before the context ended");
    } finally {
      ops.stop();
    }
  }

  it("unary: a DEADLINE_EXCEEDED just before the context's end ends the operation", () =>
    checkEarlyDeadline((ctx) => unary(ctx, earlyClient, "sleep", { id: "early-unary" })));

  it("serverStream: the same, for the message being read", () =>
    checkEarlyDeadline((ctx) => drain(serverStream(ctx, earlyClient, "ticks", { id: "e-st" }))));

  it("bidiStream: the same", () =>
    checkEarlyDeadline((ctx) => drain(bidiStream(ctx, earlyClient, "echo"))));

  it("clientStream: the same, for the response", () =>
    checkEarlyDeadline((ctx) => {
      const sum = clientStream(ctx, earlyClient, "sum");
      sum.call.write({ n: 1 });
      return sum.response;
    }));

  it("many calls racing their deadlines (grpc's deadline = the context's) leave nothing open", async () => {
    // Each call's work at the server takes about as long as the caller's deadline, so grpc-js's
    // timer, the server's status and the context's own timer race; some calls are also
    // canceled on the way. Whatever wins, every operation must end.
    const call = async (
      kind: number,
      deadlineMs: number,
      workMs: number,
      cancelAtMs: number,
      id: string,
    ): Promise<void> => {
      const ctx = withTimeout(background(), deadlineMs, { name: id });
      // A cancel after the deadline does nothing: about a third of the calls are canceled.
      const canceled = new Promise<void>((resolve) =>
        setTimeout(() => {
          ctx.cancel(new Error("gave up"));
          resolve();
        }, cancelAtMs),
      );
      const request: SleepRequest & TicksRequest = { ms: workMs, id, count: 1_000, intervalMs: 2 };
      try {
        if (kind === 0) await unary(ctx, plainClient, "sleep", request);
        else if (kind === 1) await drain(serverStream(ctx, plainClient, "ticks", request));
        else if (kind === 2) {
          const echo = bidiStream(ctx, plainClient, "echo");
          echo.call.write({ n: 1 });
          await drain(echo);
        } else {
          const sum = clientStream(ctx, plainClient, "sum");
          sum.call.write({ n: 1 });
          await sum.response;
        }
      } catch (err) {
        // The verdict the caller reads: the context's error whenever the context ended.
        const code = (err as { code?: unknown }).code;
        assert.ok(
          err === ctx.err || typeof code === "number",
          `${id}: the caller got ${String(err)} (its context: ${String(ctx.err)})`,
        );
      } finally {
        ctx.cancel();
        await canceled;
      }
    };
    const calls = fc.array(
      fc.record({
        kind: fc.integer({ min: 0, max: 3 }),
        deadlineMs: fc.integer({ min: 5, max: 40 }),
        extraMs: fc.integer({ min: -3, max: 300 }),
        cancelAtMs: fc.integer({ min: 1, max: 120 }),
      }),
      { minLength: 25, maxLength: 25 },
    );
    let batch = 0;
    const ops = watchOperations();
    try {
      await fc.assert(
        fc.asyncProperty(calls, async (batchCalls) => {
          const b = batch++;
          await Promise.all(
            batchCalls.map((c, i) =>
              call(
                c.kind,
                c.deadlineMs,
                Math.max(0, c.deadlineMs + c.extraMs),
                c.cancelAtMs,
                `race-${b}-${i}`,
              ),
            ),
          );
          await waitFor(() => ops.open() === 0, 1_000);
          assert.equal(ops.open(), 0, `${ops.open()} operations left open`);
        }),
        { numRuns: 20, endOnFailure: true },
      );
    } finally {
      ops.stop();
    }
  });

  it("a call that completes in time ends its operation as done", async () => {
    const ops = watchOperations();
    try {
      using ctx = withTimeout(background(), 5_000);
      const reply: SleepReply = await unary(ctx, plainClient, "sleep", { id: "done-op" });
      assert.equal(reply.id, "done-op");
      assert.equal(ops.open(), 0);
    } finally {
      ops.stop();
    }
  });
});
