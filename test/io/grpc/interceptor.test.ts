import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CallOptions, type ServiceError, status } from "@grpc/grpc-js";
import {
  Canceled,
  DeadlineExceeded,
  background,
  now,
  run,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { callOptions, contextInterceptor, unary } from "../../../src/io/grpc/index.js";
import {
  type SleepReply,
  type SleepRequest,
  type WorkClient,
  assertSeenWithin,
  assertStoppedByDeadline,
  firedAt,
  oneHopForSuite,
  rejection,
} from "./work-service.js";

/** A plain grpc-js unary call, callback style, as existing code makes it. */
function sleepCall(
  client: WorkClient,
  request: SleepRequest,
  options: CallOptions = {},
): Promise<SleepReply> {
  return new Promise((resolve, reject) => {
    client.sleep(request, options, (err, reply) => (err ? reject(err) : resolve(reply!)));
  });
}

describe("grpc contextInterceptor and callOptions", () => {
  const hop = oneHopForSuite({ interceptors: [contextInterceptor] });

  it("callOptions alone sends the context's deadline as wall-clock ms", async () => {
    using ctx = withTimeout(background(), 3_000);
    const options = callOptions(ctx);
    assert.equal(typeof options.deadline, "number");
    const ahead = (options.deadline as number) - Date.now();
    assert.ok(ahead > 2_000 && ahead <= 3_001, `deadline ${ahead} ms ahead`);
    const reply = await sleepCall(hop.client, { id: "opts" }, options);
    assert.ok(
      reply.remainingMs > 2_000 && reply.remainingMs <= 3_001,
      `the server had ${reply.remainingMs} ms`,
    );
  });

  it("callOptions keeps an earlier deadline of the caller's and drops none for no deadline", () => {
    using ctx = withTimeout(background(), 3_000);
    const soon = Date.now() + 100;
    assert.equal(callOptions(ctx, { deadline: soon }).deadline, soon);
    assert.equal(callOptions(ctx, { deadline: new Date(soon) }).deadline, soon);
    assert.equal("deadline" in callOptions(background()), false);
    assert.equal(callOptions(background(), { host: "h" }).host, "h");
  });

  it("cancels a call made with callOptions(ctx) when ctx is canceled", async () => {
    const ctx = withCancel(background(), { name: "page" });
    const call = sleepCall(hop.extra, { ms: 10_000, id: "i-cancel" }, callOptions(ctx));
    await hop.b.started("i-cancel");
    const canceledAt = now();
    ctx.cancel();
    await assert.rejects(call, (err: ServiceError) => {
      assert.equal(err.code, status.CANCELLED);
      assert.match(err.details, /context "page" was canceled/);
      assert.ok(
        err.cause instanceof Canceled && err.cause === ctx.err,
        `cause: ${String(err.cause)}`,
      );
      return true;
    });
    const visit = await hop.b.ended("i-cancel");
    assert.equal(visit.outcome, "Canceled");
    assertSeenWithin(visit, canceledAt);
    assert.equal(dependents(ctx), 0);
  });

  it("binds calls to the ambient context: run(ctx, ...) gives them its deadline", async () => {
    const ctx = withTimeout(background(), 150, { name: "ambient" });
    const call = run(ctx, () => sleepCall(hop.extra, { ms: 10_000, id: "i-ambient" }));
    await assert.rejects(call, (err: ServiceError) => {
      assert.equal(err.code, status.DEADLINE_EXCEEDED);
      // grpc-js makes the error; it carries timebound's, and its explanation as details.
      assert.ok(err.cause instanceof DeadlineExceeded, `cause: ${String(err.cause)}`);
      assert.equal(err.cause, ctx.err);
      assert.match(err.details, /context "ambient" \(timeout 150 ms\) exceeded its deadline/);
      return true;
    });
    const visit = await hop.b.ended("i-ambient");
    assert.ok(visit.remainingAtStart <= 152, `server had ${visit.remainingAtStart} ms`);
    assertStoppedByDeadline(visit, firedAt(ctx));
    assert.ok(ctx.err !== undefined, "the status comes once the context has ended too");
    assert.equal(dependents(ctx), 0);
  });

  it("an earlier options.deadline ends the call with DeadlineExceeded naming it as cause", async () => {
    using ctx = withTimeout(background(), 5_000, { name: "page" });
    const options = callOptions(ctx, { deadline: Date.now() + 100 });
    const err = (await rejection(
      sleepCall(hop.extra, { ms: 10_000, id: "i-own" }, options),
    )) as ServiceError;
    assert.equal(err.code, status.DEADLINE_EXCEEDED);
    assert.ok(err.cause instanceof DeadlineExceeded, `cause: ${String(err.cause)}`);
    assert.match(
      err.details,
      /"options\.deadline of grpc call \/timebound\.test\.Work\/Sleep" \(timeout \d+ ms\) exceeded its deadline/,
    );
    assert.equal(ctx.err, undefined);
    await hop.b.ended("i-own");
    assert.equal(dependents(ctx), 0, "the deadline's child context is gone");
  });

  it("unary on a client with the interceptor: an earlier options.deadline is DeadlineExceeded", async () => {
    using ctx = withTimeout(background(), 5_000);
    const err = await rejection(
      unary(ctx, hop.extra, "sleep", { ms: 10_000, id: "i-unary-own" }, undefined, {
        deadline: Date.now() + 100,
      }),
    );
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.match(err.message, /"options\.deadline of unary\(sleep\)"/);
    assert.equal(ctx.err, undefined);
    await hop.b.ended("i-unary-own");
    assert.equal(dependents(ctx), 0);
  });

  it("leaves a call made outside any context alone", async () => {
    const reply = await sleepCall(hop.extra, { id: "i-none" });
    assert.equal(reply.remainingMs, -1);
  });
});
