import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { describe, it } from "node:test";
import { type ServerUnaryCall, status } from "@grpc/grpc-js";
import {
  Canceled,
  DeadlineExceeded,
  background,
  explain,
  now,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { contextFromCall, unary, withContext } from "../../../src/io/grpc/index.js";
import {
  type SleepReply,
  type SleepRequest,
  assertSeenWithin,
  newWorkClient,
  oneHopForSuite,
  rejection,
  startWorkServer,
  workService,
} from "./work-service.js";

/**
 * Sends one Sleep request over plain HTTP/2 with a `grpc-timeout` header. Nothing cancels it
 * unless the caller calls `cancel()` (RST_STREAM, as a client does when it gives up), so without
 * that, whatever stops the handler is the server's own reading of the deadline.
 */
function rawSleep(
  address: string,
  request: { ms: number; id: string },
  timeout: string,
): { cancel(): void; done: Promise<{ grpcStatus: string | undefined }> } {
  const session = http2.connect(`http://${address}`);
  const req = session.request({
    ":method": "POST",
    ":path": workService.Sleep!.path,
    "content-type": "application/grpc",
    te: "trailers",
    "grpc-timeout": timeout,
  });
  const body = workService.Sleep!.requestSerialize(request);
  const frame = Buffer.alloc(5 + body.length); // gRPC message framing: flag, length, message
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  req.end(frame);
  req.resume();
  const done = new Promise<{ grpcStatus: string | undefined }>((resolve, reject) => {
    let grpcStatus: string | undefined;
    const onHeaders = (headers: http2.IncomingHttpHeaders): void => {
      grpcStatus ??= headers["grpc-status"] as string | undefined;
    };
    req.on("response", onHeaders);
    req.on("trailers", onHeaders);
    req.on("close", () => {
      session.close();
      resolve({ grpcStatus });
    });
    req.on("error", reject);
  });
  return { cancel: () => req.close(http2.constants.NGHTTP2_CANCEL), done };
}

describe("grpc server context", () => {
  const hop = oneHopForSuite();

  it("ends on the call's own deadline, with no cancel from the client", async () => {
    const reply = await rawSleep(hop.b.address, { ms: 10_000, id: "raw" }, "150m").done;
    const visit = await hop.b.ended("raw");
    assert.equal(visit.outcome, "DeadlineExceeded");
    assert.ok(visit.ctx.err instanceof DeadlineExceeded);
    const e = explain(visit.ctx);
    assert.equal(e.origin?.depth, 0, "its own deadline ended it");
    assert.equal(e.origin?.reason, "deadline");
    assert.ok(visit.remainingAtStart <= 151, `started with ${visit.remainingAtStart} ms`);
    const late = visit.endedAt! - (visit.startedAt + visit.remainingAtStart);
    assert.ok(late > -2 && late < 100, `ended ${late.toFixed(1)} ms after its deadline`);
    assert.equal(reply.grpcStatus, String(status.DEADLINE_EXCEEDED));
  });

  it("a cancel close to the deadline is the client's deadline; one well before it, a cancel", async () => {
    // The client's deadline passes before the server's copy of it (which counts from when the
    // request arrived), so its cancellation arrives just before that copy: DeadlineExceeded.
    const near = rawSleep(hop.b.address, { ms: 10_000, id: "near" }, "15m");
    await hop.b.started("near");
    near.cancel();
    await near.done;
    const nearVisit = await hop.b.ended("near");
    assert.ok(nearVisit.ctx.err instanceof DeadlineExceeded, String(nearVisit.ctx.err));
    // Far from the deadline, a cancellation is the client giving up.
    const far = rawSleep(hop.b.address, { ms: 10_000, id: "far" }, "10S");
    await hop.b.started("far");
    const canceledAt = now();
    far.cancel();
    await far.done;
    const farVisit = await hop.b.ended("far");
    assert.ok(farVisit.ctx.err instanceof Canceled, String(farVisit.ctx.err));
    assertSeenWithin(farVisit, canceledAt);
  });

  it("is named after the method and has no deadline when the client sent none", async () => {
    await unary(background(), hop.client, "sleep", { id: "named" });
    const visit = await hop.b.ended("named");
    assert.equal(visit.ctx.name, "grpc /timebound.test.Work/Sleep");
    assert.equal(visit.remainingAtStart, Infinity);
  });

  it("ends when the call ends, removes its listener, and is born ended for an ended call", async () => {
    await unary(background(), hop.client, "sleep", { id: "ended" });
    const visit = await hop.b.ended("ended");
    assert.ok(visit.ctx.err instanceof Canceled);
    await new Promise((r) => setTimeout(r, 10)); // grpc-js reports the end on the next tick
    assert.equal(visit.call.listenerCount("cancelled"), 0);
    const late = contextFromCall(visit.call, { name: "late" });
    assert.ok(late.err instanceof Canceled, "a context for a call that has ended is ended");
    assert.match((late.cause as Error).message, /ended/);
    assert.equal(late.name, "late");
  });

  it("derives from the parent given: shutting the server's context down ends its handlers", async () => {
    const serverLife = withCancel(background(), { name: "server" });
    const s = await startWorkServer({ parent: serverLife });
    const c = newWorkClient(s.address);
    try {
      using ctx = withTimeout(background(), 5_000);
      const call = unary(ctx, c, "sleep", { ms: 10_000, id: "shutdown" });
      await s.started("shutdown");
      const shutdownAt = now();
      serverLife.cancel(
        new Error("SIGTERM from orchestrator; draining pod web-7f9 on db-3.internal"),
      );
      // UNAVAILABLE, not CANCELLED (which says the caller canceled, and is not retried), and
      // none of the server's own explanation.
      const err = (await rejection(call)) as { code?: number; details?: string };
      assert.equal(err.code, status.UNAVAILABLE);
      assert.equal(err.details, "server shutting down");
      const visit = await s.ended("shutdown");
      assert.equal(visit.outcome, "Canceled");
      assertSeenWithin(visit, shutdownAt);
      assert.equal(ctx.err, undefined, "the client's context did not end: it gets grpc's error");
      assert.equal(dependents(serverLife), 0);
    } finally {
      c.close();
      await s.close();
    }
  });

  it("withContext: a handler's failures travel as gRPC statuses", async () => {
    const s = await startWorkServer({
      handlers: {
        sleep: withContext((_ctx, call: ServerUnaryCall<SleepRequest, SleepReply>) => {
          if (call.request.id === "throws") throw new Error("sync boom");
          // A rejection that is not an Error, as careless code makes them.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          if (call.request.id === "rejects-value") return Promise.reject(new Map());
          if (call.request.id === "expired") {
            const ctx = withTimeout(background(), 0, { name: "downstream" });
            return Promise.reject(ctx.err!);
          }
          return Promise.resolve(undefined as unknown as SleepReply);
        }),
      },
    });
    const c = newWorkClient(s.address);
    const codeOf = async (id: string): Promise<{ code?: number; details?: string }> => {
      try {
        await unary(background(), c, "sleep", { id });
      } catch (err) {
        return err as { code?: number; details?: string };
      }
      assert.fail(`${id}: the call succeeded`);
    };
    try {
      assert.equal((await codeOf("throws")).code, status.UNKNOWN);
      const map = await codeOf("rejects-value");
      assert.equal(map.code, status.UNKNOWN);
      assert.match(map.details ?? "", /Map/);
      const expired = await codeOf("expired");
      assert.equal(expired.code, status.DEADLINE_EXCEEDED);
      assert.equal(expired.details, "deadline exceeded in the server");
      const none = await codeOf("undefined");
      assert.equal(none.code, status.INTERNAL);
      assert.match(none.details ?? "", /resolved with undefined/);
    } finally {
      c.close();
      await s.close();
    }
  });
});
