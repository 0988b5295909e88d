// The rate limit shared across gateway instances through the real Redis of the test run: two
// gateways share one budget per client; with Redis unreachable or silent each gateway limits on
// its own and counts the fallback, with its reason, in /metrics.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { type Server, createServer } from "node:http";
import { type Server as TcpServer, createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { parseConfig, startGateway, type RunningGateway } from "../src/index.js";

const REDIS_URL = process.env.TIMEBOUND_TEST_REDIS_URL;

describe("shared rate limit through Redis", { skip: REDIS_URL === undefined }, () => {
  let upstream: Server;
  let origin: string;
  before(async () => {
    upstream = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });

  function gateway(redisUrl: string, prefix: string, burst: number): Promise<RunningGateway> {
    return startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
redis: { url: "${redisUrl}", keyPrefix: "${prefix}", timeoutMs: 200 }
upstreams: { u: { targets: ["${origin}"] } }
routes:
  - path: /limited
    name: limited
    upstream: u
    timeoutMs: 5000
    rateLimit: { ratePerSecond: 1, burst: ${burst}, key: "header:x-client", shared: true }
`),
    });
  }

  async function status(gw: RunningGateway, client: string): Promise<number> {
    const res = await request(`${gw.url}/limited`, { headers: { "x-client": client } });
    await res.body.dump();
    return res.statusCode;
  }

  async function fallbacks(gw: RunningGateway): Promise<Record<string, number>> {
    const text = await gw.metrics.registry.metrics();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(
      /^timebound_gateway_rate_limit_fallbacks_total\{route="limited",reason="(\w+)"\} (\d+)$/gm,
    )) {
      out[m[1]!] = Number(m[2]);
    }
    return out;
  }

  it("two gateway instances share one limit per client", async () => {
    const prefix = `test-${randomBytes(4).toString("hex")}:`;
    const [a, b] = await Promise.all([
      gateway(REDIS_URL!, prefix, 4),
      gateway(REDIS_URL!, prefix, 4),
    ]);
    try {
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        seen.push(await status(a, "alice"));
        seen.push(await status(b, "alice"));
      }
      assert.deepEqual(seen, [200, 200, 200, 200, 429, 429], "4 calls per 4 s window, shared");
      // Another client has its own budget.
      assert.equal(await status(b, "bob"), 200);
      const res = await request(`${a.url}/limited`, { headers: { "x-client": "alice" } });
      assert.equal(res.statusCode, 429);
      assert.ok(Number(res.headers["retry-after"]) >= 1, "Retry-After is set");
      assert.equal(((await res.body.json()) as { error: string }).error, "rate-limited");
      assert.deepEqual(await fallbacks(a), {}, "Redis decided every call");
      assert.deepEqual(await fallbacks(b), {}, "Redis decided every call");
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("falls back to each instance's local limit when Redis is down, and counts it", async () => {
    // A port nobody listens on.
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const url = `redis://127.0.0.1:${deadPort}`;
    const [a, b] = await Promise.all([gateway(url, "x:", 2), gateway(url, "x:", 2)]);
    try {
      const seenA = [await status(a, "alice"), await status(a, "alice"), await status(a, "alice")];
      const seenB = [await status(b, "alice"), await status(b, "alice"), await status(b, "alice")];
      assert.deepEqual(seenA, [200, 200, 429], "a's own bucket (burst 2) decides");
      assert.deepEqual(seenB, [200, 200, 429], "b's own bucket decides: nothing is shared");
      const counted = await fallbacks(a);
      assert.equal(counted.unavailable, 3, `fallbacks counted: ${JSON.stringify(counted)}`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("falls back within the request's deadline when Redis does not answer", async () => {
    // Accepts connections and never answers: every decision times out.
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const url = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const gw = await gateway(url, "y:", 2);
    try {
      await new Promise((r) => setTimeout(r, 100)); // connected
      const t0 = performance.now();
      assert.equal(await status(gw, "carol"), 200);
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `decided locally after ${Math.round(ms)} ms (Redis slice: 200 ms)`);
      assert.equal(await status(gw, "carol"), 200);
      assert.equal(await status(gw, "carol"), 429);
      const counted = await fallbacks(gw);
      assert.ok((counted.timeout ?? 0) >= 1, `timeouts counted: ${JSON.stringify(counted)}`);
      assert.equal(
        (counted.timeout ?? 0) + (counted.unavailable ?? 0),
        3,
        `every call fell back: ${JSON.stringify(counted)}`,
      );
    } finally {
      await gw.stop();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
