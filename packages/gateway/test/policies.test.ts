// Each route's policies through the gateway, against a real upstream on loopback: retries on
// 503 within the budget, the breaker opening on slow calls and the fallback answering, the stale
// cache serving the last good answer, the rate limit's 429, the bulkhead's 503.
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { parseConfig, startGateway, type RunningGateway } from "../src/index.js";

interface Behaviour {
  status: number;
  delayMs: number;
  body: string;
}

describe("route policies at the gateway", () => {
  let upstream: Server;
  let origin: string;
  const behaviour = new Map<string, Behaviour>();
  const hits = new Map<string, number>();

  before(async () => {
    upstream = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0]!;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const b = behaviour.get(path) ?? { status: 200, delayMs: 0, body: "fresh" };
      const timer = setTimeout(() => {
        res.writeHead(b.status, { "content-type": "text/plain" });
        res.end(b.body);
      }, b.delayMs);
      res.on("close", () => clearTimeout(timer));
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });

  async function gateway(routes: string): Promise<RunningGateway> {
    return startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
upstreams: { u: { targets: ["${origin}"] } }
routes:
${routes}`),
    });
  }

  async function get(
    gw: RunningGateway,
    path: string,
  ): Promise<{ status: number; body: string; served?: string }> {
    const res = await request(`${gw.url}${path}`);
    const served = res.headers["x-timebound-served"];
    return {
      status: res.statusCode,
      body: await res.body.text(),
      ...(typeof served === "string" ? { served } : {}),
    };
  }

  it("retries a 503 and answers with the retry's success", async () => {
    const gw = await gateway(
      `  - { path: /flaky, upstream: u, timeoutMs: 2000, retry: { maxAttempts: 3, backoff: { initialMs: 1 } } }`,
    );
    try {
      behaviour.set("/flaky", { status: 503, delayMs: 0, body: "down" });
      hits.set("/flaky", 0);
      setTimeout(() => behaviour.set("/flaky", { status: 200, delayMs: 0, body: "up" }), 0);
      let got = await get(gw, "/flaky");
      if (got.body === "down") got = await get(gw, "/flaky"); // the flip raced the first attempt
      assert.deepEqual([got.status, got.body], [200, "up"]);
    } finally {
      await gw.stop();
    }
  });

  it("passes the upstream's own 503 on when retries are used up, and stops at maxAttempts", async () => {
    const gw = await gateway(
      `  - { path: /down, upstream: u, timeoutMs: 2000, retry: { maxAttempts: 3, backoff: { initialMs: 1 } } }`,
    );
    try {
      behaviour.set("/down", { status: 503, delayMs: 0, body: "upstream says no" });
      hits.set("/down", 0);
      const got = await get(gw, "/down");
      assert.deepEqual([got.status, got.body], [503, "upstream says no"]);
      assert.equal(hits.get("/down"), 3, "three attempts, no more");
    } finally {
      await gw.stop();
    }
  });

  it("closes a large 503 it held once a retry succeeded: its connection is not kept busy", async () => {
    // The first request gets 1 MB of 503: past the gateway's read-ahead, so the held answer's
    // read is paused on its connection; the retry gets a 200.
    let n = 0;
    const own = createServer((_req, res) => {
      if (++n === 1) res.writeHead(503).end("x".repeat(1024 * 1024));
      else res.end("small");
    });
    await new Promise<void>((r) => own.listen(0, "127.0.0.1", r));
    const gw = await startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
shutdown: { drainMs: 1000 }
upstreams: { u: { targets: ["http://127.0.0.1:${(own.address() as AddressInfo).port}"] } }
routes:
  - { path: /big, upstream: u, timeoutMs: 2000, retry: { maxAttempts: 2, backoff: { initialMs: 1 } } }`),
    });
    try {
      const got = await get(gw, "/big");
      assert.deepEqual([got.status, got.body, n], [200, "small", 2]);
      assert.equal(await gw.stop(), true, "nothing held a connection: the gateway drained in time");
    } finally {
      await gw.stop();
      own.closeAllConnections();
      own.close();
    }
  });

  it("answers with the fallback by the route's deadline when the upstream hangs past it (not a 504)", async () => {
    const gw = await gateway(`  - path: /hangs
    upstream: u
    timeoutMs: 200
    fallback: { status: 200, json: { status: "queued" } }
  - { path: /hangs-bare, upstream: u, timeoutMs: 200 }`);
    try {
      behaviour.set("/hangs", { status: 200, delayMs: 5_000, body: "never" });
      behaviour.set("/hangs-bare", { status: 200, delayMs: 5_000, body: "never" });
      const t0 = performance.now();
      const got = await get(gw, "/hangs");
      const ms = performance.now() - t0;
      assert.deepEqual([got.status, got.served], [200, "fallback"]);
      assert.deepEqual(JSON.parse(got.body), { status: "queued" });
      assert.ok(ms >= 150 && ms < 200 + 100, `the fallback answered after ${Math.round(ms)} ms`);
      const bare = await get(gw, "/hangs-bare");
      assert.equal(bare.status, 504, "without a fallback, the deadline is the client's 504");
    } finally {
      await gw.stop();
    }
  });

  it("stops retrying at the budget under a failing upstream", async () => {
    const gw = await gateway(
      `  - { path: /storm, upstream: u, timeoutMs: 2000, retry: { maxAttempts: 5, backoff: { initialMs: 1 }, budget: { percent: 10, minPerSecond: 0.001 } } }`,
    );
    try {
      behaviour.set("/storm", { status: 503, delayMs: 0, body: "x" });
      hits.set("/storm", 0);
      for (let i = 0; i < 40; i++) await get(gw, "/storm");
      const attempts = hits.get("/storm")!;
      assert.ok(
        attempts <= 40 + 4 + 1,
        `${attempts} upstream requests for 40 calls (budget: 10% retries)`,
      );
      assert.ok(attempts >= 40, "every call made its first attempt");
      // /metrics says so: each retry counted, and the calls the budget stopped (a call not
      // stopped by the budget used all 5 attempts).
      const metrics = await gw.metrics.registry.metrics();
      const count = (series: string): number => {
        const line = metrics.split("\n").find((l) => l.startsWith(series));
        return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
      };
      assert.equal(count('timebound_retries_total{policy="* /storm retry"}'), attempts - 40);
      const byBudget = count(
        'timebound_retry_give_ups_total{policy="* /storm retry",reason="budget"}',
      );
      assert.ok(
        byBudget >= 40 - (attempts - 40) / 4,
        `${byBudget} calls stopped by the budget (metrics: ${metrics})`,
      );
    } finally {
      await gw.stop();
    }
  });

  it("opens the breaker on slow calls and answers with the fallback, then stops calling the upstream", async () => {
    const gw = await gateway(`  - path: /slow
    upstream: u
    timeoutMs: 2000
    circuitBreaker: { slowCallRateThreshold: 50, slowCallDurationMs: 50, minimumCalls: 4, openDurationMs: 60000, halfOpenPermits: 2 }
    fallback: { status: 200, json: { status: "queued" } }`);
    try {
      behaviour.set("/slow", { status: 200, delayMs: 120, body: "slow" });
      hits.set("/slow", 0);
      for (let i = 0; i < 4; i++) assert.equal((await get(gw, "/slow")).body, "slow");
      const seen = hits.get("/slow")!;
      const got = await get(gw, "/slow");
      assert.deepEqual(
        [got.status, got.body, got.served],
        [200, '{"status":"queued"}', "fallback"],
      );
      assert.equal(hits.get("/slow"), seen, "the open breaker kept the call from the upstream");
    } finally {
      await gw.stop();
    }
  });

  it("answers 503 with the reason when the breaker is open and there is no fallback", async () => {
    const gw = await gateway(`  - path: /broken
    upstream: u
    circuitBreaker: { failureRateThreshold: 50, minimumCalls: 2, openDurationMs: 60000 }`);
    try {
      behaviour.set("/broken", { status: 500, delayMs: 0, body: "boom" });
      await get(gw, "/broken");
      await get(gw, "/broken");
      const res = await request(`${gw.url}/broken`);
      assert.equal(res.statusCode, 503);
      assert.ok(Number(res.headers["retry-after"]) >= 1, "Retry-After says when to come back");
      const body = (await res.body.json()) as { error: string; message: string };
      assert.equal(body.error, "circuit-open");
      assert.match(body.message, /open since/i);
    } finally {
      await gw.stop();
    }
  });

  it("serves the last good answer, marked stale, when the upstream fails", async () => {
    const gw = await gateway(
      `  - { path: /stale, upstream: u, timeoutMs: 500, fallback: { staleMaxAgeMs: 60000 } }`,
    );
    try {
      behaviour.set("/stale", { status: 200, delayMs: 0, body: "good" });
      assert.equal((await get(gw, "/stale")).body, "good");
      behaviour.set("/stale", { status: 500, delayMs: 0, body: "bad" });
      const got = await get(gw, "/stale");
      assert.deepEqual([got.status, got.body, got.served], [200, "good", "stale"]);
    } finally {
      await gw.stop();
    }
  });

  it("answers 429 with Retry-After past the route's rate per client", async () => {
    const gw = await gateway(
      `  - { path: /limited, upstream: u, rateLimit: { ratePerSecond: 1, burst: 2 } }`,
    );
    try {
      behaviour.delete("/limited");
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(gw, "/limited")).status);
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      const res = await request(`${gw.url}/limited`);
      assert.equal(res.statusCode, 429);
      assert.ok(Number(res.headers["retry-after"]) >= 1);
      assert.equal(((await res.body.json()) as { error: string }).error, "rate-limited");
    } finally {
      await gw.stop();
    }
  });

  it("answers 429 past the rate on a route with a fallback: the limit decides before it", async () => {
    const gw = await gateway(
      `  - path: /limited-fb
    upstream: u
    rateLimit: { ratePerSecond: 1, burst: 2 }
    retry: { maxAttempts: 2 }
    circuitBreaker: { minimumCalls: 100 }
    fallback: { status: 200, json: { status: "queued" } }`,
    );
    try {
      behaviour.delete("/limited-fb");
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(gw, "/limited-fb")).status);
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      const res = await request(`${gw.url}/limited-fb`);
      assert.equal(res.statusCode, 429);
      assert.equal(((await res.body.json()) as { error: string }).error, "rate-limited");
    } finally {
      await gw.stop();
    }
  });

  it("answers 503 overloaded when the bulkhead is full", async () => {
    const gw = await gateway(
      `  - { path: /narrow, upstream: u, bulkhead: { maxConcurrent: 1, maxQueue: 0 } }`,
    );
    try {
      behaviour.set("/narrow", { status: 200, delayMs: 200, body: "one at a time" });
      const first = get(gw, "/narrow");
      await new Promise((r) => setTimeout(r, 50));
      const second = await get(gw, "/narrow");
      assert.equal(second.status, 503);
      assert.equal((JSON.parse(second.body) as { error: string }).error, "overloaded");
      assert.equal((await first).body, "one at a time");
    } finally {
      await gw.stop();
    }
  });
});
