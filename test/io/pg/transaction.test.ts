import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  Canceled,
  DeadlineExceeded,
  background,
  now,
  sleep,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import {
  type Transaction,
  TransactionRolledBackError,
  query,
  transaction,
} from "../../../src/io/pg/index.js";
import { Observer, backendPid, pause, uniqueName, withPool } from "./helpers.js";

let observer: Observer;
let table: string;
before(async () => {
  observer = await Observer.open();
  table = uniqueName("tx").replaceAll("-", "_");
  await observer.client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
});
after(async () => {
  await observer.client.query(`DROP TABLE ${table}`);
  await observer.close();
});

/** Rows of the test table as another session sees them (committed only). */
async function committedIds(): Promise<number[]> {
  const { rows } = await observer.client.query<{ id: number }>(
    `SELECT id FROM ${table} ORDER BY id`,
  );
  return rows.map((r) => r.id);
}

/** Waits until the pool has all its clients back (the close runs in the background). */
async function untilIdle(pool: { idleCount: number; totalCount: number }): Promise<void> {
  const until = now() + 2_000;
  while (pool.idleCount < pool.totalCount && now() < until) await pause(2);
  assert.equal(pool.idleCount, pool.totalCount, "every client is back in the pool");
}

describe("transaction", () => {
  it("commits what fn did, returns its value and releases the client", async () => {
    await withPool("tx-commit", { max: 1 }, async (pool) => {
      const ctx = withTimeout(background(), 5_000);
      const value = await transaction(ctx, pool, async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ($1, 'commit')`, [1]);
        const { rows } = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
        return rows[0]!.n;
      });
      assert.equal(value, "1");
      assert.deepEqual(await committedIds(), [1]);
      assert.equal(pool.idleCount, 1);
      assert.equal(dependents(ctx), 0, "the transaction's context is gone");
      ctx.cancel();
    }).finally(() => observer.client.query(`DELETE FROM ${table}`));
  });

  it("tx.query rejects bad input, without throwing, and leaves the transaction usable", async () => {
    await withPool("tx-bad-input", { max: 1 }, async (pool) => {
      const loose = (tx: Transaction): ((...args: unknown[]) => Promise<unknown>) =>
        tx.query.bind(tx) as unknown as (...args: unknown[]) => Promise<unknown>;
      const value = await transaction(background(), pool, async (tx) => {
        for (const args of [[42], ["SELECT $1", "x"], [background(), { text: 1 }]]) {
          let returned: unknown;
          try {
            returned = loose(tx)(...args);
          } catch (err) {
            assert.fail(`tx.query threw synchronously instead of rejecting: ${String(err)}`);
          }
          await assert.rejects(returned as Promise<unknown>, {
            name: "TypeError",
            message: /^tx\.query: (text must be a SQL string|values must be an array)/,
          });
        }
        const { rows } = await tx.query<{ one: number }>("SELECT 1 AS one");
        return rows[0]!.one;
      });
      assert.equal(value, 1);
      await untilIdle(pool);
    });
  });

  it("rolls back when fn throws and rejects with fn's error", async () => {
    await withPool("tx-throw", { max: 1 }, async (pool) => {
      const oops = new Error("oops");
      await assert.rejects(
        transaction(background(), pool, async (tx) => {
          await tx.query(`INSERT INTO ${table} VALUES (2, 'thrown')`);
          throw oops;
        }),
        (err) => err === oops,
      );
      assert.deepEqual(await committedIds(), []);
      assert.equal(pool.idleCount, 1);
      const { rows } = await query<{ n: string }>(
        background(),
        pool,
        `SELECT count(*) AS n FROM ${table}`,
      );
      assert.equal(rows[0]!.n, "0");
    });
  });

  it("a statement canceled by the deadline leaves the transaction rolled back and the client usable", async () => {
    await withPool("tx-cancel", { max: 1 }, async (pool) => {
      const pid = await backendPid(pool);
      const ctx = withTimeout(background(), 200, { name: "transfer" });
      const start = now();
      const err = await transaction(ctx, pool, async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES (3, 'canceled')`);
        await tx.query("SELECT pg_sleep(5)");
      }).then(
        () => assert.fail("should not commit"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DeadlineExceeded, String(err));
      assert.equal(err, ctx.err);
      // Within a few ms of the deadline (margin for a loaded machine).
      assert.ok(now() - start <= 300, `caller waited ${(now() - start).toFixed(1)} ms`);

      // The same session: had the transaction stayed open, it would see its own insert.
      const { rows } = await query<{ n: string; pid: number }>(
        background(),
        pool,
        `SELECT count(*) AS n, pg_backend_pid() AS pid FROM ${table}`,
      );
      assert.deepEqual(rows[0], { n: "0", pid });
      const backend = await observer.backend(pid);
      assert.equal(backend?.state, "idle", "not idle in transaction");
      assert.deepEqual(await committedIds(), []);
      assert.equal(dependents(ctx), 0);
    });
  });

  it("rejects as soon as its context ends even while fn waits on something else, then rolls back", async () => {
    await withPool("tx-stuck", { max: 1 }, async (pool) => {
      const ctx = withCancel(background());
      const elsewhere = withCancel(background()); // fn ignores ctx: it waits on this
      let waiting: () => void = () => {};
      const fnWaits = new Promise<void>((resolve) => (waiting = resolve));
      let tx: Transaction | undefined;
      let late: unknown;
      const outcome = transaction(ctx, pool, async (t) => {
        await t.query(`INSERT INTO ${table} VALUES (4, 'stuck')`);
        tx = t;
        waiting();
        await sleep(elsewhere, 60_000).catch(() => {});
        late = await t.query("SELECT 1").catch((e: unknown) => e);
      });
      try {
        await fnWaits;
        const start = now();
        ctx.cancel();
        await assert.rejects(outcome, Canceled);
        const waited = now() - start;
        assert.ok(waited < 50, `caller waited ${waited.toFixed(1)} ms after the cancel`);
        await untilIdle(pool);
        const { rows } = await query<{ n: string }>(
          background(),
          pool,
          `SELECT count(*) AS n FROM ${table}`,
        );
        assert.equal(rows[0]!.n, "0", "rolled back without waiting for fn");
      } finally {
        elsewhere.cancel(); // fn wakes up: its statements are refused, never reaching the client
      }
      await pause(10);
      assert.ok(tx !== undefined, "fn ran");
      assert.ok(late instanceof Canceled, String(late));
      assert.equal(late, tx.ctx.err, "refused with the transaction's error");
    });
  });

  it("runs a statement under its own context; the transaction's end stops it too", async () => {
    await withPool("tx-stmt", { max: 1 }, async (pool) => {
      // Its own deadline: reported as itself, and the doomed transaction does not commit.
      await assert.rejects(
        transaction(background(), pool, async (tx) => {
          await tx.query(`INSERT INTO ${table} VALUES (5, 'own deadline')`);
          const short = withTimeout(tx.ctx, 50, { name: "lookup" });
          await assert.rejects(tx.query(short, "SELECT pg_sleep(5)"), (e) => e === short.err);
        }),
        TransactionRolledBackError,
      );
      assert.deepEqual(await committedIds(), []);

      // An unrelated, longer context: the transaction's deadline still stops the statement.
      const ctx = withTimeout(background(), 100);
      const unrelated = withTimeout(background(), 10_000);
      let inner: unknown;
      await assert.rejects(
        transaction(ctx, pool, async (tx) => {
          inner = await tx.query(unrelated, "SELECT pg_sleep(5)").catch((e: unknown) => e);
        }),
        DeadlineExceeded,
      );
      await untilIdle(pool);
      assert.ok(inner instanceof Canceled, String(inner));
      assert.equal(dependents(unrelated), 0);
      unrelated.cancel();
    });
  });

  it("begins with the isolation level and access mode asked for, guarded by the deadline", async () => {
    await withPool("tx-begin", { max: 1 }, async (pool) => {
      const seen = await transaction(
        withTimeout(background(), 5_000),
        pool,
        async (tx) => {
          const { rows } = await tx.query<{ iso: string; ro: string; st: string }>(
            "SELECT current_setting('transaction_isolation') AS iso, " +
              "current_setting('transaction_read_only') AS ro, " +
              "current_setting('statement_timeout') AS st",
          );
          await assert.rejects(tx.query(`INSERT INTO ${table} VALUES (6, 'ro')`), {
            code: "25006",
          });
          return rows[0]!;
        },
        { isolationLevel: "serializable", readOnly: true },
      ).catch((e: unknown) => e);
      // The failed INSERT doomed the transaction, so COMMIT answered ROLLBACK.
      assert.ok(seen instanceof TransactionRolledBackError, String(seen));
      assert.equal(seen.code, "TIMEBOUND_ERR_TRANSACTION_ROLLED_BACK");
      assert.equal(seen.name, "TransactionRolledBackError");

      const settings = await transaction(
        withTimeout(background(), 5_000),
        pool,
        async (tx) =>
          (
            await tx.query<{ iso: string; ro: string; st: string }>(
              "SELECT current_setting('transaction_isolation') AS iso, " +
                "current_setting('transaction_read_only') AS ro, " +
                "current_setting('statement_timeout') AS st",
            )
          ).rows[0]!,
        { isolationLevel: "repeatable read", readOnly: true },
      );
      assert.equal(settings.iso, "repeatable read");
      assert.equal(settings.ro, "on");
      const guardMs = Number(/^(\d+)ms$/.exec(settings.st)?.[1]);
      assert.ok(guardMs > 4_500 && guardMs <= 5_100, `statement_timeout ${settings.st}`);
      const { rows } = await query<{ st: string }>(
        background(),
        pool,
        "SELECT current_setting('statement_timeout') AS st",
      );
      assert.equal(rows[0]!.st, "0", "the guard ended with the transaction");
    });
  });
});
