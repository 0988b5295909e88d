// startPostgres/startRedis in this process: stop() and `await using` leave nothing, the options
// (port, logTailBytes, startTimeoutMs, clusterCache) do what they say, bad ones reject.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import {
  freePort,
  startPostgres,
  startRedis,
  type PostgresServer,
  type RedisServer,
} from "../../src/testing/index.js";
import { watchdogPid } from "../../src/testing/leftovers.js";
import { isProcessRunning } from "../../src/testing/proc-stat.js";

/** Servers a failed test may have left running: stopped at the end of the file. */
const started: (PostgresServer | RedisServer)[] = [];
after(() => Promise.all(started.map((s) => s.stop())));

async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!condition()) {
    if (performance.now() >= until) return false;
    await delay(10);
  }
  return true;
}

async function selectOne(url: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ one: number }>("SELECT 1 AS one");
    return rows[0]?.one;
  } finally {
    await client.end();
  }
}

async function ping(port: number): Promise<string> {
  const client = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

/** A TCP server holding `port` on 127.0.0.1 until closed. */
async function occupy(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

/** Runs `fn` with os.tmpdir() pointing at a new private folder (readable by the postgres user). */
async function withTmpdir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "timebound-test-tmp-"));
  chmodSync(dir, 0o755); // as root, the server runs as the postgres user, which must reach it
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    await fn(dir);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("startPostgres/startRedis in this process", { timeout: 120_000 }, () => {
  it("stop() stops both servers, removes the folder and the exit hook; the watchdog exits", async () => {
    const exitListeners = process.listenerCount("exit");
    const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    started.push(postgres, redis);
    const dog = watchdogPid();
    assert.ok(dog !== undefined && isProcessRunning(dog), "a watchdog runs beside the servers");
    assert.ok(existsSync(join(postgres.directory, "data", "PG_VERSION")), "the cluster exists");
    assert.equal(await selectOne(postgres.url), 1);
    assert.equal(await ping(redis.port), "PONG");

    await Promise.all([postgres.stop(), redis.stop()]);
    assert.ok(!existsSync(postgres.directory), `${postgres.directory} is removed by stop()`);
    assert.ok(!isProcessRunning(postgres.pid), "postgres has exited");
    assert.ok(!isProcessRunning(redis.pid), "redis-server has exited");
    assert.equal(process.listenerCount("exit"), exitListeners, "the exit hook is removed");
    assert.equal(watchdogPid(), undefined, "no watchdog is kept");
    assert.ok(await waitUntil(() => !isProcessRunning(dog), 5000), "the watchdog exits");
    await postgres.stop(); // idempotent
  });

  it("await using stops the servers at the end of the block", async () => {
    let directory: string;
    let pids: number[];
    {
      await using postgres = await startPostgres();
      await using redis = await startRedis();
      directory = postgres.directory;
      pids = [postgres.pid, redis.pid];
      assert.equal(await selectOne(postgres.url), 1);
    }
    assert.ok(!existsSync(directory), `${directory} is removed at the end of the block`);
    for (const pid of pids) assert.ok(!isProcessRunning(pid), `server ${pid} has exited`);
  });

  it("options.port: the server listens there", async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const [postgres, redis] = await Promise.all([
      startPostgres({ port: pgPort }),
      startRedis({ port: redisPort }),
    ]);
    started.push(postgres, redis);
    assert.equal(postgres.port, pgPort);
    assert.equal(postgres.url, `postgres://postgres@127.0.0.1:${pgPort}/postgres`);
    assert.equal(await selectOne(postgres.url), 1);
    assert.equal(redis.port, redisPort);
    assert.equal(await ping(redisPort), "PONG");
    await Promise.all([postgres.stop(), redis.stop()]);
  });

  it("options.port that is taken: a clear error, nothing started", async () => {
    const port = await freePort();
    const holder = await occupy(port);
    try {
      await withTmpdir(async (dir) => {
        const taken = new RegExp(
          `^Error: (startPostgres|startRedis): options\\.port ${port} is taken on 127\\.0\\.0\\.1`,
        );
        await assert.rejects(startPostgres({ port }), (err: Error) => taken.test(String(err)));
        await assert.rejects(startRedis({ port }), (err: Error) => taken.test(String(err)));
        assert.deepEqual(readdirSync(dir), [], "no folder was made");
      });
    } finally {
      holder.close();
    }
  });

  it("bad options reject (never throw) with an error naming the option", async () => {
    const cases: [() => Promise<unknown>, RegExp][] = [
      [
        () => startRedis({ port: 0 }),
        /^RangeError: startRedis: options\.port must be an integer from 1 to 65,535, got 0$/,
      ],
      [
        () => startPostgres({ port: 70_000 }),
        /^RangeError: startPostgres: options\.port .* got 70000$/,
      ],
      [() => startRedis({ port: "6379" as unknown as number }), /options\.port .* got "6379"$/],
      [
        () => startRedis({ logTailBytes: -1 }),
        /^RangeError: startRedis: options\.logTailBytes must be an integer number of bytes from 0 to .*, got -1$/,
      ],
      [
        () => startRedis({ startTimeoutMs: 0 }),
        /^RangeError: startRedis: options\.startTimeoutMs must be a number of milliseconds from 1 to 2,147,483,647, got 0$/,
      ],
      [
        () => startPostgres({ clusterCache: "yes" as unknown as boolean }),
        /^TypeError: startPostgres: options\.clusterCache must be true or false, got "yes"$/,
      ],
      [
        () => startRedis({ startTimoutMs: 5_000 } as never),
        /^TypeError: startRedis: unknown option options\.startTimoutMs \(known: port, logTailBytes, startTimeoutMs\)$/,
      ],
      [
        () => startPostgres({ clusterCahce: true } as never),
        /^TypeError: startPostgres: unknown option options\.clusterCahce \(known: port, logTailBytes, startTimeoutMs, clusterCache\)$/,
      ],
      [
        () => startPostgres("fast" as never),
        /^TypeError: startPostgres: options must be an object, got "fast"$/,
      ],
    ];
    for (const [call, expected] of cases) {
      const promise = call(); // a synchronous throw fails the test here
      await assert.rejects(promise, (err: Error) => {
        assert.match(String(err), expected);
        const code = (err as { code?: unknown }).code;
        const unknown = String(err).includes("unknown option");
        assert.equal(
          code,
          unknown ? "TIMEBOUND_ERR_UNKNOWN_OPTION" : "TIMEBOUND_ERR_INVALID_ARGUMENT",
          String(err),
        );
        return true;
      });
    }
  });

  it("log() is the end of the server's output", async () => {
    await using postgres = await startPostgres({ logTailBytes: 1024 });
    await using redis = await startRedis();
    assert.match(postgres.log(), /database system is ready to accept connections/);
    assert.match(redis.log(), /Ready to accept connections/);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    for (let i = 0; i < 40; i++) {
      await assert.rejects(client.query(`SELECT no_such_column_${i}`), /does not exist/);
    }
    await client.end();
    const log = postgres.log();
    assert.match(log, /^\[\d+ earlier bytes not kept\]\n/, "it says what it dropped");
    assert.ok(Buffer.byteLength(log) <= 1024 + 40, `kept ${Buffer.byteLength(log)} bytes`);
    assert.match(log, /no_such_column_39/, "the latest output is kept");
  });

  it("a failing watchdog fails the start, with an error that says so, and nothing is left", async () => {
    const execPath = process.execPath;
    await withTmpdir(async (dir) => {
      process.execPath = join(dir, "no-such-node");
      try {
        await assert.rejects(startPostgres({ clusterCache: false }), (err: Error) =>
          /^Error: startPostgres: could not start the watchdog process \(.*no-such-node: spawn .* ENOENT\) that stops the servers/.test(
            String(err),
          ),
        );
        await assert.rejects(
          startRedis(),
          (err: Error & { reason?: string }) =>
            err.reason === "watchdog" &&
            /^ServerStartError: startRedis: redis-server started, but could not start the watchdog process/.test(
              String(err),
            ),
        );
      } finally {
        process.execPath = execPath;
      }
      assert.deepEqual(readdirSync(dir), [], "the data folder is removed");
    });
  });
});

describe("startPostgres as root", { skip: process.getuid?.() !== 0 && "not root" }, () => {
  it("a TMPDIR the postgres user cannot reach: the error says what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timebound-test-private-")); // 0700, root's
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      await assert.rejects(startPostgres({ clusterCache: false }), (err: Error) =>
        /^Error: startPostgres: initdb failed: .*Permission denied.*\n\(startPostgres runs PostgreSQL as uid \d+ because this process is root; that user must be able to reach .*timebound-test-private-.*: set TMPDIR to a folder every user can enter, such as \/tmp\)$/s.test(
          String(err),
        ),
      );
      assert.deepEqual(readdirSync(dir), [], "the data folder is removed");
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("startPostgres: the cluster cache", { timeout: 120_000 }, () => {
  it("with clusterCache: true keeps one pristine cluster and rebuilds it when broken; by default uses none", async () => {
    await withTmpdir(async (dir) => {
      const cacheRoot = join(dir, `timebound-pg-cache-${process.getuid?.() ?? "user"}`);
      const first = await startPostgres({ clusterCache: true });
      started.push(first);
      await first.stop();
      const entries = readdirSync(cacheRoot);
      assert.equal(entries.length, 1, `one cached cluster: ${entries.join(", ")}`);
      const cached = join(cacheRoot, entries[0] as string);
      assert.ok(existsSync(join(cached, "PG_VERSION")), "the cached cluster is whole");

      // A temp cleaner took part of it: the start still works, and the cache is mended.
      rmSync(join(cached, "global"), { recursive: true });
      const second = await startPostgres({ clusterCache: true });
      started.push(second);
      assert.equal(await selectOne(second.url), 1);
      await second.stop();
      assert.ok(existsSync(join(cached, "global")), "the cached cluster was rebuilt");
      assert.deepEqual(readdirSync(dir), [`timebound-pg-cache-${process.getuid?.() ?? "user"}`]);

      rmSync(cacheRoot, { recursive: true });
      const third = await startPostgres();
      started.push(third);
      assert.equal(await selectOne(third.url), 1);
      await third.stop();
      assert.deepEqual(readdirSync(dir), [], "by default nothing at all is left");
    });
  });
});
