// /metrics on the admin port counts what the clients saw: requests by status, rejections by
// reason, and (from timebound/metrics, by policy name) retries, static fallbacks and the breaker's
// state, over a small run against a real upstream.
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { parseConfig, startGateway, type RunningGateway } from "../src/index.js";

describe("gateway metrics", () => {
  let upstream: Server;
  let origin: string;
  const hits = new Map<string, number>();
  before(async () => {
    upstream = createServer((req, res) => {
      const path = req.url ?? "/";
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (path === "/flaky") res.writeHead(n % 2 === 1 ? 503 : 200).end("f");
      else if (path === "/broken") res.writeHead(500).end("b");
      else res.end("ok");
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });

  function value(metrics: string, name: string, labels: string): number {
    const line = metrics.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
  }

  it("counts in /metrics what the client saw", async () => {
    const gw: RunningGateway = await startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
shutdown: { drainMs: 2000 }
upstreams: { u: { targets: ["${origin}"] } }
routes:
  - { path: /flaky, name: flaky, upstream: u, retry: { maxAttempts: 2, backoff: { initialMs: 1 } } }
  - { path: /limited, name: limited, upstream: u, rateLimit: { ratePerSecond: 0.01, burst: 2 } }
  - path: /broken
    name: broken
    upstream: u
    circuitBreaker: { failureRateThreshold: 50, minimumCalls: 2, openDurationMs: 60000 }
    fallback: { status: 200, json: { status: "queued" } }
`),
    });
    try {
      const seen = new Map<string, number>(); // "route status" -> count
      let servedByFallback = 0;
      for (const [path, n] of [
        ["/flaky", 4],
        ["/limited", 5],
        ["/broken", 5],
      ] as const) {
        for (let i = 0; i < n; i++) {
          const res = await request(`${gw.url}${path}`);
          await res.body.dump();
          const key = `${path.slice(1)} ${res.statusCode}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
          if (res.headers["x-timebound-served"] === "fallback") servedByFallback++;
        }
      }
      const metrics = await (await request(`${gw.adminUrl!}/metrics`)).body.text();
      for (const [key, count] of seen) {
        const [route, status] = key.split(" ");
        let counted = 0;
        for (const line of metrics.split("\n")) {
          if (
            line.startsWith("timebound_gateway_requests_total{") &&
            line.includes(`route="${route}"`) &&
            line.includes(`status="${status}"`)
          ) {
            counted += Number(line.slice(line.lastIndexOf(" ") + 1));
          }
        }
        assert.equal(counted, count, `requests_total for ${key}: ${metrics}`);
      }
      // Every request is timed, with the time its deadline had left (none answered late here).
      for (const [route, n] of [
        ["flaky", 4],
        ["limited", 5],
        ["broken", 5],
      ] as const) {
        const labels = `route="${route}"`;
        assert.equal(value(metrics, "timebound_gateway_request_duration_seconds_count", labels), n);
        assert.equal(value(metrics, "timebound_gateway_time_left_seconds_count", labels), n);
        assert.equal(
          value(metrics, "timebound_gateway_time_left_seconds_bucket", `le="0",${labels}`),
          0,
          `no ${route} answer went out past its deadline`,
        );
      }
      assert.deepEqual(Object.fromEntries(seen), {
        "flaky 200": 4,
        "limited 200": 2,
        "limited 429": 3,
        "broken 200": 5,
      });
      assert.equal(
        value(metrics, "timebound_retries_total", 'policy="flaky retry"'),
        hits.get("/flaky")! - 4,
        "one retry per upstream request beyond the client's",
      );
      assert.equal(value(metrics, "timebound_retries_total", 'policy="flaky retry"'), 4);
      assert.equal(
        value(
          metrics,
          "timebound_gateway_rejections_total",
          'route="limited",reason="rate-limited"',
        ),
        3,
      );
      assert.equal(
        value(metrics, "timebound_fallbacks_total", 'policy="broken fallback",kind="fallback"'),
        servedByFallback,
      );
      assert.equal(servedByFallback, 5);
      assert.equal(
        value(metrics, "timebound_circuit_breaker_state", 'policy="broken breaker"'),
        2,
        "the breaker is open (0 closed, 1 half-open, 2 open)",
      );
      assert.equal(hits.get("/broken"), 2, "the open breaker kept the rest from the upstream");
      // The retried 503s were closed once the retry succeeded: nothing holds a connection.
      assert.equal(await gw.stop(), true, "every connection was free: the gateway drained in time");
    } finally {
      await gw.stop();
    }
  });
});
