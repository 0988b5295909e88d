// Configurations refused, each with the path of the value, its line and what was expected;
// and the seed's route accepted exactly as the issue writes it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseConfig } from "../src/index.js";

const BASE = `listen: { host: 127.0.0.1, port: 8080 }
upstreams:
  payments: { targets: ["http://127.0.0.1:8001", "http://127.0.0.1:8002"], balance: least-request }
`;

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, "test.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.equal(err.code, "TIMEBOUND_GATEWAY_ERR_CONFIG");
    assert.match(err.message, /^test\.yaml: invalid gateway configuration\n/);
    return err.problems.map(
      (p) => `${p.path}${p.line === undefined ? "" : `@${p.line}`}: ${p.message}`,
    );
  }
  assert.fail("the configuration was accepted");
}

describe("gateway configuration", () => {
  it("accepts the seed's payment route as written, defaults filled in", () => {
    const c = parseConfig(`listen: { host: 127.0.0.1, port: 8080 }
admin: { host: 127.0.0.1, port: 9901 }
upstreams:
  payments: { targets: ["http://127.0.0.1:8001", "http://127.0.0.1:8002"], balance: least-request }
routes:
  - path: /pay
    upstream: payments
    timeoutMs: 800
    retry: { maxAttempts: 3, backoff: { initialMs: 100 }, budget: { percent: 20 } }
    circuitBreaker: { failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10 }
    fallback: { status: 200, json: { status: "queued" } }
`);
    const route = c.routes[0]!;
    assert.equal(route.timeoutMs, 800);
    assert.deepEqual(route.circuitBreaker, {
      failureRateThreshold: 50,
      slowCallDurationMs: 600,
      halfOpenPermits: 10,
    });
    assert.deepEqual(route.fallback?.response, {
      status: 200,
      headers: {},
      body: '{"status":"queued"}',
      contentType: "application/json",
    });
    assert.equal(c.upstreams.get("payments")!.connections, 128);
    assert.deepEqual(c.deadline.headers, [
      "timebound-timeout",
      "grpc-timeout",
      "x-envoy-expected-rq-timeout-ms",
    ]);
  });

  const cases: [string, string, RegExp][] = [
    [
      "a misspelt option",
      `${BASE}routes: [{ path: /pay, upstream: payments, timoutMs: 800 }]`,
      /^routes\[0\]\.timoutMs@4: unknown option/,
    ],
    [
      "a negative timeout",
      `${BASE}routes:\n  - path: /pay\n    upstream: payments\n    timeoutMs: -5`,
      /^routes\[0\]\.timeoutMs@7: must be >= 1, got -5/,
    ],
    [
      "an unknown upstream",
      `${BASE}routes:\n  - { path: /pay, upstream: paymnts }`,
      /^routes\[0\]\.upstream@5: no upstream named "paymnts" \(known upstreams: payments\)/,
    ],
    [
      "a route with neither upstream nor aggregate",
      `${BASE}routes: [{ path: /pay }]`,
      /^routes\[0\]@4: a route needs exactly one of `upstream`/,
    ],
    [
      "a bad balance",
      `listen: { port: 1 }\nupstreams: { a: { targets: ["http://x:1"], balance: random } }\nroutes: [{ path: /, upstream: a }]`,
      /^upstreams\.a\.balance@2: must be one of "round-robin", "least-request", got "random"/,
    ],
    [
      "a target that is not an origin",
      `listen: { port: 1 }\nupstreams: { a: { targets: ["http://x:1/path"] } }\nroutes: [{ path: /, upstream: a }]`,
      /^upstreams\.a\.targets\[0\]@2: must match pattern/,
    ],
    [
      "a path without a slash",
      `${BASE}routes: [{ path: pay, upstream: payments }]`,
      /^routes\[0\]\.path@4: must match pattern "\^\/"/,
    ],
    [
      "two routes on the same path",
      `${BASE}routes:\n  - { path: /pay, upstream: payments }\n  - { path: /pay, upstream: payments }`,
      /^routes\[1\]\.path@6: routes\[0\] already matches every method \/pay/,
    ],
    [
      "a shared rate limit without redis",
      `${BASE}routes: [{ path: /pay, upstream: payments, rateLimit: { ratePerSecond: 10, shared: true } }]`,
      /^routes\[0\]\.rateLimit\.shared@4: a shared rate limit needs `redis\.url`/,
    ],
    [
      "an attempt timeout over the route's",
      `${BASE}routes: [{ path: /p, upstream: payments, timeoutMs: 100, attemptTimeoutMs: 200 }]`,
      /^routes\[0\]\.attemptTimeoutMs@4: 200 is longer than the route's timeoutMs \(100\)/,
    ],
    [
      "admin on the traffic port",
      `listen: { port: 8080 }\nadmin: { port: 8080 }\nupstreams: { a: { targets: ["http://x:1"] } }\nroutes: [{ path: /, upstream: a }]`,
      /^admin\.port@2: must differ from listen\.port/,
    ],
    ["not YAML at all", `listen: { port: 1\nroutes: [`, /^@\d+: not valid YAML/],
    [
      "an aggregation route with only optional parts",
      `${BASE}routes:\n  - path: /dash\n    aggregate:\n      a: { upstream: payments, path: /a, required: false }`,
      /^routes\[0\]\.aggregate@\d: needs at least one required part/,
    ],
  ];
  for (const [what, yaml, expected] of cases) {
    it(`refuses ${what}, naming where`, () => {
      const found = problems(yaml);
      assert.ok(
        found.some((p) => expected.test(p)),
        `expected ${String(expected)} among:\n${found.join("\n")}`,
      );
    });
  }

  it("lists every problem at once", () => {
    const found = problems(
      `listen: { port: 99999 }\nupstreams: { a: { targets: [] } }\nroutes: []`,
    );
    assert.ok(found.length >= 3, found.join("\n"));
  });
});
