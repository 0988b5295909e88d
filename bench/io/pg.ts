// timebound/pg under a deadline: how soon the caller is released and how soon the backend stops
// running the statement (pg_stat_activity, polled on a separate connection), over many runs,
// beside the usual way: pg's query_timeout, which releases the caller and leaves the backend
// running to the statement's end. Plus what a query costs through the adapter.
import pg from "pg";
import { setTimeout as delay } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { background, now, withTimeout } from "../../src/index.js";
import { query } from "../../src/io/pg/index.js";
import { startPostgres } from "../../src/testing/index.js";
import { type Row, comparePaired, envNumber, formatRow, header } from "../harness.js";
import {
  type CancelSample,
  type IoBenchEnv,
  type LatencyRow,
  formatLatency,
  summarize,
} from "./latency.js";

const ADAPTER = "pg";
const DEADLINE_MS = 50;
/** The statement: long enough to outlive the deadline by 100 ms when nothing stops it. */
const SQL = "SELECT pg_sleep(0.15)";
/** Give up watching a backend that is still busy by then (the sample then says "never"). */
const WATCH_LIMIT_MS = 2_000;
/** Pairs timed for each overhead row (one query of each side per pair). */
const OVERHEAD_PAIRS = 3_000;
/**
 * Untimed pairs first: long enough for the JIT, and for the server to be done with the backends
 * the latency runs above left exiting or sleeping, which otherwise weigh on the first row.
 */
const WARMUP_PAIRS = 2_000;
/** Pairs after which the two sides trade connections (see {@link overhead}). */
const SWAP_EVERY = 100;
/** query(ctx, pool, 'SELECT 1') with the guard on, against pool.query: at least this ratio. */
const GUARD_GOAL = 0.9;

export async function run(env: IoBenchEnv): Promise<{ latency: LatencyRow[]; overhead?: Row[] }> {
  if (env.pgUrl === undefined) {
    console.log("pg: skipped (no PostgreSQL)");
    return { latency: [] };
  }
  const url = env.pgUrl;
  const observer = new pg.Client({ connectionString: url, application_name: "tb-bench-observer" });
  await observer.connect();
  const ours = benchPool(url, "tb-bench-pg-ours", {});
  const usual = benchPool(url, "tb-bench-pg-usual", { query_timeout: DEADLINE_MS });
  try {
    const oursSamples: CancelSample[] = [];
    const usualSamples: CancelSample[] = [];
    for (let i = 0; i < env.runs; i++) {
      oursSamples.push(
        await sample(observer, ours, (deadlineMs) => {
          const ctx = withTimeout(background(), deadlineMs);
          return query(ctx, ours, SQL).finally(() => ctx.cancel());
        }),
      );
      usualSamples.push(await sample(observer, usual, () => usual.query(SQL)));
    }
    return {
      latency: [
        summarize(ADAPTER, "timebound query(ctx) (CancelRequest)", oursSamples),
        summarize(ADAPTER, "pool.query + query_timeout", usualSamples),
      ],
      overhead: await overhead(url),
    };
  } finally {
    await Promise.all([ours.end(), usual.end(), observer.end()]);
  }
}

function benchPool(url: string, name: string, config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, application_name: name, max: 1, ...config });
  pool.on("error", () => {}); // query_timeout drops clients whose backends then end
  return pool;
}

/**
 * One run: the statement under a deadline, then, from the deadline, when the caller was
 * released and when the backend stopped running it, and whether the next query worked.
 */
async function sample(
  observer: pg.Client,
  pool: pg.Pool,
  start: (deadlineMs: number) => Promise<unknown>,
): Promise<CancelSample> {
  const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const pid = rows[0]!.pid;
  const deadline = now() + DEADLINE_MS;
  const callerAt = await start(DEADLINE_MS).then(
    () => Number.NaN, // finished: cannot happen with a statement longer than the deadline
    () => now(),
  );
  const stopped = await notActive(observer, pid, deadline + WATCH_LIMIT_MS);
  if (stopped === undefined) await observer.query("SELECT pg_cancel_backend($1)", [pid]);
  const next = await pool.query<{ one: number }>("SELECT 1 AS one").then(
    (r) => r.rows[0]?.one === 1,
    () => false,
  );
  return {
    callerMs: callerAt - deadline,
    workMs: stopped === undefined ? null : Math.max(0, stopped - deadline),
    nextCallOk: next,
  };
}

/** Polls until backend `pid` runs no statement (idle or gone): that time, or undefined at `limit`. */
async function notActive(
  observer: pg.Client,
  pid: number,
  limit: number,
): Promise<number | undefined> {
  for (;;) {
    const { rows } = await observer.query<{ state: string | null }>(
      "SELECT state FROM pg_stat_activity WHERE pid = $1",
      [pid],
    );
    const t = now();
    if (rows[0]?.state !== "active") return t;
    if (t >= limit) return undefined;
    await delay(1);
  }
}

/**
 * What query(ctx, pool) costs against pool.query for a statement that finishes in time, timed pair
 * by pair ({@link comparePaired}): a loopback `SELECT 1` is 50 to 100 µs here, and rounds of
 * hundreds of ms let another tenant's burst land on one side only.
 *
 * The sides use two pools of one connection, and trade them every {@link SWAP_EVERY} pairs: two
 * backends are two processes, and one may be scheduled worse than the other for a whole run. They
 * never use one connection at once: the adapter knows its session's own statement_timeout only
 * while nothing else is written on the connection (see session-limit.ts), so after each trade its
 * first statement reads that limit again. The last row shares one connection throughout, so
 * every guard reads the limit: the cost of mixing both on one pool.
 */
async function overhead(url: string): Promise<Row[]> {
  const ctx = withTimeout(background(), 600_000, { name: "bench" });
  const pools = [
    benchPool(url, "tb-bench-pg-overhead-1", {}),
    benchPool(url, "tb-bench-pg-overhead-2", {}),
  ] as const;
  let pairs = 0; // counted as the task starts, once per pair
  const mine = (): pg.Pool => pools[Math.floor(pairs++ / SWAP_EVERY) % 2]!;
  const other = (): pg.Pool => pools[(Math.floor(pairs / SWAP_EVERY) + 1) % 2]!;
  const anchor = (sql: string, values?: unknown[], pool = other) => ({
    name: `pool.query('${sql}')`,
    // eslint-disable-next-line timebound/context-propagation -- the anchor this bench measures timebound against
    fn: () => pool().query(sql, values),
  });
  const task = (name: string, sql: string, values?: unknown[], guard = true, pool = mine) => ({
    name,
    fn: () => query(ctx, pool(), sql, values, { statementTimeout: guard }),
  });
  const options = { pairs: OVERHEAD_PAIRS, warmupPairs: WARMUP_PAIRS };
  try {
    return [
      await comparePaired(
        "pg query(ctx) SELECT 1, guard",
        task("query(ctx, pool, 'SELECT 1')", "SELECT 1"),
        anchor("SELECT 1"),
        { ...options, goal: GUARD_GOAL },
      ),
      await comparePaired(
        "pg query(ctx) SELECT 1, no guard",
        task(
          "query(ctx, pool, 'SELECT 1', { statementTimeout: false })",
          "SELECT 1",
          undefined,
          false,
        ),
        anchor("SELECT 1"),
        options,
      ),
      await comparePaired(
        "pg query(ctx) SELECT $1::int, guard",
        task("query(ctx, pool, 'SELECT $1::int', [1])", "SELECT $1::int", [1]),
        anchor("SELECT $1::int", [1]),
        options,
      ),
      await comparePaired(
        "pg query(ctx) SELECT 1, guard, shared pool",
        task("query(ctx, shared pool, 'SELECT 1')", "SELECT 1", undefined, true, () => pools[0]),
        anchor("SELECT 1", undefined, () => pools[0]),
        options,
      ),
    ];
  } finally {
    ctx.cancel();
    await Promise.all(pools.map((pool) => pool.end()));
  }
}

// Alone, without the other adapters: node --expose-gc --import tsx bench/io/pg.ts
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startPostgres();
  try {
    const runs = envNumber("TIMEBOUND_BENCH_RUNS", 200);
    const result = await run({ pgUrl: server.url, redisUrl: undefined, runs });
    for (const r of result.latency) console.log(formatLatency(r));
    console.log(`\n${header()}`);
    for (const r of result.overhead ?? []) console.log(formatRow(r));
  } finally {
    await server.stop();
  }
}
