// A grpc-js server reads `grpc-timeout` into a 32-bit integer of milliseconds: past 2^31-1 ms
// (24.8 days) it wraps, to a negative timeout (every call fails at once with
// DEADLINE_EXCEEDED) or to a small positive one (2^40 ms arrives as about 12 s). So a context
// with more than MAX_SENT_TIMEOUT_MS (24 days) left sends no deadline at all.
import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { background, withCancel, withTimeout } from "../../../src/index.js";
import {
  bidiStream,
  callOptions,
  clientStream,
  contextInterceptor,
  serverStream,
  unary,
} from "../../../src/io/grpc/index.js";
import { MAX_SENT_TIMEOUT_MS } from "../../../src/io/grpc/deadline.js";
import { type SleepReply, type Tick, oneHopForSuite, rejection } from "./work-service.js";

const DAY_MS = 24 * 60 * 60 * 1000;

describe("grpc: deadlines too far out for grpc-js", () => {
  const hop = oneHopForSuite({ interceptors: [contextInterceptor] });

  for (const [label, ms] of [
    ["30 days", 30 * DAY_MS],
    ["2^40 ms", 2 ** 40],
  ] as const) {
    it(`unary and streams work under a context ${label} out; the server sees no deadline`, async () => {
      const ctx = withTimeout(background(), ms, { name: label });
      const reply = await unary(ctx, hop.client, "sleep", { id: `far-${ms}` });
      assert.equal(reply.remainingMs, -1, "the server was sent a deadline");

      const ticks: Tick[] = [];
      for await (const t of serverStream(ctx, hop.client, "ticks", { count: 2, id: "far" })) {
        ticks.push(t);
      }
      assert.equal(ticks.length, 2);

      const echo = bidiStream(ctx, hop.client, "echo");
      echo.call.end({ n: 7 });
      const echoed: Tick[] = [];
      for await (const t of echo) echoed.push(t);
      assert.deepEqual(echoed, [{ n: 7 }]);

      const sum = clientStream(ctx, hop.client, "sum");
      sum.call.end({ n: 5 });
      assert.deepEqual(await sum.response, { sum: 5 });

      // Without the deadline on the wire, the context still ends the call: cancel reaches it.
      assert.equal(ctx.err, undefined);
      ctx.cancel();
      assert.equal(dependents(ctx), 0);
    });

    it(`callOptions and contextInterceptor leave out a deadline ${label} out`, async () => {
      using ctx = withTimeout(background(), ms);
      const options = callOptions(ctx);
      assert.equal("deadline" in options, false);
      const reply = await new Promise<SleepReply>((resolve, reject) => {
        hop.extra.sleep({ id: `far-i-${ms}` }, options, (err, r) =>
          err ? reject(err) : resolve(r!),
        );
      });
      assert.equal(reply.remainingMs, -1);
    });
  }

  it("a deadline just inside the cap is sent as it is", async () => {
    using ctx = withTimeout(background(), MAX_SENT_TIMEOUT_MS - 60_000);
    const reply = await unary(ctx, hop.client, "sleep", { id: "near-cap" });
    const expected = MAX_SENT_TIMEOUT_MS - 60_000;
    assert.ok(
      reply.remainingMs > expected - 60_000 && reply.remainingMs <= expected + 1_000,
      `the server had ${reply.remainingMs} ms, expected about ${expected}`,
    );
  });

  it("an options.deadline past the cap is left out too", async () => {
    using ctx = withCancel(background());
    const far = Date.now() + 30 * DAY_MS;
    assert.equal("deadline" in callOptions(ctx, { deadline: far }), false);
    const reply = await unary(ctx, hop.client, "sleep", { id: "far-own" }, undefined, {
      deadline: far,
    });
    assert.equal(reply.remainingMs, -1);
  });

  it("a call under a far context is still canceled by it", async () => {
    const ctx = withTimeout(background(), 30 * DAY_MS, { name: "month" });
    const call = unary(ctx, hop.client, "sleep", { ms: 10_000, id: "far-cancel" });
    await hop.b.started("far-cancel");
    ctx.cancel();
    assert.equal(await rejection(call), ctx.err);
    assert.equal((await hop.b.ended("far-cancel")).outcome, "Canceled");
  });
});
