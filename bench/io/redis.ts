// timebound/redis against the usual way (ioredis commandTimeout): BLPOP on an empty list cut off
// by a 50 ms deadline, many times. Per run: deadline → caller rejected, deadline → the server no
// longer had the client blocked (seen in CLIENT LIST), and whether the next command on the same
// client worked. Plus the adapter's cost on a plain GET, as a ratio against ioredis alone.
import { Redis } from "ioredis";
import { background, now, withTimeout } from "../../src/index.js";
import { command } from "../../src/io/redis/index.js";
import { isBlocked, redisClients, startRedis } from "../../src/testing/index.js";
import { type Row, compare } from "../harness.js";
import { type CancelSample, type IoBenchEnv, type LatencyRow, summarize } from "./latency.js";

const DEADLINE_MS = 50;
/**
 * The usual way's BLPOP timeout: 1 s, the shortest Redis took before 6.0 (whole seconds) and
 * what worker loops commonly pass. timebound is given 30 s: it cuts the timeout to the budget.
 */
const USUAL_SERVER_TIMEOUT_S = 1;
/** Usual-way runs at once, each on its own client: each keeps the server blocked ~1 s. */
const USUAL_PARALLEL = 25;
/** Give up watching a client that stays blocked this long after its deadline. */
const WATCH_LIMIT_MS = 3_000;
/** The next command counts as working if it answers within this. */
const NEXT_CALL_LIMIT_MS = 1_000;

/**
 * Polls CLIENT LIST (back to back: each poll is a loopback connect and round trip) until none of `names`
 * is blocked, and returns when each was first seen unblocked (`now()`), or null past the limit.
 * A name starts to count once `armed(name)` says its caller has been released.
 */
async function watchUnblocked(
  url: string,
  names: readonly string[],
  armed: (name: string) => boolean,
): Promise<Map<string, number | null>> {
  const stopped = new Map<string, number | null>();
  const start = now();
  while (stopped.size < names.length) {
    const entries = await redisClients(url);
    const t = now();
    const blocked = new Set(entries.filter(isBlocked).map((e) => e.name.split(":")[0]));
    for (const name of names) {
      if (stopped.has(name) || !armed(name)) continue;
      if (!blocked.has(name)) stopped.set(name, t);
      else if (t - start > WATCH_LIMIT_MS) stopped.set(name, null);
    }
  }
  return stopped;
}

/** Whether `client` answers a PING within {@link NEXT_CALL_LIMIT_MS}. */
async function nextCallWorks(client: Redis): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), NEXT_CALL_LIMIT_MS);
  });
  try {
    // eslint-disable-next-line timebound/no-race-timeout -- a probe of the bare client; the caller disconnects it afterwards, which ends a late PING
    return await Promise.race([
      client.ping().then(
        (r) => r === "PONG",
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One run of one client: start the BLPOP, note when the caller was released. */
interface Run {
  readonly name: string;
  readonly deadline: number;
  released: number | undefined;
}

async function sample(
  url: string,
  runs: readonly Run[],
  calls: readonly Promise<unknown>[],
  clients: readonly Redis[],
): Promise<CancelSample[]> {
  const watching = watchUnblocked(
    url,
    runs.map((r) => r.name),
    (name) => runs.find((r) => r.name === name)?.released !== undefined,
  );
  await Promise.all(
    calls.map((call, i) =>
      call.then(
        () => {
          throw new Error(`bench redis: ${runs[i]!.name}: BLPOP on an empty list returned`);
        },
        () => {
          runs[i]!.released = now();
        },
      ),
    ),
  );
  const next = await Promise.all(clients.map((c) => nextCallWorks(c)));
  const stopped = await watching;
  return runs.map((r, i) => {
    const at = stopped.get(r.name);
    return {
      callerMs: r.released! - r.deadline,
      workMs: at === null || at === undefined ? null : Math.max(0, at - r.deadline),
      nextCallOk: next[i]!,
    };
  });
}

/** timebound: one client, runs one after another; each BLPOP asks for 30 s. */
async function timeboundRuns(url: string, runs: number): Promise<CancelSample[]> {
  const name = "bench-redis-timebound";
  const client = new Redis(url, { connectionName: name });
  const samples: CancelSample[] = [];
  try {
    // Open the dedicated connection first: the runs measure cancellation, not a connect.
    await client.rpush("bench:redis:warm", "x");
    await command(background(), client, "blpop", "bench:redis:warm", 1);
    for (let i = 0; i < runs; i++) {
      const ctx = withTimeout(background(), DEADLINE_MS);
      const run: Run = { name, deadline: ctx.deadline!, released: undefined };
      const call = command(ctx, client, "blpop", "bench:redis:timebound", 30);
      samples.push(...(await sample(url, [run], [call], [client])));
      ctx.cancel();
    }
  } finally {
    client.disconnect();
  }
  return samples;
}

/** The usual way: commandTimeout on the client, a BLPOP with a 1 s timeout; batches in parallel. */
async function usualRuns(url: string, runs: number): Promise<CancelSample[]> {
  const samples: CancelSample[] = [];
  for (let done = 0; done < runs; done += USUAL_PARALLEL) {
    const n = Math.min(USUAL_PARALLEL, runs - done);
    const clients = Array.from(
      { length: n },
      (_, i) =>
        new Redis(url, {
          connectionName: `bench-redis-usual-${i}`,
          commandTimeout: DEADLINE_MS,
          lazyConnect: true,
        }),
    );
    try {
      // connect(), not a PING: commandTimeout would cut a PING that waits for the connection.
      await Promise.all(clients.map((c) => c.connect()));
      const start = now();
      const batch: Run[] = clients.map((c) => ({
        name: c.options.connectionName!,
        deadline: start + DEADLINE_MS,
        released: undefined,
      }));
      const calls = clients.map((c, i) =>
        c.blpop(`bench:redis:usual:${i}`, USUAL_SERVER_TIMEOUT_S),
      );
      samples.push(...(await sample(url, batch, calls, clients)));
    } finally {
      for (const c of clients) c.disconnect();
    }
  }
  return samples;
}

/** The adapter's overhead on a command that does not block: GET, 100 in flight per call. */
async function overhead(url: string): Promise<Row[]> {
  const client = new Redis(url);
  const ctx = withTimeout(background(), 600_000, { name: "bench" });
  try {
    await command(ctx, client, "set", "bench:redis:get", "value");
    const batch = 100;
    const many = (get: () => Promise<unknown>) => () =>
      Promise.all(Array.from({ length: batch }, get));
    const row = await compare(
      "redis GET via command(ctx, ...)",
      {
        name: "command(ctx, client, 'get')",
        fn: many(() => command(ctx, client, "get", "bench:redis:get")),
      },
      // eslint-disable-next-line timebound/context-propagation -- the anchor this bench measures timebound against
      { name: "client.get()", fn: many(() => client.get("bench:redis:get")) },
      { batch },
    );
    return [row];
  } finally {
    ctx.cancel();
    client.disconnect();
  }
}

/**
 * Cancellation latency of timebound/redis beside ioredis' commandTimeout, over `env.runs` runs
 * each; starts a throwaway Redis when the suite gives none.
 *
 * @example
 * ```ts
 * const { latency } = await run({ pgUrl: undefined, redisUrl: "redis://127.0.0.1:6379", runs: 200 });
 * ```
 */
export async function run(env: IoBenchEnv): Promise<{ latency: LatencyRow[]; overhead?: Row[] }> {
  const own = env.redisUrl === undefined ? await startRedis() : undefined;
  const url = env.redisUrl ?? own!.url;
  try {
    const timebound = await timeboundRuns(url, env.runs);
    const usual = await usualRuns(url, env.runs);
    return {
      latency: [
        summarize("redis", "timebound command() BLPOP", timebound),
        summarize("redis", `ioredis commandTimeout, BLPOP ${USUAL_SERVER_TIMEOUT_S} s`, usual),
      ],
      overhead: await overhead(url),
    };
  } finally {
    await own?.stop();
  }
}
