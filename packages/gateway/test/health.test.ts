// Upstream health and balance against real targets on loopback: passive outlier detection takes
// a failing target out of the rotation for ejectMs, an active health check keeps traffic off a
// target whose /health fails until it recovers, and least-request sends most traffic to the
// faster of two targets where round robin splits it evenly.
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { parseConfig, startGateway, type RunningGateway } from "../src/index.js";

interface Target {
  server: Server;
  origin: string;
  hits: number;
  status: number;
  healthStatus: number;
  delayMs: number;
}

async function target(): Promise<Target> {
  const t: Target = {
    server: createServer((req, res) => {
      if (req.url === "/health") {
        res.writeHead(t.healthStatus).end();
        return;
      }
      t.hits++;
      const timer = setTimeout(() => res.writeHead(t.status).end("x"), t.delayMs);
      res.on("close", () => clearTimeout(timer));
    }),
    origin: "",
    hits: 0,
    status: 200,
    healthStatus: 200,
    delayMs: 0,
  };
  await new Promise<void>((r) => t.server.listen(0, "127.0.0.1", r));
  t.origin = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
  return t;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("upstream health and balance", () => {
  let a: Target;
  let b: Target;
  before(async () => {
    [a, b] = await Promise.all([target(), target()]);
  });
  after(() => {
    for (const t of [a, b]) {
      t.server.closeAllConnections();
      t.server.close();
    }
  });
  function reset(): void {
    for (const t of [a, b])
      Object.assign(t, { hits: 0, status: 200, healthStatus: 200, delayMs: 0 });
  }

  function gateway(upstream: string): Promise<RunningGateway> {
    return startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
upstreams:
  u: { targets: ["${a.origin}", "${b.origin}"], ${upstream} }
routes: [{ path: "/*", upstream: u, timeoutMs: 5000 }]
`),
    });
  }

  async function get(gw: RunningGateway): Promise<number> {
    const res = await request(`${gw.url}/x`);
    await res.body.dump();
    return res.statusCode;
  }

  it("ejects a target after consecutive failures for ejectMs, then takes it back", async () => {
    reset();
    a.status = 500;
    const gw = await gateway(
      "balance: round-robin, outlierDetection: { consecutiveFailures: 3, ejectMs: 2000 }",
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push(await get(gw));
      assert.equal(
        a.hits,
        3,
        `the failing target got exactly 3 requests, then left the rotation (${a.hits}, ${b.hits})`,
      );
      assert.equal(b.hits, 17, "the other target took the rest");
      assert.equal(statuses.filter((s) => s === 500).length, 3, "the client saw 3 failures");
      const metrics = await gw.metrics.registry.metrics();
      assert.match(
        metrics,
        new RegExp(
          `timebound_gateway_upstream_target_available\\{upstream="u",target="${a.origin}"\\} 0`,
        ),
      );
      a.status = 200;
      await sleep(2100);
      for (let i = 0; i < 4; i++) await get(gw);
      assert.ok(a.hits > 3, `after ejectMs the target is back in rotation (${a.hits} hits)`);
    } finally {
      await gw.stop();
    }
  });

  it("keeps traffic off a target whose health check fails, until it recovers", async () => {
    reset();
    a.healthStatus = 500;
    const gw = await gateway(
      "balance: round-robin, healthCheck: { path: /health, intervalMs: 100 }",
    );
    try {
      await sleep(350); // a few checks
      for (let i = 0; i < 10; i++) assert.equal(await get(gw), 200);
      assert.equal(a.hits, 0, "no traffic to the target failing its health check");
      assert.equal(b.hits, 10);
      a.healthStatus = 200;
      await sleep(350);
      for (let i = 0; i < 10; i++) await get(gw);
      assert.ok(a.hits >= 4, `the recovered target gets traffic again (${a.hits} of 10)`);
    } finally {
      await gw.stop();
    }
  });

  async function load(gw: RunningGateway, total: number, concurrency: number): Promise<void> {
    let sent = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < total) {
          sent++;
          await get(gw);
        }
      }),
    );
  }

  it("least-request sends most traffic to the fast target; round robin splits it evenly", async () => {
    reset();
    a.delayMs = 400; // slow
    const lr = await gateway("balance: least-request");
    try {
      await load(lr, 80, 10);
    } finally {
      await lr.stop();
    }
    const fastShare = b.hits / (a.hits + b.hits);
    assert.ok(fastShare > 0.6, `least-request: ${b.hits} fast vs ${a.hits} slow`);
    reset();
    a.delayMs = 150;
    const rr = await gateway("balance: round-robin");
    try {
      await load(rr, 30, 6);
    } finally {
      await rr.stop();
    }
    assert.equal(a.hits, 15, `round robin: ${a.hits} slow vs ${b.hits} fast`);
  });
});
