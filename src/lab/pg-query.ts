// pg takes no AbortSignal. Its query_timeout, and a Promise.race around a query, only stop the
// caller's waiting: the statement runs on in the backend, and the client can go back to the
// pool still busy with it (brianc/node-postgres #2774, #3399). This scenario measures both beside
// timebound/pg, from the caller's side and from the server's (pg_stat_activity).
import type { Pool, PoolClient, PoolConfig } from "pg";
import type * as PgAdapter from "../io/pg/index.js";
import { type CancelableContext, background, now, withTimeout } from "../core/index.js";
import type { PostgresServer } from "../testing/postgres.js";
import { formatCount, formatMs } from "./format.js";
import { raceTimer } from "./race-timer.js";
import { sleep } from "../sync/sleep.js";
import type { LabOptions } from "./options.js";
import type { Measurement, Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { loadScale, scaleText } from "./quick.js";
import { errorText, skippedResult } from "./skipped.js";

/** The caller's deadline and how long the statement would run, unscaled. */
const DEADLINE_MS = 1_000;
const SLEEP_MS = 8_000;
const POLL_MS = 2;

type PoolClass = new (config: PoolConfig) => Pool;
type Adapter = typeof PgAdapter;

/** @internal What one variant did, as the caller and as the server saw it. */
export interface QueryOutcome {
  /** Call → the caller's promise settled. */
  readonly callerMs: number;
  /** What the caller got: the error's class and the start of its message. */
  readonly error: string;
  /** Deadline → no backend of this variant was running a statement; null: still running at the end. */
  readonly workAfterDeadlineMs: number | null;
  /** The most backends this variant's pool had open at once. */
  readonly backends: number;
  /** The next query on the same pool, issued as soon as the caller got control back. */
  readonly next: { readonly ok: boolean; readonly ms: number; readonly error: string | undefined };
}

/** How one variant runs the long query and the next one on its pool. */
interface Variant {
  /** Extra pool settings (query_timeout). */
  readonly pool: (deadlineMs: number) => PoolConfig;
  readonly call: (pool: Pool, sql: string, deadlineMs: number) => Promise<unknown>;
  readonly next: (pool: Pool) => Promise<unknown>;
}

/** A case: the usual way, and timebound doing the same job. */
interface Case {
  readonly key: string;
  readonly label: string;
  readonly wrong: Variant;
  readonly right: (adapter: Adapter) => Variant;
}

const NEXT_SQL = "SELECT 1";

/** The documented checkout pattern: connect, query, release in finally. */
async function checkedOut(
  pool: Pool,
  run: (client: PoolClient) => Promise<unknown>,
): Promise<unknown> {
  const client = await pool.connect();
  try {
    return await run(client);
  } finally {
    client.release();
  }
}

async function underDeadline(
  deadlineMs: number,
  run: (ctx: CancelableContext) => Promise<unknown>,
): Promise<unknown> {
  using ctx = withTimeout(background(), deadlineMs, { name: "lab query" });
  return await run(ctx);
}

const rightOnPool = (adapter: Adapter): Variant => ({
  pool: () => ({}),
  call: (pool, sql, deadlineMs) =>
    underDeadline(deadlineMs, (ctx) => adapter.query(ctx, pool, sql)),
  next: (pool) => adapter.query(background(), pool, NEXT_SQL),
});

const CASES: readonly Case[] = [
  {
    key: "a",
    label: "pool.query with the pool's query_timeout",
    wrong: {
      pool: (deadlineMs) => ({ query_timeout: deadlineMs }),
      call: (pool, sql) => pool.query(sql),
      next: (pool) => pool.query(NEXT_SQL),
    },
    right: rightOnPool,
  },
  {
    key: "b",
    label: "checkout, client.query with query_timeout, release() in finally",
    wrong: {
      pool: (deadlineMs) => ({ query_timeout: deadlineMs }),
      call: (pool, sql) => checkedOut(pool, (client) => client.query(sql)),
      next: (pool) => checkedOut(pool, (client) => client.query(NEXT_SQL)),
    },
    right: (adapter) => ({
      pool: () => ({}),
      call: (pool, sql, deadlineMs) =>
        underDeadline(deadlineMs, (ctx) =>
          checkedOut(pool, (client) => adapter.query(ctx, client, sql)),
        ),
      next: (pool) => checkedOut(pool, (client) => adapter.query(background(), client, NEXT_SQL)),
    }),
  },
  {
    key: "c",
    label: "Promise.race of pool.query and a timer",
    wrong: {
      pool: () => ({}),
      call: (pool, sql, deadlineMs) => raceTimer(pool.query(sql), deadlineMs),
      next: (pool) => pool.query(NEXT_SQL),
    },
    right: rightOnPool,
  },
];

/** What pg_stat_activity showed of one pool's backends. */
interface ServerView {
  /** When the last statement stopped (`now()`), or null if one was still running at the limit. */
  readonly stoppedAt: number | null;
  readonly maxBackends: number;
}

/**
 * Polls pg_stat_activity for the backends of `name` until, after `deadline`, none is running a
 * statement, or `limitMs` passes.
 */
async function watchBackends(
  observer: Pool,
  name: string,
  deadline: number,
  limitMs: number,
): Promise<ServerView> {
  const start = now();
  let maxBackends = 0;
  for (;;) {
    const { rows } = await observer.query<{ state: string | null }>(
      "SELECT state FROM pg_stat_activity WHERE application_name = $1",
      [name],
    );
    const t = now();
    maxBackends = Math.max(maxBackends, rows.length);
    const running = rows.some((r) => r.state === "active");
    if (!running && t >= deadline) return { stoppedAt: t, maxBackends };
    if (t - start >= limitMs) return { stoppedAt: null, maxBackends };
    await sleep(background(), POLL_MS);
  }
}

async function measure(
  PgPool: PoolClass,
  server: PostgresServer,
  observer: Pool,
  name: string,
  variant: Variant,
  sql: string,
  deadlineMs: number,
  limitMs: number,
): Promise<QueryOutcome> {
  const pool = new PgPool({
    connectionString: server.url,
    application_name: name,
    max: 1,
    ...variant.pool(deadlineMs),
  });
  pool.on("error", () => {}); // a connection closed under the pool; it replaces it
  try {
    await pool.query(NEXT_SQL); // connected before the clock starts
    const start = now();
    const watching = watchBackends(observer, name, start + deadlineMs, limitMs);
    let error = "none (unexpected: it returned)";
    try {
      await variant.call(pool, sql, deadlineMs);
    } catch (err) {
      error = errorText(err);
    }
    const callerMs = now() - start;
    const nextStart = now();
    const next = await variant.next(pool).then(
      () => ({ ok: true, ms: now() - nextStart, error: undefined }),
      (err: unknown) => ({ ok: false, ms: now() - nextStart, error: errorText(err) }),
    );
    const { stoppedAt, maxBackends } = await watching;
    return {
      callerMs,
      error,
      workAfterDeadlineMs:
        stoppedAt === null ? null : Math.max(0, stoppedAt - (start + deadlineMs)),
      backends: maxBackends,
      next,
    };
  } finally {
    await pool.end();
  }
}

/** The whole lab's quick run: the same story with every time scaled by 0.15, not 0.25. */
const QUICK_SCALE = 0.15;

function scaled(ms: number, scale: number): number {
  return Math.max(1, Math.round(ms * scale));
}

interface CaseResult {
  readonly c: Case;
  readonly wrong: QueryOutcome;
  readonly right: QueryOutcome;
}

function rows(group: string, key: string, wrong: QueryOutcome, right: QueryOutcome): ResultRow[] {
  const row = (
    name: string,
    measure: string,
    unit: ResultRow["unit"],
    show: (o: QueryOutcome) => Measurement,
  ): ResultRow => ({
    key: `${key}.${name}`,
    group,
    measure,
    ...(unit === undefined ? {} : { unit }),
    wrong: show(wrong),
    right: show(right),
  });
  return [
    row("caller", "caller waited", "ms", (o) => ({
      value: o.callerMs,
      text: formatMs(o.callerMs),
    })),
    row("error", "caller got", undefined, (o) => ({ value: o.error, text: o.error })),
    row(
      "work",
      "query still running on the server after the deadline (pg_stat_activity)",
      "ms",
      (o) =>
        o.workAfterDeadlineMs === null
          ? { value: null, text: "still running at the end" }
          : { value: o.workAfterDeadlineMs, text: formatMs(o.workAfterDeadlineMs) },
    ),
    row("next", "next query on the same pool", "ms", (o) => ({
      value: o.next.ms,
      text: o.next.ok
        ? `answered after ${formatMs(o.next.ms)}`
        : `failed after ${formatMs(o.next.ms)} (${o.next.error ?? "?"})`,
    })),
    row("backends", "backends the pool (max 1) had open at once", "count", (o) => ({
      value: o.backends,
      text: formatCount(o.backends),
    })),
  ];
}

function findings(results: readonly CaseResult[], sleepMs: number): string[] {
  const out: string[] = [];
  const ranOn = results.filter(
    (r) => r.wrong.workAfterDeadlineMs === null || r.wrong.workAfterDeadlineMs > sleepMs / 2,
  );
  if (ranOn.length > 0) {
    out.push(
      `Timing out on the caller's side left the statement running to its end ` +
        `(${formatMs(sleepMs)}) in ${ranOn.map((r) => `(${r.c.key})`).join(", ")}: nothing told ` +
        `the backend to stop.`,
    );
  }
  const wedged = results.filter((r) => !r.wrong.next.ok || r.wrong.next.ms > sleepMs / 4);
  if (wedged.length > 0) {
    out.push(
      `In ${wedged.map((r) => `(${r.c.key})`).join(", ")} the next query on the same pool ` +
        `waited behind the abandoned one, or timed out itself: the client was handed back busy.`,
    );
  }
  const extra = results.filter((r) => r.wrong.backends > 1);
  if (extra.length > 0) {
    out.push(
      `In ${extra.map((r) => `(${r.c.key})`).join(", ")} pg dropped the timed-out client, but its ` +
        `backend ran on: a pool of 1 had ${Math.max(...extra.map((r) => r.wrong.backends))} ` +
        `backends at once, the orphan holding a connection slot.`,
    );
  }
  const rights = results.map((r) => r.right);
  const worstWork = Math.max(...rights.map((r) => r.workAfterDeadlineMs ?? Infinity));
  const worstNext = Math.max(...rights.map((r) => (r.next.ok ? r.next.ms : Infinity)));
  out.push(
    worstWork === Infinity || worstNext === Infinity
      ? "Unexpected: with timebound a statement ran on, or the next query failed."
      : `With timebound the caller got DeadlineExceeded at the deadline, the backend was idle ` +
          `within ${formatMs(worstWork)} of it (CancelRequest, answer read, cancel spent), and ` +
          `the next query on the same connection answered in ${formatMs(worstNext)} or less.`,
  );
  return out;
}

async function load(): Promise<
  { PgPool: PoolClass; adapter: Adapter; startPostgres: () => Promise<PostgresServer> } | string
> {
  try {
    // Loaded here, not at the top: pg is an optional peer dependency, and the lab must run its
    // other scenarios without it.
    const [pg, adapter, testing] = await Promise.all([
      import("pg"),
      import("../io/pg/index.js"),
      import("../testing/postgres.js"),
    ]);
    return { PgPool: pg.Pool, adapter, startPostgres: testing.startPostgres };
  } catch (err) {
    return `pg is not installed (${errorText(err)})`;
  }
}

/** @internal Seed section 2.3: does a timeout stop the I/O underneath? Here, a database driver's. */
export const pgQuery: Scenario = {
  id: "pg-query",
  title: "a query whose timeout stops the caller but not the database",
  goArticle:
    "section 2.3 compares an HTTP client, a database driver and a channel: whether the timeout " +
    "interrupts the I/O underneath, and whether the connection is fit for the next call",
  wrong: "pg, timed out on the caller's side",
  right: "query(ctx, pool | client, ...)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const loaded = await load();
    if (typeof loaded === "string") return skippedResult("pg-query", loaded);
    const { PgPool, adapter, startPostgres } = loaded;
    let server: PostgresServer;
    try {
      server = await startPostgres();
    } catch (err) {
      return skippedResult("pg-query", `no PostgreSQL server to start (${errorText(err)})`);
    }
    const scale = loadScale(options, QUICK_SCALE);
    const deadlineMs = scaled(DEADLINE_MS, scale);
    const sleepMs = scaled(SLEEP_MS, scale);
    const sql = `SELECT pg_sleep(${sleepMs / 1000})`;
    const limitMs = sleepMs * 2 + 1_000;
    const observer = new PgPool({
      connectionString: server.url,
      application_name: "lab-observer",
      max: 2,
    });
    observer.on("error", () => {}); // the server's shutdown ends its idle connections
    const results: CaseResult[] = [];
    try {
      for (const c of CASES) {
        progress.step(`pg-query: (${c.key}) ${c.label}, about ${formatMs(sleepMs)}`);
        const [wrong, right] = await Promise.all([
          measure(
            PgPool,
            server,
            observer,
            `lab-pg-wrong-${c.key}`,
            c.wrong,
            sql,
            deadlineMs,
            limitMs,
          ),
          measure(
            PgPool,
            server,
            observer,
            `lab-pg-right-${c.key}`,
            c.right(adapter),
            sql,
            deadlineMs,
            limitMs,
          ),
        ]);
        results.push({ c, wrong, right });
      }
    } finally {
      await observer.end();
      await server.stop();
    }
    return {
      setup:
        `${sql} under a ${formatMs(deadlineMs)} deadline (${scaleText("pg-query", options, scale)}), ` +
        `on pools of one connection; each group runs the usual way and timebound at once, on ` +
        `separate pools, and watches their backends in pg_stat_activity`,
      rows: results.flatMap((r) => rows(`(${r.c.key}) ${r.c.label}`, r.c.key, r.wrong, r.right)),
      findings: findings(results, sleepMs),
    };
  },
};
