import assert from "node:assert/strict";
import { Agent, type IncomingMessage, type ServerResponse, request } from "node:http";
import { after, before, describe, it } from "node:test";
import {
  Canceled,
  type CancelableContext,
  DeadlineExceeded,
  background,
  cause,
  now,
  sleep,
  withCancel,
} from "../../../src/index.js";
import { dependents } from "../../../src/core/context.js";
import {
  ClientDisconnectedError,
  RESPONSE_FINISHED,
  type RequestContextOptions,
  contextFrom,
} from "../../../src/io/http/index.js";
import { type TestServer, start, within } from "./servers.js";

/** Sends one request with a raw client; resolves with the status and body; gives up after 5 s. */
function get(
  url: string,
  headers: Record<string, string> = {},
  agent?: Agent,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const method = body === undefined ? "GET" : "POST";
    const req = request(url, { headers, agent, method, timeout: 5_000 });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer in 5 s`)));
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.end(body);
  });
}

/** A server whose handler gets the request's context made with `options`. */
function contextServer(
  options: RequestContextOptions | undefined,
  handle: (ctx: CancelableContext, req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  return start((req, res) => handle(contextFrom(req, res, options), req, res));
}

describe("contextFrom: the client going away ends the request's context", () => {
  it("ends with Canceled (cause ClientDisconnectedError) within 100 ms of the abort, and a sleep in the handler rejects", async () => {
    let ended: { err: unknown; at: number } | undefined;
    let handlerCtx: CancelableContext | undefined;
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const server = await contextServer(undefined, (ctx) => {
      handlerCtx = ctx;
      arrived();
      sleep(ctx, 10_000).then(
        () => (ended = { err: "slept 10 s", at: now() }),
        (err: unknown) => (ended = { err, at: now() }),
      );
    });
    try {
      const client = request(server.url);
      client.on("error", () => {});
      client.end();
      await within(arrival, 2_000, "request arrival");
      const abortedAt = now();
      client.destroy();
      for (let i = 0; i < 100 && ended === undefined; i++) await sleep(background(), 5);
      assert.ok(ended !== undefined, "the handler's sleep ended");
      assert.ok(ended.err instanceof Canceled, `got ${String(ended.err)}`);
      assert.equal(ended.err, handlerCtx!.err);
      assert.ok(cause(handlerCtx!) instanceof ClientDisconnectedError);
      assert.ok(ended.at - abortedAt < 100, `${(ended.at - abortedAt).toFixed(1)} ms`);
    } finally {
      await server.close();
    }
  });

  it("ends with DeadlineExceeded when the caller's deadline header passes", async () => {
    let result: { err: unknown; lifetime: number } | undefined;
    const server = await contextServer(undefined, (ctx, _req, res) => {
      const started = now();
      sleep(ctx, 10_000).then(
        () => res.end("slept"),
        (err: unknown) => {
          result = { err, lifetime: now() - started };
          res.statusCode = 504;
          res.end();
        },
      );
    });
    try {
      const { status } = await get(server.url, { "timebound-timeout": "200m" });
      assert.equal(status, 504);
      assert.ok(result!.err instanceof DeadlineExceeded);
      assert.ok(result!.lifetime >= 199 && result!.lifetime < 350, `${result!.lifetime} ms`);
    } finally {
      await server.close();
    }
  });

  it("ends every request context when the server-wide parent is canceled", async () => {
    const parent = withCancel(background(), { name: "server" });
    let ctx: CancelableContext | undefined;
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const server = await contextServer({ parent }, (c, _req, res) => {
      ctx = c;
      arrived();
      sleep(c, 10_000).catch(() => res.end("stopped"));
    });
    try {
      const response = get(server.url);
      await within(arrival, 2_000, "arrival");
      parent.cancel(new Error("shutting down"));
      assert.equal((await response).body, "stopped");
      assert.ok(ctx!.err instanceof Canceled);
    } finally {
      await server.close();
    }
  });
});

describe("contextFrom: keep-alive connections", () => {
  let server: TestServer;
  const contexts: CancelableContext[] = [];
  const parent = withCancel(background(), { name: "server" });
  const seen: { socketListeners: number; resListeners: number; linked: number }[] = [];
  let bodyCheck: { before: unknown; afterSleep: unknown } | undefined;

  before(async () => {
    server = await contextServer({ parent }, (ctx, req, res) => {
      contexts.push(ctx);
      const socket = req.socket;
      seen.push({
        socketListeners: socket.eventNames().reduce((n, e) => n + socket.listenerCount(e), 0),
        resListeners: res.listenerCount("close"),
        linked: dependents(parent),
      });
      if (req.method === "POST") {
        // req emits 'close' once its body is read: that must not end the context.
        void (async () => {
          for await (const _ of req) {
            // read the body
          }
          const before = ctx.err;
          try {
            await sleep(ctx, 100);
          } finally {
            bodyCheck = { before, afterSleep: ctx.err };
            res.end("posted");
          }
        })().catch(() => {});
        return;
      }
      res.end("ok");
    });
  });
  after(async () => {
    await server.close();
    parent.cancel();
  });

  it("does not end a context when its request body has been read; ends it, as finished, once the response is sent", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { body } = await get(server.url, {}, agent, "x".repeat(10_000));
      assert.equal(body, "posted");
      assert.deepEqual(bodyCheck, { before: undefined, afterSleep: undefined });
      const ctx = contexts.at(-1)!;
      for (let i = 0; i < 20 && ctx.err === undefined; i++) await sleep(background(), 5);
      assert.ok(ctx.err instanceof Canceled);
      assert.equal(cause(ctx), RESPONSE_FINISHED, "a finished response is not a disconnect");
    } finally {
      agent.destroy();
    }
    // The client closing the idle keep-alive socket later changes nothing.
    await sleep(background(), 20);
    assert.equal(cause(contexts.at(-1)!), RESPONSE_FINISHED);
  });

  it("leaks no listener and no link over 1,000 requests on one socket", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const connectionsBefore = server.connections();
    const from = seen.length;
    try {
      for (let i = 0; i < 1_000; i++) {
        const { body } = await get(server.url, {}, agent);
        assert.equal(body, "ok");
      }
    } finally {
      agent.destroy();
    }
    assert.equal(server.connections() - connectionsBefore, 1, "one keep-alive socket");
    const mine = seen.slice(from);
    const sockets = new Set(mine.slice(1).map((s) => s.socketListeners));
    assert.equal(sockets.size, 1, `socket listener counts: ${[...sockets].join(", ")}`);
    assert.ok(mine.every((s) => s.resListeners === mine[0]!.resListeners));
    // Only the request being served is linked under the parent: every earlier one was released.
    assert.ok(
      mine.every((s) => s.linked === 1),
      `linked: ${[...new Set(mine.map((s) => s.linked))].join(", ")}`,
    );
    for (let i = 0; i < 20 && dependents(parent) > 0; i++) await sleep(background(), 5);
    assert.equal(dependents(parent), 0);
  });
});

describe("contextFrom: the deadline header is never trusted blindly", () => {
  let server: TestServer;
  let last: CancelableContext | undefined;
  let options: RequestContextOptions | undefined;
  before(async () => {
    server = await start((req, res) => {
      last = contextFrom(req, res, options);
      const ctx = last;
      res.end(String(ctx.deadline === undefined ? "none" : Math.round(ctx.remaining())));
    });
  });
  after(() => server.close());

  async function timeout(
    headers: Record<string, string>,
    opts?: RequestContextOptions,
  ): Promise<string> {
    options = opts;
    return (await get(server.url, headers)).body;
  }

  function near(actual: string, expected: number): void {
    const ms = Number(actual);
    assert.ok(ms <= expected && ms > expected - 50, `${actual} vs ${expected}`);
  }

  it("uses a valid header in any unit", async () => {
    near(await timeout({ "timebound-timeout": "1500m" }), 1_500);
    near(await timeout({ "timebound-timeout": "2S" }), 2_000);
    near(await timeout({ "timebound-timeout": "1M" }), 60_000);
    near(await timeout({ "timebound-timeout": "900000u" }), 900);
  });

  it("ignores a malformed or negative header and uses the default (30 s)", async () => {
    for (const bad of ["-5m", "abc", "1.5S", "123456789m", "5 m", ""]) {
      near(await timeout({ "timebound-timeout": bad }), 30_000);
    }
    near(await timeout({}), 30_000);
  });

  it("cuts a huge header to maxTimeoutMs (default 5 min)", async () => {
    near(await timeout({ "timebound-timeout": "99999999H" }), 300_000);
    near(await timeout({ "timebound-timeout": "10S" }, { maxTimeoutMs: 2_000 }), 2_000);
  });

  it("honours a configured header name, header: false, and a default of Infinity", async () => {
    near(await timeout({ "grpc-timeout": "700m" }, { header: "grpc-timeout" }), 700);
    near(await timeout({ "timebound-timeout": "700m" }, { header: false }), 30_000);
    assert.equal(await timeout({}, { defaultTimeoutMs: Infinity }), "none");
    near(await timeout({}, { maxTimeoutMs: 5_000 }), 5_000);
  });

  it("names the context after the method and path, without the query", async () => {
    await timeout({});
    assert.equal(last!.name, "GET /");
    options = undefined;
    await get(`${server.url}/items/7?token=secret`);
    assert.equal(last!.name, "GET /items/7");
  });
});

describe("contextFrom: edges and bad input", () => {
  it("is born ended when the response is already finished or the client already gone", async () => {
    const results: unknown[] = [];
    const server = await start((req, res) => {
      res.end("done", () => {
        results.push(cause(contextFrom(req, res)));
      });
    });
    try {
      await get(server.url);
      for (let i = 0; i < 20 && results.length === 0; i++) await sleep(background(), 5);
      assert.deepEqual(results, [RESPONSE_FINISHED]);
    } finally {
      await server.close();
    }

    let gone: CancelableContext | undefined;
    const late = await start((req, res) => {
      res.on("close", () => (gone = contextFrom(req, res)));
    });
    try {
      const client = request(late.url);
      client.on("error", () => {});
      client.end();
      for (let i = 0; i < 100 && late.served.length === 0; i++) await sleep(background(), 5);
      client.destroy();
      for (let i = 0; i < 100 && gone === undefined; i++) await sleep(background(), 5);
      assert.ok(gone!.err instanceof Canceled);
      assert.ok(cause(gone!) instanceof ClientDisconnectedError);
    } finally {
      await late.close();
    }
  });

  it("rejects bad arguments and options by name", async () => {
    const errors: unknown[] = [];
    const server = await start((req, res) => {
      for (const bad of [
        () => contextFrom({} as IncomingMessage, res),
        () => contextFrom(req, {} as ServerResponse),
        () => contextFrom(req, res, { maxTimeoutMs: 0 }),
        () => contextFrom(req, res, { maxTimeoutMs: Infinity }),
        () => contextFrom(req, res, { defaultTimeoutMs: -1 }),
        () => contextFrom(req, res, { maxTimeoutMs: 1_000, defaultTimeoutMs: 2_000 }),
        () => contextFrom(req, res, { header: "bad header" }),
        () => contextFrom(req, res, { parent: {} as never }),
        () => contextFrom(req, res, { name: 5 as never }),
        () => contextFrom(req, res, 7 as never),
      ]) {
        try {
          bad();
          errors.push("no error");
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
      res.end();
    });
    try {
      await get(server.url);
    } finally {
      await server.close();
    }
    const expected = [
      /^contextFrom: req must be an http.IncomingMessage/,
      /^contextFrom: res must be an http.ServerResponse/,
      /^contextFrom: options.maxTimeoutMs must be .* from 1 to 86400000, got 0/,
      /^contextFrom: options.maxTimeoutMs .* got Infinity/,
      /^contextFrom: options.defaultTimeoutMs .* got -1/,
      /^contextFrom: options.defaultTimeoutMs \(2000\) must not exceed options.maxTimeoutMs \(1000\)/,
      /^contextFrom: options.header must be a header name or false, got "bad header"/,
      /^contextFrom: options.parent must be a timebound Context/,
      /^contextFrom: options.name must be a string, got 5/,
      /^contextFrom: options must be an object, got 7/,
    ];
    assert.equal(errors.length, expected.length);
    expected.forEach((re, i) => assert.match(String(errors[i]), re));
  });
});
