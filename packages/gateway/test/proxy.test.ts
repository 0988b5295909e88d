// The proxy path against real sockets: a node:http upstream on loopback, the gateway's handler
// in a node:http server, requests from undici.
import assert from "node:assert/strict";
import {
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
  request as httpRequest,
} from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { createGateway, type Gateway } from "../src/gateway.js";
import { parseConfig } from "../src/config/load.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

describe("the gateway's proxy path", () => {
  let upstream: { server: Server; origin: string };
  let front: { server: Server; origin: string };
  let gateway: Gateway;
  const seen: { headers: IncomingMessage["headers"]; closedEarly: boolean }[] = [];

  before(async () => {
    upstream = await listen((req, res) => {
      const record = { headers: req.headers, closedEarly: false };
      seen.push(record);
      res.on("close", () => {
        if (!res.writableFinished) record.closedEarly = true;
      });
      if (req.url === "/hang") return; // never answers
      if (req.url === "/hop") {
        res.writeHead(200, {
          connection: "keep-alive, x-resp-hop",
          "x-resp-hop": "1",
          "proxy-authenticate": "Basic",
          "x-end-to-end": "kept",
        });
        res.end("hop");
        return;
      }
      if (req.url === "/slow") {
        setTimeout(() => res.end("late"), 400).unref();
        return;
      }
      res.setHeader("connection", "keep-alive");
      res.end(`hello ${req.url ?? ""}`);
    });
    gateway = createGateway(
      parseConfig(`
listen: { port: 0 }
upstreams:
  api: { targets: ["${upstream.origin}"] }
routes:
  - { path: /api/*, upstream: api, timeoutMs: 300, rewrite: { stripPrefix: /api } }
  - { path: /*, upstream: api, timeoutMs: 200 }
`),
    );
    front = await listen(gateway.handle);
  });

  after(async () => {
    await gateway.close(100);
    front.server.close();
    upstream.server.closeAllConnections();
    upstream.server.close();
  });

  it("forwards the request and streams the answer back, path rewritten", async () => {
    const res = await request(`${front.origin}/api/items?x=1`);
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), "hello /items?x=1");
    assert.ok(typeof res.headers["x-request-id"] === "string", "the answer carries a request id");
  });

  it("sends the time left upstream, within the route's deadline, and forwarding headers", async () => {
    seen.length = 0;
    await (await request(`${front.origin}/plain`)).body.text();
    const h = seen[0]!.headers;
    const left = Number(h["x-envoy-expected-rq-timeout-ms"]);
    assert.ok(left > 100 && left <= 200, `time left sent upstream: ${left} ms (route: 200 ms)`);
    assert.match(String(h["timebound-timeout"]), /^\d+m$/);
    assert.equal(h["x-forwarded-for"], "127.0.0.1");
    assert.equal(h["x-forwarded-proto"], "http");
    assert.match(String(h.forwarded), /^for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"$/);
  });

  it("honours a shorter deadline from the caller's header, never a longer one", async () => {
    seen.length = 0;
    await (await request(`${front.origin}/a`, { headers: { "grpc-timeout": "50m" } })).body.text();
    await (
      await request(`${front.origin}/b`, { headers: { "timebound-timeout": "99S" } })
    ).body.text();
    const shorter = Number(seen[0]!.headers["x-envoy-expected-rq-timeout-ms"]);
    const longer = Number(seen[1]!.headers["x-envoy-expected-rq-timeout-ms"]);
    assert.ok(shorter <= 50, `caller asked for 50 ms, upstream was told ${shorter}`);
    assert.ok(
      longer <= 200,
      `caller asked for 99 s on a 200 ms route, upstream was told ${longer}`,
    );
  });

  it("keeps hop-by-hop headers on their hop, both ways (Connection-listed ones too)", async () => {
    seen.length = 0;
    const got = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${front.origin}/hop`, {
        headers: {
          connection: "keep-alive, x-hop",
          "x-hop": "1",
          "keep-alive": "timeout=5",
          "proxy-authorization": "Basic c2VjcmV0",
          "proxy-connection": "keep-alive",
          te: "trailers",
          "x-end-to-end": "kept",
        },
      });
      req.on("response", resolve).on("error", reject).end();
    });
    got.resume();
    const up = seen[0]!.headers;
    for (const name of ["x-hop", "keep-alive", "proxy-authorization", "proxy-connection", "te"]) {
      assert.equal(up[name], undefined, `${name} did not go upstream`);
    }
    assert.equal(up["x-end-to-end"], "kept", "an end-to-end header went upstream");
    assert.equal(got.headers["x-resp-hop"], undefined, "x-resp-hop did not come back");
    assert.equal(got.headers["proxy-authenticate"], undefined, "proxy-authenticate did not");
    assert.equal(got.headers["x-end-to-end"], "kept", "an end-to-end header came back");
  });

  it("answers 504 with a JSON reason at the deadline and closes the upstream request", async () => {
    seen.length = 0;
    const t0 = performance.now();
    const res = await request(`${front.origin}/hang`);
    const ms = performance.now() - t0;
    assert.equal(res.statusCode, 504);
    const body = (await res.body.json()) as { error: string; route: string; requestId: string };
    assert.equal(body.error, "deadline-exceeded");
    assert.equal(body.route, "* /*");
    assert.ok(ms < 200 + 150, `answered after ${Math.round(ms)} ms on a 200 ms route`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen[0]!.closedEarly, true, "the upstream saw its request closed");
  });

  it("closes the upstream request when the client goes away", async () => {
    seen.length = 0;
    const ac = new AbortController();
    const pending = request(`${front.origin}/api/hang`, { signal: ac.signal }).catch(
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await pending;
    const t0 = performance.now();
    while (seen[0]?.closedEarly !== true && performance.now() - t0 < 1000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(
      seen[0]?.closedEarly,
      true,
      "the upstream request was closed after the client left",
    );
    assert.ok(performance.now() - t0 < 100, "closed within 100 ms of the client's going");
  });

  // node:http sends the target as written (a WHATWG URL would resolve the dots first).
  function raw(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${front.origin}${path}`, { path }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  for (const path of ["/api/../secret", "/api/%2e%2e/secret", "/api/%2E./x", "/a%2fb", "/a\\b"]) {
    it(`refuses the path ${path} with a 400 naming why, and sends nothing upstream`, async () => {
      seen.length = 0;
      const res = await raw(path);
      assert.equal(res.status, 400);
      const body = JSON.parse(res.body) as { error: string; message: string };
      assert.equal(body.error, "bad-request");
      assert.match(body.message, /dot segment|encoded slash/);
      assert.equal(seen.length, 0, "nothing reached the upstream");
    });
  }
});

describe("closing the gateway past its drain time", () => {
  it("answers what it cancels with a 503 naming the shutdown, and closes the upstream request", async () => {
    let upstreamClosed = false;
    let arrived: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const upstream = await listen((_req, res) => {
      res.on("close", () => (upstreamClosed = !res.writableFinished));
      arrived(); // and never answers
    });
    const gateway = createGateway(
      parseConfig(`
listen: { port: 0 }
upstreams:
  api: { targets: ["${upstream.origin}"] }
routes:
  - { path: /*, upstream: api, timeoutMs: 5000 }
`),
    );
    const front = await listen(gateway.handle);
    try {
      const pending = request(`${front.origin}/hang`);
      await reached; // in flight: the upstream has it
      const t0 = performance.now();
      assert.equal(await gateway.close(50), false, "the hanging request did not drain in time");
      const res = await pending;
      assert.equal(res.statusCode, 503);
      const body = (await res.body.json()) as { error: string; route: string; message: string };
      assert.equal(body.error, "shutting-down");
      assert.equal(body.route, "* /*");
      assert.match(body.message, /shut down before the upstream answered/);
      assert.ok(
        performance.now() - t0 < 500,
        "answered at the drain deadline, not after a grace period",
      );
      const t1 = performance.now();
      while (!upstreamClosed && performance.now() - t1 < 1000) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(upstreamClosed, true, "the upstream request was closed");
    } finally {
      front.server.closeAllConnections();
      front.server.close();
      upstream.server.closeAllConnections();
      upstream.server.close();
    }
  });
});
