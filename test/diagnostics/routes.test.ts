// pprof labels by route: the contexts a handler makes under a request context of timebound's
// HTTP adapters carry the request's route (Go's pprof.Do labels, inherited by goroutines), in
// the profile, the text dump and the snapshot, served by /debug/timebound/ of a real server.
import assert from "node:assert/strict";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import express from "express";
import Fastify from "fastify";
import { Profile } from "pprof-format";
import { type CancelableContext, background, withCancel, withTimeout } from "../../src/index.js";
import { raceContext } from "../../src/io/race.js";
import { toPprof } from "../../src/diagnostics/pprof.js";
import {
  contextOf,
  expressContext,
  fastifyContext,
  requestContexts,
} from "../../src/io/http/index.js";
import { debugHandler } from "../../src/diagnostics/http-handler.js";
import { normalizePath, routePattern } from "../../src/diagnostics/routes.js";
import { type Tracking, track } from "../../src/diagnostics/track.js";

let tracking: Tracking | undefined;
let server: Server | undefined;

afterEach(async () => {
  tracking?.stop();
  tracking = undefined;
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  }
});

function listen(s: Server): Promise<string> {
  server = s;
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`),
    ),
  );
}

/** A handler that leaks a child of its request's context and holds the response until released. */
function leakyHandler(): {
  handle: (ctx: CancelableContext, res: ServerResponse) => void;
  entered: Promise<void>;
  release: () => void;
} {
  let entered!: () => void;
  const enteredP = new Promise<void>((resolve) => (entered = resolve));
  const waiting: ServerResponse[] = [];
  return {
    handle(ctx, res) {
      withCancel(ctx, { name: "leaked" }); // its cancel dropped
      waiting.push(res);
      entered();
    },
    entered: enteredP,
    release: () => {
      for (const res of waiting) res.end("ok");
    },
  };
}

/** The `route` labels of the samples whose `context` label is `contextName`. */
function routesOf(pprof: Buffer, contextName: string): string[] {
  const profile = Profile.decode(gunzipSync(pprof));
  const str = (i: unknown): string => profile.stringTable.strings[Number(i)] ?? "";
  const routes: string[] = [];
  for (const sample of profile.sample) {
    const labels = new Map(sample.label.map((l) => [str(l.key), str(l.str)]));
    if (labels.get("context") === contextName) routes.push(labels.get("route") ?? "(none)");
  }
  return routes;
}

async function text(url: string): Promise<string> {
  return (await fetch(url)).text();
}

async function bytes(url: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}

describe("route labels from the HTTP adapters", () => {
  it("node:http with requestContexts: the path with its ids folded, on contexts made in the handler", async () => {
    tracking = track({ timers: false, dumpSignal: false });
    const debug = debugHandler();
    const contextFor = requestContexts();
    const leaky = leakyHandler();
    const base = await listen(
      createServer((req: IncomingMessage, res: ServerResponse) => {
        if (debug(req, res)) return;
        leaky.handle(contextFor(req, res), res);
      }),
    );
    const pending = fetch(`${base}/users/42?full=1`);
    await leaky.entered;
    try {
      const routes = routesOf(await bytes(`${base}/debug/timebound/profile.pb.gz`), "leaked");
      assert.deepEqual(routes, ["GET /users/:id"], "the leaked context is labelled with its route");
      const dump = await text(`${base}/debug/timebound/contexts?debug=1`);
      assert.match(dump, /withCancel "leaked" \(deadline\) for GET \/users\/:id/);
      const requestRoutes = routesOf(
        await bytes(`${base}/debug/timebound/profile.pb.gz`),
        "GET /users/42",
      );
      assert.deepEqual(requestRoutes, ["GET /users/:id"], "the request context itself too");
    } finally {
      leaky.release();
      await (await pending).text();
    }
  });

  it("Express: the route pattern the router matched", async () => {
    tracking = track({ timers: false, dumpSignal: false });
    const debug = debugHandler();
    const leaky = leakyHandler();
    const app = express();
    app.use((req, res, next) => {
      if (!debug(req, res)) next();
    });
    app.use(expressContext());
    app.get("/orders/:orderId/items/:sku", (req, res) => leaky.handle(contextOf(req), res));
    const base = await listen(createServer(app));
    const pending = fetch(`${base}/orders/abc/items/shoe-blue`);
    await leaky.entered;
    try {
      const routes = routesOf(await bytes(`${base}/debug/timebound/profile.pb.gz`), "leaked");
      assert.deepEqual(routes, ["GET /orders/:orderId/items/:sku"], "labelled with the pattern");
      const snapshot = tracking.snapshot();
      const leaked = snapshot.contexts.find((c) => c.name === "leaked");
      assert.equal(leaked?.route, "GET /orders/:orderId/items/:sku", "the snapshot says it too");
    } finally {
      leaky.release();
      await (await pending).text();
    }
  });

  it("Fastify: the route pattern, known from the request's start", async () => {
    tracking = track({ timers: false, dumpSignal: false });
    const leaky = leakyHandler();
    const app = Fastify();
    await app.register(fastifyContext);
    app.get("/carts/:cartId", async (request, reply) => {
      leaky.handle(request.ctx, reply.raw);
      return reply.hijack();
    });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    const pending = fetch(`${base}/carts/123456`);
    try {
      await leaky.entered;
      const snapshot = tracking.snapshot();
      const leaked = snapshot.contexts.find((c) => c.name === "leaked");
      assert.equal(leaked?.route, "GET /carts/:cartId", "labelled with Fastify's pattern");
    } finally {
      leaky.release();
      await (await pending).text();
      await app.close();
    }
  });

  it("leaves contexts made outside any request unlabelled", () => {
    tracking = track({ timers: false, dumpSignal: false });
    const ctx = withCancel(background(), { name: "outside" });
    try {
      const outside = tracking.snapshot().contexts.find((c) => c.name === "outside");
      assert.ok(outside !== undefined, "the context is tracked");
      assert.equal("route" in outside, false, "and has no route");
    } finally {
      ctx.cancel();
    }
  });

  it("a lost cancel and an ignored cancellation name the route they happened under", async () => {
    tracking = track({ timers: false, dumpSignal: false, ignoredCancellationMs: 50 });
    const contextFor = requestContexts();
    const base = await listen(
      createServer((req: IncomingMessage, res: ServerResponse) => {
        const ctx = contextFor(req, res);
        withTimeout(ctx, 5, { name: "lost" }); // its cancel dropped: ends by its own deadline
        const lookup = withTimeout(ctx, 5, { name: "lookup" });
        // Work that ignores its context and finishes 150 ms after the deadline.
        void raceContext(
          lookup,
          () => new Promise((r) => setTimeout(r, 150)),
          undefined,
          "db.query",
        )
          .catch(() => undefined)
          .finally(() => lookup.cancel());
        setTimeout(() => res.end("ok"), 20);
      }),
    );
    await (await fetch(`${base}/orders/7`)).text();
    await new Promise((r) => setTimeout(r, 400)); // past the work's end and the cancel's grace
    const findings = tracking.findings();
    const lost = findings.find((f) => f.kind === "lost-cancel" && f.contextName === "lost");
    assert.ok(lost !== undefined, `a lost-cancel finding: ${JSON.stringify(findings)}`);
    assert.equal(lost.route, "GET /orders/:id");
    assert.match(lost.message, / for GET \/orders\/:id never canceled/);
    const ignored = findings.find((f) => f.kind === "ignored-cancellation");
    assert.ok(
      ignored !== undefined,
      `an ignored-cancellation finding: ${JSON.stringify(findings)}`,
    );
    assert.equal(ignored.route, "GET /orders/:id");
    const profile = await toPprof(tracking.snapshot(), { items: "findings" });
    assert.deepEqual(routesOf(profile, "lost"), ["GET /orders/:id"], "the findings profile too");
  });
});

describe("normalizePath and routePattern", () => {
  it("folds ids, UUIDs, hashes and long tokens, and keeps words", () => {
    assert.equal(normalizePath("/users/42/orders/9f86d081884c"), "/users/:id/orders/:id");
    assert.equal(
      normalizePath("/files/3f2504e0-4f89-11d3-9a0c-0305e82c3301/raw"),
      "/files/:id/raw",
    );
    assert.equal(normalizePath("/sessions/aZ3kq9LmN0pQrStUvWx"), "/sessions/:id");
    assert.equal(normalizePath("/api/v2/health"), "/api/v2/health");
    assert.equal(normalizePath("/"), "/");
  });

  it("reads Fastify's and Express's patterns, and nothing from a bare request", () => {
    assert.equal(routePattern({ routeOptions: { url: "/users/:id" } }), "/users/:id");
    assert.equal(
      routePattern({ baseUrl: "/api", route: { path: "/users/:id" } }),
      "/api/users/:id",
    );
    assert.equal(routePattern({ url: "/users/42" }), undefined);
  });
});
