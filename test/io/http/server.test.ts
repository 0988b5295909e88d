import { dependents } from "../../../src/core/introspect.js";
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
import {
  ClientDisconnectedError,
  RESPONSE_FINISHED,
  type RequestContextOptions,
  contextFrom,
  requestContexts,
} from "../../../src/io/http/index.js";
import { type TestServer, pipelined, start, within } from "./servers.js";

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

  it("ends the context of a request pipelined behind another (its response still queued) when the client destroys the connection", async () => {
    const handlers: { ctx: CancelableContext; res: ServerResponse; err?: unknown }[] = [];
    const server = await contextServer(undefined, (ctx, _req, res) => {
      const handler: (typeof handlers)[number] = { ctx, res };
      handlers.push(handler);
      sleep(ctx, 10_000).then(
        () => res.end("slept"),
        (err: unknown) => (handler.err = err),
      );
    });
    try {
      const socket = await pipelined(server.url, ["/first", "/second"]);
      socket.on("error", () => {});
      for (let i = 0; i < 200 && handlers.length < 2; i++) await sleep(background(), 5);
      assert.equal(handlers.length, 2, "both requests reached the handler");
      assert.equal(handlers[1]!.res.socket, null, "the second response waits for the socket");
      socket.destroy();
      for (let i = 0; i < 200 && handlers.some((h) => h.err === undefined); i++) {
        await sleep(background(), 5);
      }
      for (const [i, { ctx, err, res }] of handlers.entries()) {
        assert.ok(err instanceof Canceled, `request ${i + 1} ended with ${String(err)}`);
        assert.ok(cause(ctx) instanceof ClientDisconnectedError, `request ${i + 1}: its cause`);
        assert.ok(res.destroyed, `request ${i + 1}: its response is destroyed`);
      }
    } finally {
      await server.close();
    }
  });

  it("tells finished pipelined requests from the ones cut off when the connection goes: each request leaves its connection's list as its response closes", async () => {
    const handlers: { path: string; ctx: CancelableContext; err?: unknown }[] = [];
    const server = await contextServer(undefined, (ctx, req, res) => {
      const handler: (typeof handlers)[number] = { path: req.url!, ctx };
      handlers.push(handler);
      if (req.url!.startsWith("/fast")) {
        res.end("fast");
        return;
      }
      sleep(ctx, 10_000).then(
        () => res.end("slept"),
        (err: unknown) => (handler.err = err),
      );
    });
    try {
      const socket = await pipelined(server.url, ["/fast1", "/fast2", "/slow1", "/slow2"]);
      socket.on("error", () => {});
      for (let i = 0; i < 200 && handlers.length < 4; i++) await sleep(background(), 5);
      assert.equal(handlers.length, 4, "all four requests reached the handler");
      // The two fast answers are sent and their responses close before the connection does.
      for (let i = 0; i < 200 && handlers.slice(0, 2).some((h) => !h.ctx.err); i++) {
        await sleep(background(), 5);
      }
      socket.destroy();
      for (let i = 0; i < 200 && handlers.some((h) => h.ctx.err === undefined); i++) {
        await sleep(background(), 5);
      }
      const causes = handlers.map((h) => [h.path, cause(h.ctx)]);
      assert.deepEqual(
        causes.map(([path, c]) => [
          path,
          c === RESPONSE_FINISHED
            ? "finished"
            : c instanceof ClientDisconnectedError
              ? "disconnected"
              : String(c),
        ]),
        [
          ["/fast1", "finished"],
          ["/fast2", "finished"],
          ["/slow1", "disconnected"],
          ["/slow2", "disconnected"],
        ],
      );
      assert.ok(handlers[2]!.err instanceof Canceled && handlers[3]!.err instanceof Canceled);
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

/** How a response ended, as a raw client saw it, and when. */
interface Outcome {
  how: "complete" | "cut off" | "no answer";
  status: number | undefined;
  body: string;
  at: number;
}

/** Sends a GET and reports how its response ended (within 3 s, or the test fails). */
function outcome(url: string, headers: Record<string, string> = {}): Promise<Outcome> {
  const result = new Promise<Outcome>((resolve) => {
    const req = request(url, { headers });
    const settle = (how: Outcome["how"], status?: number, body = "") =>
      resolve({ how, status, body, at: now() });
    req.on("error", () => settle("no answer"));
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => settle("complete", res.statusCode, body));
      res.on("aborted", () => settle("cut off", res.statusCode, body));
      res.on("error", () => settle("cut off", res.statusCode, body));
    });
    req.end();
  });
  return within(result, 3_000, `GET ${url}`);
}

/** Writes a chunk every 20 ms until the response closes, whatever the context says. */
function streamForever(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/plain" });
  res.write("first;");
  const timer = setInterval(() => res.write("more;"), 20);
  res.on("close", () => clearInterval(timer));
}

describe("contextFrom: a response left unfinished when the context ends is cut off", () => {
  it("destroys a response still streaming responseGraceMs after the deadline: the client sees it cut off, not complete", async () => {
    let deadline = 0;
    const server = await contextServer({ responseGraceMs: 100 }, (ctx, _req, res) => {
      deadline = ctx.deadline!;
      streamForever(res); // ignores the context
    });
    try {
      const seen = await outcome(server.url, { "timebound-timeout": "200m" });
      assert.equal(seen.how, "cut off");
      assert.equal(seen.status, 200);
      assert.match(seen.body, /^first;(more;)+$/);
      const after = seen.at - deadline;
      assert.ok(after >= 99 && after < 600, `cut ${after.toFixed(1)} ms after the deadline`);
    } finally {
      await server.close();
    }
  });

  it("destroys a response the handler never starts, so the client is not left waiting", async () => {
    const server = await contextServer({ responseGraceMs: 0 }, () => {});
    try {
      const started = now();
      const seen = await outcome(server.url, { "timebound-timeout": "150m" });
      assert.equal(seen.how, "no answer");
      const took = seen.at - started;
      assert.ok(took >= 140 && took < 650, `the connection closed after ${took.toFixed(1)} ms`);
    } finally {
      await server.close();
    }
  });

  it("cuts off responses when the server-wide parent is canceled (a shutdown)", async () => {
    const parent = withCancel(background(), { name: "server" });
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const server = await contextServer({ parent, responseGraceMs: 50 }, (_ctx, _req, res) => {
      streamForever(res);
      arrived();
    });
    try {
      const seen = outcome(server.url);
      await within(arrival, 2_000, "arrival");
      parent.cancel(new Error("shutting down"));
      assert.equal((await seen).how, "cut off");
    } finally {
      await server.close();
    }
  });

  it("leaves the response to the handler when the handler ends the context itself (using)", async () => {
    const server = await contextServer({ responseGraceMs: 0 }, (ctx, _req, res) => {
      {
        using _ = ctx; // disposed here, before the body is written
      }
      res.writeHead(200);
      let n = 0;
      const timer = setInterval(() => {
        if (++n === 5) {
          clearInterval(timer);
          res.end("last");
        } else {
          res.write(`${n};`);
        }
      }, 20);
    });
    try {
      const seen = await outcome(server.url, { "timebound-timeout": "5S" });
      assert.deepEqual([seen.how, seen.body], ["complete", "1;2;3;4;last"]);
    } finally {
      await server.close();
    }
  });

  it("leaves unfinished responses to the handler with responseGraceMs: Infinity", async () => {
    const server = await contextServer({ responseGraceMs: Infinity }, (ctx, _req, res) => {
      res.writeHead(200);
      res.write("first;");
      sleep(background(), 300).then(
        () => res.end(`after the deadline: ${ctx.err?.name}`),
        () => {},
      );
    });
    try {
      const seen = await outcome(server.url, { "timebound-timeout": "100m" });
      assert.deepEqual(
        [seen.how, seen.body],
        ["complete", "first;after the deadline: TimeoutError"],
      );
    } finally {
      await server.close();
    }
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
    const codes: unknown[] = [];
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
        () => contextFrom(req, res, { responseGraceMs: -1 }),
        () => contextFrom(req, res, { responseGraceMs: 60_001 }),
        () => contextFrom(req, res, { maxTimeotMs: 5 } as never),
      ]) {
        try {
          bad();
          errors.push("no error");
        } catch (err) {
          errors.push((err as Error).message);
          codes.push((err as { code?: unknown }).code);
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
      /^contextFrom: options.maxTimeoutMs must be a number of milliseconds from 1 to 86,400,000, got 0/,
      /^contextFrom: options.maxTimeoutMs .* got Infinity/,
      /^contextFrom: options.defaultTimeoutMs .* got -1/,
      /^contextFrom: options.defaultTimeoutMs \(2000\) must not exceed options.maxTimeoutMs \(1000\)/,
      /^contextFrom: options.header must be a header name, a list of them, or false, got "bad header"/,
      /^contextFrom: options.parent must be a timebound Context/,
      /^contextFrom: options.name must be a string, got 5/,
      /^contextFrom: options must be an object, got 7/,
      /^contextFrom: options.responseGraceMs must be a number of milliseconds from 0 to 60,000, or Infinity, got -1/,
      /^contextFrom: options.responseGraceMs .* got 60001/,
      /^contextFrom: unknown option options.maxTimeotMs \(known: parent, name, header, maxTimeoutMs, defaultTimeoutMs, responseGraceMs\)$/,
    ];
    assert.equal(errors.length, expected.length);
    expected.forEach((re, i) => assert.match(String(errors[i]), re));
    const unknown = "TIMEBOUND_ERR_UNKNOWN_OPTION";
    const invalid = "TIMEBOUND_ERR_INVALID_ARGUMENT";
    assert.deepEqual(
      codes,
      expected.map((_, i) => (i === expected.length - 1 ? unknown : invalid)),
      "every argument error carries its code",
    );
  });
});

describe("requestContexts: contextFrom with its options checked once", () => {
  it("makes the same request context as contextFrom, and refuses bad options when made", async () => {
    const contextOf = requestContexts({ maxTimeoutMs: 2_000, name: "api" });
    let seen: { name: string; left: number } | undefined;
    const server = await start((req, res) => {
      const ctx = contextOf(req, res);
      seen = { name: ctx.name ?? "", left: ctx.remaining() };
      res.end("ok");
    });
    try {
      await get(server.url, { "timebound-timeout": "10S" });
      assert.equal(seen?.name, "api");
      assert.ok(seen.left <= 2_000 && seen.left > 1_900, `cut to maxTimeoutMs: ${seen.left}`);
    } finally {
      await server.close();
    }
    assert.throws(
      () => requestContexts({ maxTimeoutMs: 0 }),
      /requestContexts: options\.maxTimeoutMs must be a number of milliseconds from 1 to 86,400,000, got 0/,
    );
    assert.throws(
      () => contextOf({} as IncomingMessage, {} as ServerResponse),
      /requestContexts: req must be an http\.IncomingMessage/,
    );
  });
});
