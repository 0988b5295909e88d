// ioredis cannot take back a command it has written, and a BLPOP keeps its connection until the
// server answers: a caller that gives up early (Promise.race, commandTimeout) leaves the server
// waiting and the client stuck behind it. Disconnecting does not help either: ioredis writes the
// BLPOP again after reconnecting. This scenario measures all three beside timebound/redis.
import type { Redis } from "ioredis";
import type * as RedisAdapter from "../io/redis/index.js";
import { background, now, withTimeout } from "../core/index.js";
import type { RedisServer } from "../testing/redis.js";
import { type RedisClientEntry, isBlocked, redisClients } from "../testing/redis-clients.js";
import { formatCount, formatMs } from "./format.js";
import { raceTimer } from "./race-timer.js";
import { sleep } from "../sync/sleep.js";
import type { LabOptions } from "./options.js";
import type { Measurement, Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { loadScale, scaleText } from "./quick.js";
import { errorText, skippedResult } from "./skipped.js";

/** The caller's deadline and the BLPOP's own server-side timeout, unscaled. */
const DEADLINE_MS = 400;
const SERVER_TIMEOUT_MS = 8_000;
/** A client unblocked for this long, with nothing in flight, is taken to be done. */
const QUIET_MS = 100;
const POLL_MS = 2;

type RedisClass = typeof Redis;
type Adapter = typeof RedisAdapter;

/** @internal What one variant did, as the caller and as the server saw it. */
export interface BlockingOutcome {
  /** Call → the caller's promise settled. */
  readonly callerMs: number;
  /** What the caller got: the error's class and message. */
  readonly error: string;
  /** Deadline → the server had no blocked client of this variant any more; null: still blocked. */
  readonly blockedAfterDeadlineMs: number | null;
  /** Different connections the server had blocked in this variant's BLPOP. */
  readonly blockedConnections: number;
  /** A PING on the same client right after the caller gave up. */
  readonly next: { readonly ok: boolean; readonly ms: number; readonly error: string | undefined };
  readonly reconnects: number;
  /** timebound only: its pool of dedicated connections after the run. */
  readonly pool: RedisAdapter.BlockingPoolStats | undefined;
}

/** How a variant gives up on a BLPOP at the deadline. */
interface Variant {
  readonly key: string;
  readonly label: string;
  /** Sets the client up this variant's way, once it is connected. */
  prepare(client: Redis, deadlineMs: number): void;
  /** Starts the BLPOP; resolves or rejects when the caller stops waiting. */
  call(client: Redis, key: string, deadlineMs: number, serverTimeoutS: number): Promise<unknown>;
}

const WRONG: readonly Variant[] = [
  {
    key: "a",
    label: "Promise.race with a timer",
    prepare: () => {},
    call: (client, key, deadlineMs, serverTimeoutS) =>
      raceTimer(client.blpop(key, serverTimeoutS), deadlineMs),
  },
  {
    key: "b",
    label: "ioredis commandTimeout",
    // Set once connected: ioredis times the handshake's own commands (INFO) out too, and on a
    // busy machine a short commandTimeout would fail the connect instead of the BLPOP.
    prepare: (client, deadlineMs) => {
      client.options.commandTimeout = deadlineMs;
    },
    call: (client, key, _deadlineMs, serverTimeoutS) => client.blpop(key, serverTimeoutS),
  },
  {
    key: "c",
    label: "Promise.race, then disconnect(true) to unblock",
    prepare: () => {},
    call: (client, key, deadlineMs, serverTimeoutS) =>
      raceTimer(client.blpop(key, serverTimeoutS), deadlineMs, () => client.disconnect(true)),
  },
];

/** @internal What the server showed of one variant's clients while it was watched. */
export interface ServerView {
  /** When the last blocked stretch ended (`now()`), or null if still blocked at the limit. */
  readonly stoppedAt: number | null;
  /** How many different connections were seen blocked: 2 when a BLPOP was sent again. */
  readonly blockedConnections: number;
}

/**
 * Polls `CLIENT LIST` until no client whose name starts with `prefix` has been blocked for
 * {@link QUIET_MS} while `busy()` says nothing is in flight on it any more (a BLPOP sent again
 * after a reconnect comes back only after the reconnect), or until `limitMs` passes. The end of
 * the last blocked stretch is the first poll that found none after one that found some.
 */
async function watchUnblocked(
  url: string,
  prefix: string,
  limitMs: number,
  busy: () => boolean,
): Promise<ServerView> {
  const start = now();
  const ids = new Set<number>();
  let stoppedAt = start;
  let blocked = false;
  for (;;) {
    const entries = await redisClients(url);
    const t = now();
    const mine = entries.filter((e: RedisClientEntry) => e.name.startsWith(prefix) && isBlocked(e));
    for (const e of mine) ids.add(e.id);
    if (mine.length > 0) blocked = true;
    else if (blocked) {
      blocked = false;
      stoppedAt = t;
    }
    const view = { stoppedAt: blocked ? null : stoppedAt, blockedConnections: ids.size };
    const quiet = !blocked && !busy() && t - stoppedAt >= QUIET_MS;
    if (quiet || t - start >= limitMs) return view;
    await sleep(background(), POLL_MS);
  }
}

/** Where the measurements run. */
interface Bench {
  readonly IORedis: RedisClass;
  readonly url: string;
  readonly deadlineMs: number;
  readonly limitMs: number;
}

/** One side of a group: a client set up its way, and how it calls BLPOP. */
interface Trial {
  /** CLIENT SETNAME of the client (its dedicated connections add a suffix). */
  readonly name: string;
  /**
   * Readies the client, once connected and before the clock starts (commandTimeout; for
   * timebound, opening its dedicated connection).
   */
  readonly prepare: (client: Redis) => Promise<void> | void;
  readonly call: (client: Redis) => Promise<unknown>;
  readonly poolStats?: (client: Redis) => RedisAdapter.BlockingPoolStats;
}

async function measure(bench: Bench, trial: Trial): Promise<BlockingOutcome> {
  const client = new bench.IORedis(bench.url, {
    connectionName: trial.name,
    lazyConnect: true,
  });
  client.on("error", () => {}); // the disconnect variant makes some on purpose
  let reconnects = 0;
  client.on("reconnecting", () => reconnects++);
  try {
    await client.connect();
    await trial.prepare(client);
    const start = now();
    const deadline = start + bench.deadlineMs;
    // The next PING queues behind whatever the client still has in flight: until it settles,
    // the variant's BLPOP may come back (the disconnect variant resends it).
    let nextSettled = false;
    const watching = watchUnblocked(bench.url, trial.name, bench.limitMs, () => !nextSettled);
    let error = "none (unexpected: it returned)";
    try {
      await trial.call(client);
    } catch (err) {
      error = errorText(err);
    }
    const callerMs = now() - start;
    const nextStart = now();
    const next = await client.ping().then(
      () => ({ ok: true, ms: now() - nextStart, error: undefined }),
      (err: unknown) => ({ ok: false, ms: now() - nextStart, error: errorText(err) }),
    );
    nextSettled = true;
    const { stoppedAt, blockedConnections } = await watching;
    return {
      callerMs,
      error,
      blockedAfterDeadlineMs: stoppedAt === null ? null : Math.max(0, stoppedAt - deadline),
      blockedConnections,
      next,
      reconnects,
      pool: trial.poolStats?.(client),
    };
  } finally {
    client.disconnect();
  }
}

/** Runs both sides at once and waits for both, so neither is cut short by the other's failure. */
async function measureBoth(
  bench: Bench,
  wrong: Trial,
  right: Trial,
): Promise<{ wrong: BlockingOutcome; right: BlockingOutcome }> {
  const [w, r] = await Promise.allSettled([measure(bench, wrong), measure(bench, right)]);
  if (w.status === "rejected") throw w.reason;
  if (r.status === "rejected") throw r.reason;
  return { wrong: w.value, right: r.value };
}

/** The whole lab's quick run: the same story with every time scaled by 0.15, not 0.25. */
const QUICK_SCALE = 0.15;

function scaled(ms: number, scale: number): number {
  return Math.max(1, Math.round(ms * scale));
}

interface GroupResult {
  readonly variant: Variant;
  readonly wrong: BlockingOutcome;
  readonly right: BlockingOutcome;
}

/** How one measure of an outcome is shown. */
type Cell = (o: BlockingOutcome) => Measurement;

const ms = (value: number): Measurement => ({ value, text: formatMs(value) });
const count = (value: number): Measurement => ({ value, text: formatCount(value) });

/** The measures, in table order: key suffix, what it is, its unit, how to show it. */
const MEASURES: readonly [string, string, ResultRow["unit"], Cell][] = [
  ["caller", "caller waited", "ms", (o) => ms(o.callerMs)],
  ["error", "caller got", undefined, (o) => ({ value: o.error, text: o.error })],
  [
    "blocked",
    "client still blocked on the server after the deadline (CLIENT LIST)",
    "ms",
    (o) =>
      o.blockedAfterDeadlineMs === null
        ? { value: null, text: "still blocked at the end" }
        : ms(o.blockedAfterDeadlineMs),
  ],
  [
    "connections",
    "connections the server had blocked in this BLPOP",
    "count",
    (o) => count(o.blockedConnections),
  ],
  [
    "next",
    "next command (PING) on the same client",
    "ms",
    (o) => ({
      value: o.next.ms,
      text: o.next.ok
        ? `answered after ${formatMs(o.next.ms)}`
        : `failed after ${formatMs(o.next.ms)} (${o.next.error ?? "?"})`,
    }),
  ],
  [
    "reconnects",
    "reconnects",
    "count",
    (o) => ({
      value: o.reconnects,
      text:
        formatCount(o.reconnects) +
        (o.pool === undefined
          ? ""
          : ` (${formatCount(o.pool.opened)} dedicated connection opened, ` +
            `${formatCount(o.pool.discarded)} dropped)`),
    }),
  ],
];

function rows(
  group: string,
  key: string,
  wrong: BlockingOutcome,
  right: BlockingOutcome,
): ResultRow[] {
  return MEASURES.map(([suffix, measure, unit, cell]) => ({
    key: `${key}.${suffix}`,
    group,
    measure,
    ...(unit === undefined ? {} : { unit }),
    wrong: cell(wrong),
    right: cell(right),
  }));
}

function findings(results: readonly GroupResult[], serverTimeoutMs: number): string[] {
  const out: string[] = [];
  const stuck = results.filter(
    (r) =>
      r.wrong.blockedAfterDeadlineMs === null ||
      r.wrong.blockedAfterDeadlineMs > serverTimeoutMs / 2,
  );
  if (stuck.length > 0) {
    out.push(
      `Giving up on the caller's side left the server blocked until the BLPOP's own ` +
        `${formatMs(serverTimeoutMs)} timeout in ${stuck.map((r) => `(${r.variant.key})`).join(", ")}; ` +
        `the client's next command waited behind it, or timed out too.`,
    );
  }
  // The server frees a closed connection's BLPOP at once, so blocking long after (c) closed
  // its connection at the deadline can only be the BLPOP sent again on the new one.
  const c = results.find((r) => r.variant.key === "c");
  const cBlocked = c?.wrong.blockedAfterDeadlineMs;
  if (c !== undefined && c.wrong.reconnects > 0 && (cBlocked ?? Infinity) > serverTimeoutMs / 2) {
    out.push(
      "Disconnecting to unblock (c) cost a reconnect, and ioredis wrote the BLPOP again on the new " +
        "connection (autoResendUnfulfilledCommands): the server kept a client blocked for " +
        `${cBlocked === null || cBlocked === undefined ? "the whole watch" : formatMs(cBlocked)} ` +
        "after the old connection was closed.",
    );
  }
  const rights = results.map((r) => r.right);
  const worstBlocked = Math.max(...rights.map((r) => r.blockedAfterDeadlineMs ?? Infinity));
  const worstNext = Math.max(...rights.map((r) => (r.next.ok ? r.next.ms : Infinity)));
  out.push(
    worstBlocked === Infinity || worstNext === Infinity
      ? "Unexpected: with timebound a client stayed blocked, or the next command failed."
      : `With timebound the caller got DeadlineExceeded, the server was unblocked within ` +
          `${formatMs(worstBlocked)} of the deadline (CLIENT UNBLOCK from another connection, ` +
          `with the BLPOP's timeout already cut to the budget), and the next PING answered in ` +
          `${formatMs(worstNext)} or less, without a reconnect.`,
  );
  return out;
}

async function load(): Promise<
  { IORedis: RedisClass; adapter: Adapter; startRedis: () => Promise<RedisServer> } | string
> {
  try {
    // Loaded here, not at the top: ioredis is an optional peer dependency, and the lab must
    // run its other scenarios without it.
    const [ioredis, adapter, testing] = await Promise.all([
      import("ioredis"),
      import("../io/redis/index.js"),
      import("../testing/redis.js"),
    ]);
    return { IORedis: ioredis.Redis, adapter, startRedis: testing.startRedis };
  } catch (err) {
    return `ioredis is not installed (${errorText(err)})`;
  }
}

/** @internal Seed section 2.3: does a timeout stop the I/O underneath, and can it cancel a blocked read? */
export const redisBlocking: Scenario = {
  id: "redis-blocking",
  title: "a BLPOP whose caller gave up keeps the server, and the client, waiting",
  goArticle:
    "section 2.3 compares an HTTP client, a database driver and a channel: whether the timeout " +
    "interrupts the I/O underneath and whether it can cancel a blocked read (for a channel: " +
    "only if the code is built for it)",
  wrong: "ioredis BLPOP, timed out on the caller's side",
  right: "command(ctx, client, 'blpop', ...)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const loaded = await load();
    if (typeof loaded === "string") return skippedResult("redis-blocking", loaded);
    const { IORedis, adapter, startRedis } = loaded;
    let server: RedisServer;
    try {
      server = await startRedis();
    } catch (err) {
      return skippedResult("redis-blocking", `no Redis server to start (${errorText(err)})`);
    }
    const scale = loadScale(options, QUICK_SCALE);
    const deadlineMs = scaled(DEADLINE_MS, scale);
    const serverTimeoutMs = scaled(SERVER_TIMEOUT_MS, scale);
    const serverTimeoutS = serverTimeoutMs / 1000;
    const limitMs = serverTimeoutMs * 2 + 1_000;
    const bench: Bench = { IORedis, url: server.url, deadlineMs, limitMs };
    const results: GroupResult[] = [];
    try {
      for (const variant of WRONG) {
        progress.step(
          `redis-blocking: (${variant.key}) ${variant.label}, about ${formatMs(serverTimeoutMs)}`,
        );
        const key = `lab:queue:${variant.key}`;
        const warmKey = `${key}:warm`;
        const { wrong, right } = await measureBoth(
          bench,
          {
            name: `lab-wrong-${variant.key}`,
            prepare: (client) => variant.prepare(client, deadlineMs),
            call: (client) => variant.call(client, key, deadlineMs, serverTimeoutS),
          },
          {
            name: `lab-right-${variant.key}`,
            prepare: async (client) => {
              await client.rpush(warmKey, "warm-up");
              await adapter.command(background(), client, "blpop", warmKey, 1);
            },
            call: async (client) => {
              using ctx = withTimeout(background(), deadlineMs, { name: "lab blpop" });
              return await adapter.command(ctx, client, "blpop", `${key}:right`, serverTimeoutS);
            },
            poolStats: adapter.blockingPoolStats,
          },
        );
        results.push({ variant, wrong, right });
      }
    } finally {
      await server.stop();
    }
    return {
      setup:
        `one BLPOP on an empty list with a ${formatMs(serverTimeoutMs)} server-side timeout, ` +
        `under a ${formatMs(deadlineMs)} deadline (${scaleText("redis-blocking", options, scale)}); ` +
        `each group runs the wrong way and timebound at once, on separate clients of a ` +
        `throwaway redis-server, watched through CLIENT LIST`,
      rows: results.flatMap((r) =>
        rows(`(${r.variant.key}) ${r.variant.label}`, r.variant.key, r.wrong, r.right),
      ),
      findings: findings(results, serverTimeoutMs),
    };
  },
};
