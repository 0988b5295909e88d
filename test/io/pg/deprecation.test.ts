// pg deprecates calling client.query() while another query waits in the client's queue (pg 9
// drops queueing). A stop must not put the client in that state: its barrier joins the queue
// only as the canceled statement ends, and the adapter's own next statement waits for the stop.
// pg warns once per process: a case that warns hides the warning from the cases after it (which
// does not matter while none warns).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type pg from "pg";
import { DeadlineExceeded, background, withTimeout } from "../../../src/index.js";
import { query, transaction } from "../../../src/io/pg/index.js";
import { withPool } from "./helpers.js";

/** Runs `fn`, then resolves with the DeprecationWarnings the process emitted meanwhile. */
async function deprecations(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === "DeprecationWarning") seen.push(warning.message);
  };
  process.on("warning", onWarning);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
  } finally {
    process.off("warning", onWarning);
  }
  return seen;
}

/** A statement stopped at a 50 ms deadline on a checked-out client, released as usual. */
async function stoppedOnCheckout(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await assert.rejects(
      query(withTimeout(background(), 50), client, "SELECT pg_sleep(5)"),
      DeadlineExceeded,
    );
  } finally {
    client.release(); // the stop is still running: the pool hands the client out again
  }
}

describe("a stopped statement leaves no query queued behind another", () => {
  it("for the adapter's next statement on that client, or the next pool.query", async () => {
    const warnings = await deprecations(async () => {
      await withPool("deprecation", { max: 1 }, async (pool) => {
        await stoppedOnCheckout(pool);
        const client = await pool.connect();
        try {
          const ours = await query<{ n: number }>(background(), client, "SELECT 1 AS n");
          assert.deepEqual(ours.rows, [{ n: 1 }]);
        } finally {
          client.release();
        }
        await stoppedOnCheckout(pool);
        const raw = await pool.query<{ n: number }>("SELECT 2 AS n");
        assert.deepEqual(raw.rows, [{ n: 2 }]);
      });
    });
    assert.deepEqual(warnings, [], "pg printed no DeprecationWarning");
  });

  it("for the next statement of a transaction after one was stopped", async () => {
    const warnings = await deprecations(async () => {
      await withPool("deprecation-tx", { max: 1 }, async (pool) => {
        const outcome = await transaction(background(), pool, async (tx) => {
          await assert.rejects(
            tx.query(withTimeout(background(), 50), "SELECT pg_sleep(5)"),
            DeadlineExceeded,
          );
          // The stopped statement failed the transaction: the server refuses the next one.
          await assert.rejects(tx.query("SELECT 1"), { code: "25P02" });
        }).then(
          () => "committed",
          (err: unknown) => (err as Error).name,
        );
        assert.equal(outcome, "TransactionRolledBackError");
      });
    });
    assert.deepEqual(warnings, [], "pg printed no DeprecationWarning");
  });

  it("while the stop runs, the adapter holds its next statement itself, outside pg's queue", async () => {
    const warnings = await deprecations(async () => {
      await withPool("deprecation-held", { max: 1 }, async (pool) => {
        await stoppedOnCheckout(pool);
        const client = await pool.connect();
        try {
          const ours = query<{ n: number }>(background(), client, "SELECT 1 AS n");
          // The caller's own statement, issued meanwhile, is the only one pg queues.
          const theirs = client.query<{ n: number }>("SELECT 2 AS n");
          assert.deepEqual((await theirs).rows, [{ n: 2 }]);
          assert.deepEqual((await ours).rows, [{ n: 1 }]);
        } finally {
          client.release();
        }
      });
    });
    assert.deepEqual(warnings, [], "pg printed no DeprecationWarning");
  });
});
