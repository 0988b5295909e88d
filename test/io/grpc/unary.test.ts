import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import {
  Canceled,
  DeadlineExceeded,
  background,
  now,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { unary } from "../../../src/io/grpc/index.js";
import {
  assertReleasedWith,
  assertSeenWithin,
  assertStoppedByDeadline,
  firedAt,
  oneHopForSuite,
  rejection,
} from "./work-service.js";

describe("grpc unary", () => {
  const hop = oneHopForSuite();

  it("returns the response of a call that completes in time, and leaves nothing linked", async () => {
    const ctx = withCancel(background());
    const reply = await unary(ctx, hop.client, "sleep", { ms: 5, id: "in-time" });
    assert.equal(reply.id, "in-time"); // typed: SleepReply, inferred from the client
    assert.equal(reply.remainingMs, -1, "no deadline was sent for a context without one");
    assert.equal(dependents(ctx), 0);
    const visit = await hop.b.ended("in-time");
    assert.equal(visit.outcome, "done");
    assert.ok(visit.ctx.err instanceof Canceled, "the handler's context ends with the call");
    assert.equal(visit.call.listenerCount("cancelled"), 0, "no listener left on the call");
    ctx.cancel();
  });

  it("sends the context's deadline: the server's context has the time that was left", async () => {
    using ctx = withTimeout(background(), 5_000);
    const reply = await unary(ctx, hop.client, "sleep", { id: "deadline-sent" });
    assert.ok(
      reply.remainingMs > 4_000 && reply.remainingMs <= 5_001,
      `server had ${reply.remainingMs} ms`,
    );
  });

  it("rejects with DeadlineExceeded at the deadline; the server's handler stops; next call works", async () => {
    const ctx = withTimeout(background(), 200, { name: "checkout" });
    await assertReleasedWith(ctx, unary(ctx, hop.client, "sleep", { ms: 10_000, id: "deadline" }));
    assert.ok(ctx.err instanceof DeadlineExceeded);
    const visit = await hop.b.ended("deadline");
    assertStoppedByDeadline(visit, firedAt(ctx));
    assert.equal(dependents(ctx), 0);
    const next = await unary(background(), hop.client, "sleep", { id: "after-deadline" });
    assert.equal(next.id, "after-deadline");
  });

  it("rejects with Canceled at once on cancel; the server sees the cancellation", async () => {
    const ctx = withCancel(background());
    const call = unary(ctx, hop.client, "sleep", { ms: 10_000, id: "cancel" });
    await hop.b.started("cancel");
    const cause = new Error("user went away");
    const released = assertReleasedWith(ctx, call);
    const canceledAt = now();
    ctx.cancel(cause);
    await released;
    assert.ok(ctx.err instanceof Canceled);
    assert.equal(ctx.err.cause, cause);
    const visit = await hop.b.ended("cancel");
    assert.equal(visit.outcome, "Canceled");
    assertSeenWithin(visit, canceledAt);
    assert.equal(dependents(ctx), 0);
    const next = await unary(background(), hop.client, "sleep", { id: "after-cancel" });
    assert.equal(next.id, "after-cancel");
  });

  it("never starts a call on a context that has already ended", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    await assert.rejects(unary(ctx, hop.client, "sleep", { id: "never" }), Canceled);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      hop.b.visits.find((v) => v.id === "never"),
      undefined,
      "the server was called",
    );
  });

  it("passes the server's own errors through as grpc-js ServiceErrors", async () => {
    using ctx = withTimeout(background(), 5_000);
    await assert.rejects(
      unary(ctx, hop.client, "sleep", { id: "fail", failWith: status.INVALID_ARGUMENT }),
      (err: { code?: number; details?: string }) =>
        err.code === status.INVALID_ARGUMENT && err.details === "failing as asked",
    );
  });

  it("an earlier options.deadline ends the call with DeadlineExceeded naming it", async () => {
    using ctx = withTimeout(background(), 5_000);
    const started = now();
    const err = await rejection(
      unary(ctx, hop.client, "sleep", { ms: 10_000, id: "own" }, undefined, {
        deadline: Date.now() + 100,
      }),
    );
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.match(
      err.message,
      // The options deadline is wall-clock time read before the call: a ms may pass first.
      /"options\.deadline of unary\(sleep\)" \(timeout (99|100) ms\) exceeded its deadline/,
    );
    const took = now() - started;
    assert.ok(took < 1_000, `took ${took.toFixed(0)} ms: the 100 ms deadline was not used`);
    assert.equal(ctx.err, undefined);
    const visit = await hop.b.ended("own");
    assert.ok(visit.remainingAtStart <= 101, `the server had ${visit.remainingAtStart} ms`);
    assert.equal(dependents(ctx), 0, "the deadline's child context is gone");
  });

  it("a later options.deadline changes nothing: the context's deadline is sent", async () => {
    using ctx = withTimeout(background(), 3_000);
    const reply = await unary(ctx, hop.client, "sleep", { id: "later" }, undefined, {
      deadline: new Date(Date.now() + 60_000),
    });
    assert.ok(reply.remainingMs <= 3_001, `the server had ${reply.remainingMs} ms`);
    assert.equal(dependents(ctx), 0);
  });

  it("passes metadata on", async () => {
    const { Metadata } = await import("@grpc/grpc-js");
    const metadata = new Metadata();
    metadata.set("x-request-id", "r-1");
    await unary(background(), hop.client, "sleep", { id: "metadata" }, metadata);
    const visit = await hop.b.ended("metadata");
    assert.deepEqual(visit.call.metadata.get("x-request-id"), ["r-1"]);
  });
});
