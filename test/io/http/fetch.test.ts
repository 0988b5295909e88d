import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Agent, fetch as undiciFetch } from "undici";
import {
  Canceled,
  DeadlineExceeded,
  background,
  now,
  sleep,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import {
  MAX_SENT_DEADLINE_MS,
  createFetch,
  fetch,
  parseTimeout,
} from "../../../src/io/http/index.js";
import {
  CALLER_SLACK_MS,
  SERVER_SLACK_MS,
  drain,
  okServer,
  trickle,
  rejection,
  silentServer,
  slowServer,
  start,
  useServers,
  within,
} from "./servers.js";

/** Waits (at most 50 turns of the event loop) for `done` to hold: the wire ends after fetch returns. */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await new Promise((r) => setImmediate(r));
}

describe("fetch(ctx): the deadline covers the body", () => {
  const servers = useServers();

  it("rejects res.text() with DeadlineExceeded when the deadline passes mid-body, and the server sees the socket close", async () => {
    const ctx = withTimeout(background(), 300);
    const res = await fetch(ctx, servers.trickling.url);
    assert.equal(res.status, 200);
    const served = servers.trickling.served.at(-1)!;
    const { err, at } = await rejection(within(res.text(), 2_000, "res.text()"));
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.equal(err, ctx.err, "the caller gets the context's own error");
    const late = at - ctx.deadline!;
    assert.ok(late < CALLER_SLACK_MS, `released ${late.toFixed(1)} ms after the deadline`);
    const closedAt = await within(served.closed, 1_000, "server close");
    assert.equal(served.finished, false);
    assert.ok(closedAt - ctx.deadline! < SERVER_SLACK_MS, "server kept sending");
    assert.ok(served.bytesSent > 0, "the body was trickling when the deadline passed");
    // The pool is healthy: the next call works.
    assert.equal(await (await fetch(background(), servers.ok.url)).text(), "ok");
  });

  it("rejects a body read later, after the deadline, at once; the connection closed at the deadline", async () => {
    const ctx = withTimeout(background(), 200);
    const res = await fetch(ctx, servers.trickling.url);
    const served = servers.trickling.served.at(-1)!;
    const closedAt = await within(served.closed, 1_000, "server close");
    assert.ok(closedAt - ctx.deadline! < SERVER_SLACK_MS, "closed with nobody reading");
    const start = now();
    const { err, at } = await rejection(within(res.arrayBuffer(), 1_000, "res.arrayBuffer()"));
    assert.equal(err, ctx.err);
    assert.ok(at - start < 50, `took ${(at - start).toFixed(1)} ms`);
  });

  it("errors res.body's reader with the context's error, and Canceled on cancel()", async () => {
    const ctx = withCancel(background());
    const res = await fetch(ctx, servers.trickling.url);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    setTimeout(() => ctx.cancel(new Error("user left")), 120);
    const { err } = await rejection(drain(reader));
    assert.ok(err instanceof Canceled);
    assert.equal(err, ctx.err);
    assert.equal((await within(servers.trickling.served.at(-1)!.closed, 1_000, "close")) > 0, true);
  });

  it("rejects before the headers arrive, and the server sees the request go", async () => {
    const slow = await slowServer();
    try {
      const ctx = withTimeout(background(), 200);
      const { err, at } = await rejection(within(fetch(ctx, slow.url), 2_000, "fetch"));
      assert.equal(err, ctx.err);
      assert.ok(at - ctx.deadline! < CALLER_SLACK_MS);
      const closedAt = await within(slow.served[0]!.closed, 1_000, "server close");
      assert.ok(closedAt - ctx.deadline! < SERVER_SLACK_MS);
    } finally {
      await slow.close();
    }
  });

  it("rejects on a port that accepts but never answers, and closes the connection", async () => {
    const silent = await silentServer();
    try {
      const ctx = withTimeout(background(), 200);
      const { err, at } = await rejection(within(fetch(ctx, silent.url), 2_000, "fetch"));
      assert.ok(err instanceof DeadlineExceeded);
      assert.ok(at - ctx.deadline! < CALLER_SLACK_MS);
      const used = () => silent.connections.filter((c) => c.gotRequest);
      for (let i = 0; i < 50 && used().some((c) => c.closedAt === undefined); i++) {
        await sleep(background(), 10);
      }
      // undici may open a spare connection as it tears this one down; no request goes on it.
      assert.equal(used().length, 1, "one request was sent");
      const closedAt = used()[0]!.closedAt;
      assert.ok(closedAt !== undefined, "the connection that carried it was closed");
      assert.ok(closedAt - ctx.deadline! < SERVER_SLACK_MS);
    } finally {
      await silent.close();
    }
  });

  it("never starts a request on an ended context", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    const before = servers.ok.served.length;
    const { err } = await rejection(fetch(ctx, servers.ok.url));
    assert.equal(err, ctx.err);
    assert.equal(servers.ok.served.length, before);
  });

  it("leaves nothing linked under a long-lived context and keeps connections alive", async () => {
    const server = withCancel(background(), { name: "server" });
    const dispatcher = new Agent({ connections: 2 });
    const connectionsBefore = servers.ok.connections();
    for (let i = 0; i < 200; i++) {
      const res = await fetch(server, servers.ok.url, { dispatcher });
      assert.equal(await res.text(), "ok");
      assert.equal(dependents(server), 0, `request ${i}`);
    }
    assert.ok(servers.ok.connections() - connectionsBefore <= 2, "connections were reused");
    await dispatcher.close();
    server.cancel();
  });

  it("releases a response that is all in memory at once, and keeps one still arriving linked until its body is canceled", async () => {
    const server = withCancel(background(), { name: "server" });
    // "ok" arrives with its headers: nothing is left on the wire once fetch returns.
    const small = await fetch(server, servers.ok.url);
    await settle(() => dependents(server) === 0);
    assert.equal(dependents(server), 0, "a response all in memory is not linked");
    assert.equal(await small.text(), "ok");
    // A body still trickling stays linked, unread, until it is canceled.
    const res = await fetch(server, servers.trickling.url);
    assert.equal(dependents(server), 1, "a body still arriving is linked");
    await res.body!.cancel();
    await settle(() => dependents(server) === 0);
    assert.equal(dependents(server), 0, "canceled: unlinked");
    await within(servers.trickling.served.at(-1)!.closed, 1_000, "server close");
    server.cancel();
  });

  it("reads a body that had all arrived even after the context ended, as fetch does after an abort", async () => {
    const ctx = withCancel(background());
    const res = await fetch(ctx, servers.ok.url);
    const copy = res.clone();
    ctx.cancel();
    assert.equal(await res.text(), "ok");
    assert.equal(await copy.text(), "ok");
    // The same holds for init.signal.
    const controller = new AbortController();
    const kept = await fetch(background(), servers.ok.url, { signal: controller.signal });
    controller.abort();
    assert.equal(await kept.text(), "ok");
    // A body cut off by the context rejects with its error, also when read after the cut.
    const short = withTimeout(background(), 100);
    const cut = await fetch(short, servers.trickling.url);
    await within(servers.trickling.served.at(-1)!.closed, 1_000, "server close");
    const { err } = await rejection(cut.text());
    assert.equal(err, short.err);
  });

  it("keeps the body stream of a response that was dropped (undici cancels unlocked bodies of collected responses)", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, "run with --expose-gc (scripts/test.mjs does)");
    const server = withCancel(background(), { name: "server" });
    const slowBody = await start((_req, res, served) =>
      trickle(res, served, { everyMs: 20, forMs: 300, chunk: "y" }),
    );
    try {
      const body = await (async () => (await fetch(server, slowBody.url)).body!)();
      for (let i = 0; i < 5; i++) {
        gc();
        await sleep(background(), 10);
      }
      const text = await within(new Response(body).text(), 2_000, "reading the body");
      assert.ok(text.length >= 10, `the whole body arrived: ${text.length} bytes`);
      assert.equal(text, "y".repeat(text.length));
      assert.equal(slowBody.served.at(-1)!.finished, true, "the server sent it all");
    } finally {
      server.cancel();
      await slowBody.close();
    }
  });

  it("ends the request of a body dropped unread once it is garbage-collected", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, "run with --expose-gc (scripts/test.mjs does)");
    const server = withCancel(background(), { name: "server" });
    await (async () => {
      await fetch(server, servers.trickling.url); // the response is dropped unread
    })();
    const served = servers.trickling.served.at(-1)!;
    assert.equal(dependents(server), 1);
    for (let i = 0; i < 50 && dependents(server) > 0; i++) {
      gc();
      await sleep(background(), 10);
    }
    assert.equal(dependents(server), 0);
    await within(served.closed, 1_000, "server close");
    server.cancel();
  });

  it("follows a redirect and still closes the redirected connection at the deadline", async () => {
    const hop = await start((_req, res) => {
      res.writeHead(302, { location: servers.trickling.url });
      res.end();
    });
    try {
      const ctx = withTimeout(background(), 250);
      const res = await fetch(ctx, hop.url);
      assert.equal(res.redirected, true);
      const served = servers.trickling.served.at(-1)!;
      const { err } = await rejection(within(res.text(), 2_000, "text"));
      assert.equal(err, ctx.err);
      const closedAt = await within(served.closed, 1_000, "server close");
      assert.ok(closedAt - ctx.deadline! < SERVER_SLACK_MS);
    } finally {
      await hop.close();
    }
  });

  it("guards a clone's body too, and releases the request once both are read", async () => {
    // Through a signal (the global fetch), the request is over when both bodies are read.
    const server = withCancel(background(), { name: "server" });
    const res = await createFetch({ fetch: globalThis.fetch })(server, servers.ok.url);
    const copy = res.clone();
    assert.equal(await res.text(), "ok");
    assert.equal(dependents(server), 1, "the clone is still unread");
    assert.equal(await copy.text(), "ok");
    assert.equal(dependents(server), 0);
    // Through undici's dispatcher, when all of it has arrived; both read it.
    const direct = await fetch(server, servers.ok.url);
    const twinOk = direct.clone();
    assert.deepEqual([await direct.text(), await twinOk.text()], ["ok", "ok"]);
    assert.equal(dependents(server), 0);

    const ctx = withTimeout(background(), 200);
    const streaming = await fetch(ctx, servers.trickling.url);
    const twin = streaming.clone();
    const [a, b] = await Promise.all([
      rejection(within(streaming.text(), 2_000, "text")),
      rejection(within(twin.arrayBuffer(), 2_000, "clone")),
    ]);
    assert.equal(a.err, ctx.err);
    assert.equal(b.err, ctx.err);
    server.cancel();
  });

  it("keeps status, headers, url and json() of the response", async () => {
    const json = await start((_req, res) => {
      res.writeHead(201, "Made", { "content-type": "application/json", "x-a": "1" });
      res.end(JSON.stringify({ a: 1 }));
    });
    try {
      using ctx = withTimeout(background(), 2_000);
      const res = await fetch(ctx, `${json.url}/path?q=1`);
      assert.equal(res.status, 201);
      assert.equal(res.statusText, "Made");
      assert.equal(res.ok, true);
      assert.equal(res.headers.get("x-a"), "1");
      assert.equal(res.url, `${json.url}/path?q=1`);
      assert.equal(res.redirected, false);
      assert.deepEqual(await res.json(), { a: 1 });
      const head = await fetch(ctx, json.url, { method: "HEAD" });
      assert.equal(head.body, null);
    } finally {
      await json.close();
    }
  });
});

describe("fetch(ctx): the deadline travels in a header", () => {
  const servers = useServers();

  async function got(res: Response): Promise<string> {
    await res.text();
    return res.headers.get("x-got")!;
  }

  it("sends the time left minus the margin, in grpc-timeout encoding", async () => {
    using ctx = withTimeout(background(), 1_000);
    const sent = parseTimeout(await got(await fetch(ctx, servers.ok.url)));
    assert.ok(sent !== undefined && sent <= 990 && sent > 800, `sent ${sent} ms`);
    const wider = createFetch({ marginMs: 200 });
    const sentWider = parseTimeout(await got(await wider(ctx, servers.ok.url)));
    assert.ok(sentWider !== undefined && sentWider <= 800 && sentWider > 600, `${sentWider}`);
  });

  it("uses a configured header name, replaces a header of that name, and keeps the others", async () => {
    const grpc = await okServer("grpc-timeout");
    try {
      using ctx = withTimeout(background(), 500);
      const grpcFetch = createFetch({ header: "grpc-timeout", marginMs: 0 });
      const res = await grpcFetch(ctx, grpc.url, {
        headers: { "GRPC-Timeout": "99H", "x-keep": "yes" },
      });
      const sent = parseTimeout(await got(res));
      assert.ok(sent !== undefined && sent <= 500 && sent > 300, `sent ${sent}`);
      assert.equal(grpc.served.at(-1)!.headers["x-keep"], "yes");
      // A Request's own headers are kept when init has none.
      const req = new Request(grpc.url, { headers: { "x-from-request": "1" } });
      await (await grpcFetch(ctx, req)).text();
      assert.equal(grpc.served.at(-1)!.headers["x-from-request"], "1");
      assert.match(String(grpc.served.at(-1)!.headers["grpc-timeout"]), /^\d+m$/);
    } finally {
      await grpc.close();
    }
  });

  it("sends each redirect hop the time left when it goes", async () => {
    const hop = await start((req, res) => {
      // Answer after 150 ms, so the next hop has visibly less time.
      setTimeout(() => {
        res.writeHead(302, {
          location: servers.ok.url,
          "x-got": String(req.headers["timebound-timeout"]),
        });
        res.end();
      }, 150);
    });
    try {
      using ctx = withTimeout(background(), 2_000);
      const res = await fetch(ctx, hop.url);
      assert.equal(await res.text(), "ok");
      const first = parseTimeout(String(hop.served.at(-1)!.headers["timebound-timeout"]));
      const second = parseTimeout(res.headers.get("x-got")!);
      assert.ok(first !== undefined && second !== undefined, `sent ${first} then ${second}`);
      assert.ok(first - second >= 140, `the second hop got ${first - second} ms less`);
    } finally {
      await hop.close();
    }
  });

  it("sends nothing without a deadline, or with header: false", async () => {
    assert.equal(await got(await fetch(background(), servers.ok.url)), "none");
    using ctx = withTimeout(background(), 1_000);
    assert.equal(await got(await createFetch({ header: false })(ctx, servers.ok.url)), "none");
  });

  it("sends nothing for a deadline more than 2^31 - 1 ms away (a grpc-js server would wrap it)", async () => {
    using far = withTimeout(background(), 30 * 24 * 3600 * 1000);
    assert.equal(await got(await fetch(far, servers.ok.url)), "none");
    using near = withTimeout(background(), MAX_SENT_DEADLINE_MS - 60_000);
    const sent = parseTimeout(await got(await fetch(near, servers.ok.url)));
    assert.ok(sent !== undefined && sent > 2 ** 30, `sent ${sent} ms`);
  });
});

describe("fetch(ctx): init.signal and errors", () => {
  const servers = useServers();

  it("honours init.signal: Canceled with the signal's reason as cause, never a bare AbortError", async () => {
    const ac = new AbortController();
    const res = await fetch(background(), servers.trickling.url, { signal: ac.signal });
    const reason = new Error("caller gave up");
    setTimeout(() => ac.abort(reason), 100);
    const { err } = await rejection(within(res.text(), 2_000, "text"));
    assert.ok(err instanceof Canceled, `got ${String(err)}`);
    assert.equal(err.cause, reason);
    await within(servers.trickling.served.at(-1)!.closed, 1_000, "server close");
  });

  it("maps AbortSignal.timeout in init to DeadlineExceeded", async () => {
    const res = await fetch(background(), servers.trickling.url, {
      signal: AbortSignal.timeout(100),
    });
    const { err } = await rejection(within(res.text(), 2_000, "text"));
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
  });

  it("cannot hang even over a fetch whose body ignores the abort (nodejs/undici#4089)", async () => {
    // A fetch that never hears the signal stands in for the bug where undici left the body
    // stream open after an abort: the caller is released all the same. Reading res.body, the
    // guard also cancels the stream underneath, which closes the connection.
    const deaf = createFetch({
      fetch: (input, init) => undiciFetch(input as string, { ...init, signal: undefined } as never),
    });
    const ctx = withTimeout(background(), 200);
    const res = await deaf(ctx, servers.trickling.url);
    const { err, at } = await rejection(within(res.text(), 2_000, "text"));
    assert.equal(err, ctx.err);
    assert.ok(at - ctx.deadline! < CALLER_SLACK_MS);

    const streamCtx = withTimeout(background(), 200);
    const streamed = await deaf(streamCtx, servers.trickling.url);
    const reader = streamed.body!.getReader();
    const { err: streamErr } = await rejection(drain(reader));
    assert.equal(streamErr, streamCtx.err);
    const closedAt = await within(servers.trickling.served.at(-1)!.closed, 1_000, "server close");
    assert.ok(closedAt - streamCtx.deadline! < SERVER_SLACK_MS);
  });

  it("passes network errors through, and rejects (as fetch does) on bad headers", async () => {
    const { err } = await rejection(fetch(background(), "http://127.0.0.1:1/"));
    assert.ok(err instanceof TypeError);
    using ctx = withTimeout(background(), 1_000);
    const bad = await rejection(
      fetch(ctx, servers.trickling.url, { headers: [["bad header", "1"]] }),
    );
    assert.ok(bad.err instanceof TypeError, String(bad.err));
    assert.equal(dependents(ctx), 0);
  });

  it("works over the global fetch as well", async () => {
    const globalFetch = createFetch({ fetch: globalThis.fetch });
    const ctx = withTimeout(background(), 200);
    const res = await globalFetch(ctx, servers.trickling.url);
    await sleep(background(), 300); // the body is read later
    const { err } = await rejection(within(res.text(), 1_000, "text"));
    assert.equal(err, ctx.err);
  });

  it("rejects bad arguments (never throws: it returns a promise) with errors that name them", async () => {
    const bad = fetch as (...args: unknown[]) => Promise<Response>;
    /** The call returns a promise, which rejects with a TypeError matching `re`. */
    const rejectsWith = async (call: () => Promise<unknown>, re: RegExp): Promise<void> => {
      let pending: Promise<unknown> | undefined;
      assert.doesNotThrow(() => (pending = call()), "fetch returned instead of throwing");
      await assert.rejects(
        pending!,
        (err: unknown) => err instanceof TypeError && re.test(err.message),
      );
    };
    await rejectsWith(
      () => bad({}, servers.trickling.url),
      /fetch: ctx must be a timebound Context/,
    );
    await rejectsWith(() => bad(background(), 42), /fetch: input must be a URL string.*got 42/);
    await rejectsWith(
      () => bad(background(), servers.trickling.url, "x"),
      /fetch: init must be an object/,
    );
    await rejectsWith(
      () => bad(background(), servers.trickling.url, { signal: "soon" }),
      /fetch: init.signal must be an AbortSignal, got "soon"/,
    );
    // A factory is no promise API: a bad option throws where the fetch is made.
    assert.throws(() => createFetch({ marginMs: -1 }), /createFetch: options.marginMs .* got -1/);
    assert.throws(() => createFetch({ header: "a b" }), /createFetch: options.header .*"a b"/);
    assert.throws(
      () => createFetch({ fetch: "x" as unknown as typeof globalThis.fetch }),
      /createFetch: options.fetch/,
    );
    // createFetch's options are timebound's own: a misspelt one is refused, not ignored.
    assert.throws(() => createFetch({ marginMS: 5 } as never), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message: "createFetch: unknown option options.marginMS (known: header, marginMs, fetch)",
    });
    const invalid = await rejection(bad(background(), servers.trickling.url, { signal: 1 }));
    assert.equal((invalid.err as { code?: unknown }).code, "TIMEBOUND_ERR_INVALID_ARGUMENT");
  });

  it("passes fetch's own init through: keys it does not know are not refused", async () => {
    using ctx = withTimeout(background(), 5_000);
    const init = { method: "GET", keepalive: false, notAnInitKey: 1 } as RequestInit;
    const res = await fetch(ctx, servers.ok.url, init);
    assert.equal(await res.text(), "ok");
  });
});
