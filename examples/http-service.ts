// A node:http service whose every request has one deadline that reaches everything it does: an
// upstream HTTP call, a PostgreSQL query and a Redis command. Run it with
// `node --import tsx examples/http-service.ts` (PostgreSQL and Redis from the system's
// binaries, started and stopped by timebound/testing).
import { createServer } from "node:http";
import pg from "pg";
import { Redis } from "ioredis";
import { Canceled, type Context, DeadlineExceeded, background, withTimeout } from "timebound";
import { contextFrom, createFetch, fetch } from "timebound/http";
import { query } from "timebound/pg";
import { command } from "timebound/redis";
import { closeNow, listenLoopback, startPostgres, startRedis } from "timebound/testing";

await using database = await startPostgres();
await using cache = await startRedis();
const pool = new pg.Pool({ connectionString: database.url, max: 4 });
pool.on("error", () => {}); // pg reports here a closing connection that sees the server stop
const redis = new Redis(cache.url);

// An upstream that answers in 50 ms, or never for /slow.
const upstream = createServer((req, res) => {
  if (req.url !== "/slow") setTimeout(() => res.end(JSON.stringify({ price: 42 })), 50);
});
const upstreamUrl = await listenLoopback(upstream);

/** The handler's work, all under the request's context: each call stops when it ends. */
async function quote(ctx: Context, sku: string, slow: boolean): Promise<object> {
  const [price, stock, views] = await Promise.all([
    fetch(ctx, `${upstreamUrl}/${slow ? "slow" : sku}`).then((r) => r.json() as Promise<object>),
    query(ctx, pool, "SELECT $1::int AS stock FROM pg_sleep(0.02)", [7]).then((r) => r.rows[0]),
    command(ctx, redis, "incr", `views:${sku}`),
  ]);
  return { sku, ...price, ...stock, views };
}

const service = createServer((req, res) => {
  // The request's context: the caller's deadline (the timebound-timeout header) cut to 2 s,
  // 1 s without one; it also ends when the client disconnects.
  const ctx = contextFrom(req, res, { maxTimeoutMs: 2_000, defaultTimeoutMs: 1_000 });
  const url = new URL(req.url ?? "/", "http://service");
  quote(ctx, url.pathname.slice(1), url.searchParams.has("slow"))
    .then((body) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)),
    )
    .catch((err: unknown) => {
      if (err instanceof DeadlineExceeded) res.writeHead(504).end("deadline exceeded");
      else if (err instanceof Canceled)
        res.destroy(); // the client left: nobody to answer
      else res.writeHead(500).end("internal error");
    })
    .finally(() => ctx.cancel()); // the defer cancel(): nothing it started outlives the answer
});
const serviceUrl = await listenLoopback(service);

// A caller with a 300 ms budget: the service sees it in the header (less a 100 ms margin, time
// for its answer to come back) and passes what is left on.
const callService = createFetch({ marginMs: 100 });
for (const path of ["/apple", "/pear?slow"]) {
  using ctx = withTimeout(background(), 300, { name: "caller" });
  const res = await callService(ctx, serviceUrl + path);
  console.log(`GET ${path} -> ${res.status} ${await res.text()}`);
}

await closeNow(service);
await closeNow(upstream);
redis.disconnect();
await pool.end();
