import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type pg from "pg";
import {
  Canceled,
  DeadlineExceeded,
  background,
  now,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { query } from "../../../src/io/pg/index.js";
import {
  backendPid,
  pause,
  recordStops,
  sharedObserver,
  testClient,
  uniqueName,
  withPool,
} from "./helpers.js";

const observer = sharedObserver();

describe("query on a pool", () => {
  it("stops SELECT pg_sleep(5) at a 200 ms deadline: DeadlineExceeded within 250 ms, backend idle within 100 ms after, same connection reused", async () => {
    await withPool("deadline", { max: 1 }, async (pool) => {
      const pid = await backendPid(pool);
      const ctx = withTimeout(background(), 200, { name: "report" });
      const start = now();
      const err = await query(ctx, pool, "SELECT pg_sleep(5)").then(
        () => assert.fail("the query should not finish"),
        (e: unknown) => e,
      );
      const waited = now() - start;
      assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
      assert.equal(err, ctx.err, "the context's own error, not a driver error");
      assert.ok(waited >= 199 && waited <= 250, `caller waited ${waited.toFixed(1)} ms`);

      const stoppedIn = await observer().untilNotActive(pid, 100);
      assert.ok(stoppedIn <= 100, `backend still active ${stoppedIn.toFixed(1)} ms after`);
      assert.equal(dependents(ctx), 0, "nothing stays linked under the context");

      // The pool kept its one connection, and it works.
      assert.equal(await backendPid(pool), pid);
      assert.equal(pool.totalCount, 1);
    });
  });

  it("returns the rows of a query that finishes in time and releases its client at once", async () => {
    const stops = recordStops();
    await withPool("in-time", { max: 1 }, async (pool) => {
      const ctx = withTimeout(background(), 2_000);
      const result = await query<{ n: number }>(ctx, pool, "SELECT $1::int + 1 AS n", [41]);
      assert.deepEqual(result.rows, [{ n: 42 }]);
      assert.equal(result.command, "SELECT");
      assert.equal(pool.idleCount, 1, "released before the caller resumed");
      assert.equal(pool.totalCount, 1);
      assert.equal(dependents(ctx), 0);
      const simple = await query(background(), pool, "SELECT 'a' AS s");
      assert.deepEqual(simple.rows, [{ s: "a" }]);
      ctx.cancel();
    }).finally(stops.stop);
    assert.equal(stops.messages.length, 0, "nothing was canceled");
  });

  it("never checks out a client nor sends the statement when the context has already ended", async () => {
    const table = uniqueName("never_sent").replaceAll("-", "_");
    const watcher = observer().client;
    await watcher.query(`CREATE TABLE ${table} (x int)`);
    await withPool("ended", { max: 1 }, async (pool) => {
      const ctx = withCancel(background());
      ctx.cancel();
      await assert.rejects(query(ctx, pool, `INSERT INTO ${table} VALUES (1)`), Canceled);
      assert.equal(pool.totalCount, 0, "no connection was opened");
      const { rows } = await watcher.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      assert.equal(rows[0]!.n, "0");
    }).finally(() => watcher.query(`DROP TABLE ${table}`));
  });

  it("gives up waiting for a busy pool at the deadline and gives the late client back", async () => {
    await withPool("waiting", { max: 1 }, async (pool) => {
      const holder = query(background(), pool, "SELECT pg_sleep(0.3)");
      const ctx = withTimeout(background(), 50);
      const start = now();
      await assert.rejects(query(ctx, pool, "SELECT 1"), DeadlineExceeded);
      const waited = now() - start;
      assert.ok(waited < 150, `caller waited ${waited.toFixed(1)} ms`);
      await holder;
      await pause(20);
      assert.equal(pool.waitingCount, 0);
      assert.equal(pool.idleCount, 1, "the client that came too late went back");
      assert.equal((await query(background(), pool, "SELECT 1 AS one")).rows[0]?.one, 1);
    });
  });

  it("passes server errors through unchanged, positions included, and keeps the client", async () => {
    await withPool("server-error", { max: 1 }, async (pool) => {
      const sql = "SELECT nonsense FROM nowhere";
      const failure = (e: unknown): pg.DatabaseError => e as pg.DatabaseError;
      const plain = await pool.query(sql).then(() => assert.fail("should fail"), failure);
      for (const values of [undefined, []]) {
        const ours = await query(withTimeout(background(), 5_000), pool, sql, values).then(
          () => assert.fail("should fail"),
          failure,
        );
        assert.equal(ours.code, "42P01");
        assert.equal(ours.message, plain.message);
        assert.equal(ours.position, plain.position, "position as in the caller's text");
      }
      assert.equal(pool.idleCount, 1);
    });
  });

  it("fails a statement whose values pg cannot send without canceling anything, and keeps the client", async () => {
    const stops = recordStops();
    await withPool("bind-error", { max: 1 }, async (pool) => {
      const unsendable = {
        toPostgres(): string {
          throw new Error("cannot serialize this value");
        },
      };
      await assert.rejects(
        query(withTimeout(background(), 5_000), pool, "SELECT $1::text", [unsendable]),
        /cannot serialize this value/,
      );
      assert.equal((await query(background(), pool, "SELECT 2 AS two")).rows[0]?.two, 2);
      assert.equal(pool.totalCount, 1);
    }).finally(stops.stop);
    assert.equal(stops.messages.length, 0, "no CancelRequest for a statement never run");
  });

  it("returns the caller's results only for a multi-statement text", async () => {
    await withPool("multi", { max: 1 }, async (pool) => {
      const ctx = withTimeout(background(), 5_000);
      const result = (await query(
        ctx,
        pool,
        "SELECT 1 AS a; SELECT 2 AS b",
      )) as unknown as pg.QueryResult[];
      assert.ok(
        Array.isArray(result),
        "pg's array of results, as for a plain multi-statement query",
      );
      assert.deepEqual(
        result.map((r): unknown[] => r.rows as unknown[]),
        [[{ a: 1 }], [{ b: 2 }]],
      );
      const single = await query(ctx, pool, "UPDATE pg_class SET relname = relname WHERE false");
      assert.equal(single.command, "UPDATE");
      assert.equal(single.rowCount, 0);
    });
  });
});

describe("query on a client", () => {
  it("rejects at the deadline; the client's next statement waits for the cancel and succeeds", async () => {
    const { client } = await testClient("client");
    const stops = recordStops();
    try {
      const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!
        .pid;
      const start = now();
      await assert.rejects(
        query(withTimeout(background(), 100), client, "SELECT pg_sleep(5)"),
        DeadlineExceeded,
      );
      assert.ok(now() - start < 150, `caller waited ${(now() - start).toFixed(1)} ms`);
      // Issued at once: pg queues it behind the barrier, so the cancel cannot reach it.
      const next = await client.query<{ one: number }>("SELECT 1 AS one");
      assert.equal(next.rows[0]?.one, 1);
      const stoppedIn = await observer().untilNotActive(pid, 100);
      assert.ok(stoppedIn <= 100, `backend still active ${stoppedIn.toFixed(1)} ms after`);
      assert.deepEqual(
        stops.messages.map((m) => [m.processId, m.outcome, m.delivery]),
        [[pid, "canceled", "delivered"]],
      );
    } finally {
      stops.stop();
      await client.end();
    }
  });

  it("a statement queued behind another is dropped, never sent, when its context ends", async () => {
    const { client } = await testClient("queued");
    const table = uniqueName("queued").replaceAll("-", "_");
    try {
      await client.query(`CREATE TEMP TABLE ${table} (x int)`);
      const busy = client.query("SELECT pg_sleep(0.2)");
      const ctx = withCancel(background());
      const queued = query(ctx, client, `INSERT INTO ${table} VALUES (1)`);
      ctx.cancel();
      await assert.rejects(queued, Canceled);
      await busy;
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      assert.equal(rows[0]!.n, "0");
    } finally {
      await client.end();
    }
  });
});
