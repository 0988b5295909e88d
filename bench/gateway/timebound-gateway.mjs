// timebound's gateway for the benchmark, as users run it: the built package (npm run build).
// Usage: timebound-gateway.mjs <upstream origin> plain|full.
// Prints its port. "full" turns on every per-route policy that applies to a GET route.
import { parseConfig, startGateway } from "@timebound/gateway";

const [origin, mode] = process.argv.slice(2);
const policies =
  mode === "full"
    ? `
    attemptTimeoutMs: 800
    retry: { maxAttempts: 3, backoff: { initialMs: 100 }, budget: { percent: 20 } }
    circuitBreaker: { failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10 }
    bulkhead: { maxConcurrent: 1000, maxQueue: 1000 }
    fallback: { status: 200, json: { status: "queued" } }
    rateLimit: { ratePerSecond: 1000000, burst: 1000000 }`
    : "";
const config = parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
upstreams:
  api: { targets: ["${origin}"], connections: 128 }
routes:
  - path: /*
    upstream: api
    timeoutMs: 2000${policies}
`);
const running = await startGateway({ config });
console.log(new URL(running.url).port);
