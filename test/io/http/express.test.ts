import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import express from "express";
import {
  Canceled,
  type Context,
  DeadlineExceeded,
  background,
  cause,
  current,
  explain,
  now,
  sleep,
  withTimeout,
} from "../../../src/index.js";
import {
  ClientDisconnectedError,
  RESPONSE_FINISHED,
  contextOf,
  createFetch,
  expressContext,
  fetch,
} from "../../../src/io/http/index.js";
import { closeServer, rejection } from "./servers.js";

describe("expressContext: Express middleware", () => {
  let server: Server;
  let url: string;
  const seen: { ctx: Context; ambient: Context | undefined; err?: unknown; at?: number }[] = [];

  before(async () => {
    const app = express();
    app.use(expressContext({ maxTimeoutMs: 5_000 }));
    app.use(express.json());
    app.get("/ambient", (req, res) => {
      seen.push({ ctx: contextOf(req), ambient: current() });
      res.send("ok");
    });
    app.post("/parsed", (req, res) => {
      seen.push({ ctx: contextOf(req), ambient: current() });
      res.json(req.body as unknown);
    });
    app.get("/slow", async (req, res) => {
      const entry: (typeof seen)[number] = { ctx: contextOf(req), ambient: current() };
      seen.push(entry);
      try {
        await sleep(entry.ctx, 10_000);
        res.send("slept");
      } catch (err) {
        entry.err = err;
        entry.at = now();
        if (!res.headersSent && !res.destroyed) res.status(504).send("gave up");
      }
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  });
  after(() => closeServer(server));

  it("puts the request's context on req.ctx and binds it for current()", async () => {
    using ctx = withTimeout(background(), 2_000);
    const res = await fetch(ctx, `${url}/ambient`);
    assert.equal(await res.text(), "ok");
    const last = seen.at(-1)!;
    assert.equal(last.ambient, last.ctx);
    assert.equal(last.ctx.name, "GET /ambient");
    // The caller's deadline arrived: the context was given about 2 s, not the 5 s maximum.
    const timeoutMs = explain(last.ctx).context.timeoutMs!;
    assert.ok(timeoutMs <= 2_000, `${timeoutMs} ms: the header, not the 5 s maximum`);
    for (let i = 0; i < 20 && last.ctx.err === undefined; i++) await sleep(background(), 5);
    assert.equal(cause(last.ctx), RESPONSE_FINISHED);
  });

  it("keeps req.ctx after a body parser (and reports whether the binding survived it)", async () => {
    using ctx = withTimeout(background(), 2_000);
    const res = await fetch(ctx, `${url}/parsed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    assert.deepEqual(await res.json(), { a: 1 });
    const last = seen.at(-1)!;
    assert.ok(last.ctx.name === "POST /parsed");
    // express.json() reads the body from stream events; Express 5's body-parser keeps the
    // async context, so the binding survives. If this fails, only current() was lost: req.ctx
    // is still right, as the assertion above shows.
    assert.equal(last.ambient, last.ctx);
  });

  it("ends the handler's context when the caller's deadline passes", async () => {
    // Without a deadline of its own, fetch sends the header it was given as it is.
    const res = await fetch(background(), `${url}/slow`, {
      headers: { "timebound-timeout": "250m" },
    });
    assert.equal(res.status, 504);
    await res.text();
    const last = seen.at(-1)!;
    assert.ok(last.err instanceof DeadlineExceeded);
    assert.equal(last.ctx.err, last.err);
  });

  it("passes the caller's deadline on: the handler gives up first, by the margin, and its answer arrives in time", async () => {
    const withMargin = createFetch({ marginMs: 60 });
    const ctx = withTimeout(background(), 300, { name: "caller" });
    const started = seen.length;
    const res = await withMargin(ctx, `${url}/slow`);
    assert.equal(res.status, 504, "the server's answer beat the caller's deadline");
    assert.equal(await res.text(), "gave up");
    assert.equal(ctx.err, undefined);
    const handler = seen[started]!;
    assert.ok(handler.err instanceof DeadlineExceeded);
    const early = ctx.deadline! - handler.at!;
    assert.ok(early > 0 && early <= 60, `the handler ended ${early.toFixed(1)} ms early`);
    ctx.cancel();
  });

  it("ends the handler's context as disconnected when a caller without a deadline leaves", async () => {
    const ctx = withTimeout(background(), 60_000);
    const started = seen.length;
    const pending = fetch(ctx, `${url}/slow`);
    for (let i = 0; i < 100 && seen.length === started; i++) await sleep(background(), 5);
    const leftAt = now();
    ctx.cancel();
    await rejection(pending);
    for (let i = 0; i < 100 && seen[started]?.err === undefined; i++) await sleep(background(), 5);
    const handler = seen[started]!;
    assert.ok(handler.err instanceof Canceled, String(handler.err));
    assert.ok(cause(handler.ctx) instanceof ClientDisconnectedError);
    assert.ok(handler.at! - leftAt < 100);
  });

  it("checks its options once, when the middleware is made", () => {
    assert.throws(
      () => expressContext({ maxTimeoutMs: -1 }),
      /expressContext: options.maxTimeoutMs/,
    );
    assert.throws(() => contextOf({}), /contextOf: this request has no context/);
  });
});
