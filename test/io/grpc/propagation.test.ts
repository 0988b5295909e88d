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
  rejection,
  twoHopsForSuite,
} from "./work-service.js";

// Client → A (Relay, which calls B with its handler's context) → B (Sleep).
describe("grpc: deadline and cancellation cross two hops", () => {
  const hops = twoHopsForSuite();

  it("a call completing in time returns B's response through A", async () => {
    const ctx = withCancel(background());
    const reply = await unary(ctx, hops.client, "relay", { ms: 5, id: "through" });
    assert.equal(reply.id, "through");
    assert.equal(dependents(ctx), 0);
    const [a, b] = await Promise.all([hops.a.ended("through"), hops.b.ended("through")]);
    assert.equal(a.outcome, "done");
    assert.equal(b.outcome, "done");
    ctx.cancel();
  });

  it("the client's 200 ms deadline reaches B, and B's 10 s sleep is released at it", async () => {
    const ctx = withTimeout(background(), 200, { name: "client" });
    await assertReleasedWith(ctx, unary(ctx, hops.client, "relay", { ms: 10_000, id: "deadline" }));
    assert.ok(ctx.err instanceof DeadlineExceeded);

    const [a, b] = await Promise.all([hops.a.ended("deadline"), hops.b.ended("deadline")]);
    // Each hop counts the time left from when the request reached it (as gRPC does), so it may
    // see a little more than the client had left by then: the time in transit.
    for (const [hop, visit] of [
      ["A", a],
      ["B", b],
    ] as const) {
      assert.ok(
        visit.remainingAtStart <= 202 && visit.remainingAtStart > 100,
        `${hop} started with ${visit.remainingAtStart.toFixed(1)} ms left of the client's 200`,
      );
      assertStoppedByDeadline(visit, firedAt(ctx), hop);
    }
    // B's budget is what A had left when it called B (B counts from when the call reached it),
    // never more than A started with.
    assert.ok(
      b.remainingAtStart <= a.remainingAtStart + 2,
      `B started with ${b.remainingAtStart.toFixed(1)} ms; A with ${a.remainingAtStart.toFixed(1)}`,
    );
    const next = await unary(background(), hops.client, "relay", { id: "after-deadline" });
    assert.equal(next.id, "after-deadline");
  });

  it("cancelling the client's context cancels A's call to B: B sees Canceled at once", async () => {
    const ctx = withCancel(background(), { name: "client" });
    const call = unary(ctx, hops.client, "relay", { ms: 10_000, id: "cancel" });
    await hops.b.started("cancel");
    const released = assertReleasedWith(ctx, call);
    const canceledAt = now();
    ctx.cancel(new Error("user closed the page"));
    await released;

    const [a, b] = await Promise.all([hops.a.ended("cancel"), hops.b.ended("cancel")]);
    assert.equal(a.outcome, "Canceled");
    assert.equal(b.outcome, "Canceled");
    assert.ok(b.ctx.err instanceof Canceled, `B's context: ${b.ctx.err}`);
    assert.match(String((b.ctx.cause as Error).message), /canceled it or went away/);
    assertSeenWithin(b, canceledAt, "B");
    assert.equal(b.call.listenerCount("cancelled"), 0);
    const next = await unary(background(), hops.client, "relay", { id: "after-cancel" });
    assert.equal(next.id, "after-cancel");
  });

  it("a shorter deadline A sets for its own call to B is the one B gets", async () => {
    // What grpc-js's `parent` propagation cannot do: A narrows its budget with a child context.
    using ctx = withTimeout(background(), 5_000, { name: "client" });
    const error = await rejection(
      unary(ctx, hops.client, "relay", { ms: 10_000, id: "narrow", budgetMs: 100 }),
    );
    const b = await hops.b.ended("narrow");
    assert.ok(b.remainingAtStart <= 102, `B started with ${b.remainingAtStart.toFixed(1)} ms`);
    assertStoppedByDeadline(b, b.startedAt + b.remainingAtStart, "B");
    // A failed with its budget's error, which reaches the client as DEADLINE_EXCEEDED, while
    // the client's own context is still live: that error is A's, passed on as grpc-js's, with
    // a fixed description (A's budget and its name stay inside A).
    assert.equal(ctx.err, undefined);
    assert.equal((error as { code?: number }).code, status.DEADLINE_EXCEEDED);
    assert.equal((error as { details?: string }).details, "deadline exceeded in the server");
    assert.equal(dependents(ctx), 0);
  });
});
