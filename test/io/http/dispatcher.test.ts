import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Agent, Pool, request } from "undici";
import {
  Canceled,
  DeadlineExceeded,
  background,
  now,
  run,
  sleep,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { contextDispatcher, contextInterceptor, parseTimeout } from "../../../src/io/http/index.js";
import {
  CALLER_SLACK_MS,
  SERVER_SLACK_MS,
  rejection,
  slowServer,
  useServers,
  within,
} from "./servers.js";

describe("contextDispatcher: undici request() under a context", () => {
  const servers = useServers();
  let agent: Agent;
  before(() => {
    agent = new Agent();
  });
  after(() => agent.close());

  it("cancels request() mid-body: body.text() rejects with ctx.err and the server sees the close", async () => {
    const ctx = withTimeout(background(), 300);
    const { statusCode, body } = await request(servers.trickling.url, {
      dispatcher: contextDispatcher(ctx, agent),
    });
    assert.equal(statusCode, 200);
    const served = servers.trickling.served.at(-1)!;
    const { err, at } = await rejection(within(body.text(), 2_000, "body.text()"));
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.equal(err, ctx.err);
    assert.ok(at - ctx.deadline! < CALLER_SLACK_MS, `${(at - ctx.deadline!).toFixed(1)} ms late`);
    const closedAt = await within(served.closed, 1_000, "server close");
    assert.ok(closedAt - ctx.deadline! < SERVER_SLACK_MS);
    assert.equal(dependents(ctx), 0);
    // The same agent serves the next request.
    const next = await request(servers.ok.url, { dispatcher: agent });
    assert.equal(await next.body.text(), "ok");
  });

  it("rejects with Canceled when the context is canceled before the headers", async () => {
    const slow = await slowServer();
    try {
      const ctx = withCancel(background());
      const pending = request(slow.url, { dispatcher: contextDispatcher(ctx, agent) });
      for (let i = 0; i < 100 && slow.served.length === 0; i++) await sleep(background(), 5);
      assert.equal(slow.served.length, 1, "the request reached the server");
      ctx.cancel(new Error("user left"));
      const { err } = await rejection(within(pending, 1_000, "request"));
      assert.ok(err instanceof Canceled);
      assert.equal(err, ctx.err);
      await within(slow.served[0]!.closed, 1_000, "server close");
    } finally {
      await slow.close();
    }
  });

  it("sends the time left in the deadline header and leaves nothing linked", async () => {
    using ctx = withTimeout(background(), 1_000);
    const res = await request(servers.ok.url, {
      dispatcher: contextDispatcher(ctx, agent, { marginMs: 100 }),
      headers: { "x-keep": "1" },
    });
    await res.body.text();
    const sent = parseTimeout(String(res.headers["x-got"]));
    assert.ok(sent !== undefined && sent <= 900 && sent > 700, `sent ${sent}`);
    assert.equal(servers.ok.served.at(-1)!.headers["x-keep"], "1");
    assert.equal(dependents(ctx), 0);
    // A body fully received is done: the context ending later changes nothing.
    ctx.cancel();
  });

  it("fails at once, without sending, on an ended context", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    const before = servers.ok.served.length;
    const { err } = await rejection(
      request(servers.ok.url, { dispatcher: contextDispatcher(ctx, agent) }),
    );
    assert.equal(err, ctx.err);
    assert.equal(servers.ok.served.length, before);
  });

  it("releases a request still waiting for a connection at once", async () => {
    const pool = new Pool(servers.trickling.url, { connections: 1 });
    const hog = withCancel(background());
    try {
      const first = await request(servers.trickling.url, {
        dispatcher: contextDispatcher(hog, pool),
      });
      const ctx = withTimeout(background(), 150);
      const queued = request(servers.trickling.url, { dispatcher: contextDispatcher(ctx, pool) });
      const { err, at } = await rejection(within(queued, 2_000, "queued request"));
      assert.equal(err, ctx.err);
      assert.ok(at - ctx.deadline! < CALLER_SLACK_MS);
      hog.cancel();
      await rejection(first.body.text());
    } finally {
      await pool.destroy();
    }
  });

  it("with contextInterceptor(), obeys the context bound by run() and leaves other requests alone", async () => {
    const ambient = new Agent().compose(contextInterceptor());
    try {
      const outside = await request(servers.ok.url, { dispatcher: ambient });
      await outside.body.text();
      assert.equal(outside.headers["x-got"], "none");

      const ctx = withTimeout(background(), 250);
      const started = now();
      const { err } = await rejection(
        run(ctx, async () => {
          const { body } = await request(servers.trickling.url, { dispatcher: ambient });
          return body.text();
        }),
      );
      assert.equal(err, ctx.err);
      assert.ok(now() - started < 250 + CALLER_SLACK_MS);
    } finally {
      await ambient.close();
    }
  });

  it("defaults to undici's global dispatcher, and rejects bad arguments by name", async () => {
    using ctx = withTimeout(background(), 1_000);
    const res = await request(servers.ok.url, { dispatcher: contextDispatcher(ctx) });
    assert.equal(await res.body.text(), "ok");
    assert.throws(
      () => contextDispatcher({} as never),
      /contextDispatcher: ctx must be a timebound/,
    );
    assert.throws(
      () => contextDispatcher(ctx, {} as never),
      /contextDispatcher: base must be an undici Dispatcher/,
    );
    assert.throws(() => contextInterceptor({ marginMs: Number.NaN }), /options.marginMs/);
    assert.throws(() => contextInterceptor({ context: 1 as never }), /contextInterceptor: ctx/);
    // Their options are timebound's own: a misspelt one is refused, naming the function called.
    assert.throws(() => contextInterceptor({ marginMS: 5 } as never), {
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message:
        "contextInterceptor: unknown option options.marginMS (known: context, header, marginMs)",
    });
    assert.throws(() => contextDispatcher(ctx, undefined, { context: ctx } as never), {
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message: "contextDispatcher: unknown option options.context (known: header, marginMs)",
    });
    assert.throws(() => contextDispatcher(ctx, undefined, "x" as never), {
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message: 'contextDispatcher: options must be an object, got "x"',
    });
  });
});
