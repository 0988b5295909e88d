import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import express from "express";
import { DeadlineExceeded, background, withTimeout } from "../../../src/index.js";
import { contextOf, createFetch, expressContext } from "../../../src/io/http/index.js";
import {
  Handlers,
  checkBoundAndFinished,
  checkCallerDeadline,
  checkDisconnect,
  checkParsedBinding,
  checkPipelinedDisconnect,
} from "./framework-checks.js";
import { closeServer } from "./servers.js";

describe("expressContext: Express middleware", () => {
  let server: Server;
  let url: string;
  const handlers = new Handlers();

  before(async () => {
    const app = express();
    app.use(expressContext({ maxTimeoutMs: 5_000 }));
    // express.json() reads the body from stream events; Express 5's body-parser keeps the async
    // context, so the binding survives it (checkParsedBinding). req.ctx works either way.
    app.use(express.json());
    app.get("/ambient", (req, res) => {
      handlers.record(contextOf(req));
      res.send("ok");
    });
    app.post("/parsed", (req, res) => {
      handlers.record(contextOf(req));
      res.json(req.body as unknown);
    });
    app.get("/slow", async (req, res) => {
      const { status, body } = await handlers.slow(contextOf(req));
      if (!res.headersSent && !res.destroyed) res.status(status).send(body);
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => closeServer(server));

  it("puts the request's context on req.ctx, binds it for current(), ends it once sent", () =>
    checkBoundAndFinished(url, handlers));

  it("keeps the binding after a body parser", () => checkParsedBinding(url, handlers));

  it("ends the handler's context when the caller's deadline passes", () =>
    checkCallerDeadline(url, handlers));

  it("passes the caller's deadline on: the handler gives up first, by the margin, and its answer arrives in time", async () => {
    const withMargin = createFetch({ marginMs: 60 });
    const ctx = withTimeout(background(), 300, { name: "caller" });
    const started = handlers.seen.length;
    const res = await withMargin(ctx, `${url}/slow`);
    assert.equal(res.status, 504, "the server's answer beat the caller's deadline");
    assert.equal(await res.text(), "gave up");
    assert.equal(ctx.err, undefined);
    const handler = handlers.seen[started]!;
    assert.ok(handler.err instanceof DeadlineExceeded);
    const early = ctx.deadline! - handler.at!;
    assert.ok(early > 0 && early <= 60, `the handler ended ${early.toFixed(1)} ms early`);
    ctx.cancel();
  });

  it("ends the handler's context as disconnected when a caller without a deadline leaves", () =>
    checkDisconnect(url, handlers));

  it("ends the contexts of pipelined requests when the client destroys the connection", () =>
    checkPipelinedDisconnect(url, handlers));

  it("checks its options once, when the middleware is made", () => {
    assert.throws(
      () => expressContext({ maxTimeoutMs: -1 }),
      /expressContext: options.maxTimeoutMs/,
    );
    assert.throws(() => contextOf({}), /contextOf: this request has no context/);
  });
});
