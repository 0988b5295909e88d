import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
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
  fastifyContext,
  fetch,
} from "../../../src/io/http/index.js";
import { rejection } from "./servers.js";

describe("fastifyContext: Fastify plugin", () => {
  let app: FastifyInstance;
  let url: string;
  const seen: { ctx: Context; ambient: Context | undefined; err?: unknown; at?: number }[] = [];

  before(async () => {
    app = Fastify();
    await app.register(fastifyContext, { maxTimeoutMs: 5_000 });
    // A route registered in a child scope still gets a context: the plugin is not encapsulated.
    await app.register((child, _opts, done) => {
      child.post("/parsed", (request) => {
        seen.push({ ctx: contextOf(request), ambient: current() });
        return request.body;
      });
      done();
    });
    app.get("/ambient", () => {
      seen.push({ ctx: current()!, ambient: current() });
      return "ok";
    });
    app.get("/slow", async (request, reply) => {
      const entry: (typeof seen)[number] = { ctx: contextOf(request), ambient: current() };
      seen.push(entry);
      try {
        await sleep(entry.ctx, 10_000);
        return "slept";
      } catch (err) {
        entry.err = err;
        entry.at = now();
        return reply.code(504).send("gave up");
      }
    });
    url = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(() => app.close());

  it("puts the request's context on request.ctx, binds it, and ends it once the reply is sent", async () => {
    using ctx = withTimeout(background(), 2_000);
    const res = await fetch(ctx, `${url}/ambient`);
    assert.equal(await res.text(), "ok");
    const last = seen.at(-1)!;
    assert.equal(last.ctx.name, "GET /ambient");
    const timeoutMs = explain(last.ctx).context.timeoutMs!;
    assert.ok(timeoutMs <= 2_000, `${timeoutMs} ms: the header, not the 5 s maximum`);
    for (let i = 0; i < 20 && last.ctx.err === undefined; i++) await sleep(background(), 5);
    assert.equal(cause(last.ctx), RESPONSE_FINISHED);
  });

  it("keeps the binding through body parsing, in an encapsulated child scope", async () => {
    using ctx = withTimeout(background(), 2_000);
    const res = await fetch(ctx, `${url}/parsed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    assert.deepEqual(await res.json(), { a: 1 });
    const last = seen.at(-1)!;
    assert.equal(last.ctx.name, "POST /parsed");
    assert.equal(last.ambient, last.ctx);
  });

  it("ends the handler's context when the caller's deadline passes", async () => {
    const res = await fetch(background(), `${url}/slow`, {
      headers: { "timebound-timeout": "250m" },
    });
    assert.equal(res.status, 504);
    await res.text();
    const last = seen.at(-1)!;
    assert.ok(last.err instanceof DeadlineExceeded);
  });

  it("ends the handler's context as disconnected when the client leaves", async () => {
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
    assert.ok(handler.at! - leftAt < 100, `${(handler.at! - leftAt).toFixed(1)} ms`);
  });

  it("fails registration with a clear error on bad options", async () => {
    const bad = Fastify();
    await assert.rejects(async () => {
      await bad.register(fastifyContext, { defaultTimeoutMs: Number.NaN });
    }, /fastifyContext: options.defaultTimeoutMs/);
    await bad.close();
  });
});
