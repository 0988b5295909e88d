// The example configurations in examples/gateway: each is valid as written, and each serves a
// request when started against local upstreams (its targets and ports replaced, deadlines widened).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { parse } from "yaml";
import { parseConfig, startGateway } from "../src/index.js";

const dir = new URL("../../../examples/gateway/", import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), "utf8");

interface RawConfig {
  listen: { port: number };
  admin?: { port: number };
  upstreams: Record<string, { targets: string[] }>;
  routes: { timeoutMs?: number }[];
}

describe("example configurations", () => {
  let upstream: Server;
  let origin: string;
  before(async () => {
    upstream = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });

  /** The example, with free ports and every target pointing at the local upstream. */
  function local(name: string): object {
    const raw = parse(read(name)) as RawConfig;
    raw.listen.port = 0;
    if (raw.admin !== undefined) raw.admin.port = 0;
    for (const u of Object.values(raw.upstreams)) u.targets = [origin];
    // A loaded test machine can take longer than a production deadline to warm up.
    for (const r of raw.routes) r.timeoutMs = Math.max(r.timeoutMs ?? 0, 5000);
    return raw;
  }

  for (const [name, path, check] of [
    [
      "plain-proxy.yaml",
      "/hello?x=1",
      (body: unknown) => assert.deepEqual(body, { path: "/hello?x=1" }),
    ],
    ["seed-payments.yaml", "/pay", (body: unknown) => assert.deepEqual(body, { path: "/pay" })],
    [
      "aggregation.yaml",
      "/page/42",
      (body: unknown) =>
        assert.deepEqual(body, {
          parts: {
            user: { path: "/users/42" },
            orders: { path: "/orders?user=42" },
            recs: { path: "/recs/42" },
          },
          missing: [],
        }),
    ],
  ] as const) {
    it(`${name} is valid as written and serves ${path}`, async () => {
      const config = parseConfig(read(name), name);
      assert.ok(config.routes.length > 0, "it has routes");
      const gw = await startGateway({ config: parseConfig(local(name), name) });
      try {
        const res = await request(`${gw.url}${path}`);
        assert.equal(res.statusCode, 200);
        check(await res.body.json());
      } finally {
        await gw.stop();
      }
    });
  }

  it("seed-payments.yaml is exactly the issue's route", () => {
    const route = parseConfig(read("seed-payments.yaml")).routes[0]!;
    assert.deepEqual(
      {
        path: route.path,
        upstream: route.upstream,
        timeoutMs: route.timeoutMs,
        retry: route.retry,
        circuitBreaker: route.circuitBreaker,
        fallback: route.fallback?.response?.body,
      },
      {
        path: "/pay",
        upstream: "payments",
        timeoutMs: 800,
        retry: { maxAttempts: 3, backoff: { initialMs: 100 }, budget: { percent: 20 } },
        circuitBreaker: { failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10 },
        fallback: '{"status":"queued"}',
      },
    );
  });
});
