import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { contextOf, fastifyContext } from "../../../src/io/http/index.js";
import {
  Handlers,
  checkBoundAndFinished,
  checkCallerDeadline,
  checkDisconnect,
  checkParsedBinding,
  checkPipelinedDisconnect,
} from "./framework-checks.js";

describe("fastifyContext: Fastify plugin", () => {
  let app: FastifyInstance;
  let url: string;
  const handlers = new Handlers();

  before(async () => {
    app = Fastify();
    await app.register(fastifyContext, { maxTimeoutMs: 5_000 });
    // A route registered in a child scope still gets a context: the plugin is not encapsulated,
    // and the binding is renewed after the body is parsed.
    await app.register((child, _opts, done) => {
      child.post("/parsed", (request) => {
        handlers.record(contextOf(request));
        return request.body;
      });
      done();
    });
    app.get("/ambient", (request) => {
      handlers.record(contextOf(request));
      return "ok";
    });
    app.get("/slow", async (request, reply) => {
      const { status, body } = await handlers.slow(contextOf(request));
      return reply.code(status).send(body);
    });
    url = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(() => app.close());

  it("puts the request's context on request.ctx, binds it, ends it once the reply is sent", () =>
    checkBoundAndFinished(url, handlers));

  it("keeps the binding through body parsing, in an encapsulated child scope", () =>
    checkParsedBinding(url, handlers));

  it("ends the handler's context when the caller's deadline passes", () =>
    checkCallerDeadline(url, handlers));

  it("ends the handler's context as disconnected when the client leaves", () =>
    checkDisconnect(url, handlers));

  it("ends the contexts of pipelined requests when the client destroys the connection", () =>
    checkPipelinedDisconnect(url, handlers));

  it("fails registration with a clear error on bad options", async () => {
    const bad = Fastify();
    await assert.rejects(async () => {
      await bad.register(fastifyContext, { defaultTimeoutMs: Number.NaN });
    }, /fastifyContext: options.defaultTimeoutMs/);
    await bad.close();
  });
});
