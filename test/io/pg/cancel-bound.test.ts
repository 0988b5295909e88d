import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineExceeded, background, withTimeout } from "../../../src/index.js";
import { query } from "../../../src/io/pg/index.js";
import { backendPid, pause, recordStops, sharedObserver, testClient, withPool } from "./helpers.js";

// With a 1 ms bound the backend can never be confirmed idle in time (a CancelRequest takes a
// connection and a fork), so these exercise the other way out: the connection is closed.
const TOO_SHORT = { cancelTimeoutMs: 1 };

const observer = sharedObserver();

describe("a backend not confirmed idle within cancelTimeoutMs", () => {
  it("has its pooled connection closed and dropped, never reused; the pool opens a fresh one", async () => {
    const stops = recordStops();
    await withPool("bound-pool", { max: 1 }, async (pool) => {
      const pid = await backendPid(pool);
      await assert.rejects(
        query(withTimeout(background(), 100), pool, "SELECT pg_sleep(5)", [], TOO_SHORT),
        DeadlineExceeded,
      );
      const next = await backendPid(pool);
      assert.notEqual(next, pid, "a new connection, not the one still busy");
      assert.equal(pool.totalCount, 1);
      assert.deepEqual(
        stops.messages.map((m) => [m.processId, m.outcome]),
        [[pid, "closed"]],
      );
      // The old backend does not run on: the cancel or the guard stops it, and it exits.
      for (let i = 0; i < 100 && (await observer().backend(pid)) !== undefined; i++) {
        await pause(10);
      }
      assert.equal(await observer().backend(pid), undefined, "the old backend is gone");
    }).finally(stops.stop);
  });

  it("has a caller's client closed, so its next statement fails instead of waiting on a busy backend", async () => {
    const { client } = await testClient("bound-client");
    try {
      await assert.rejects(
        query(withTimeout(background(), 100), client, "SELECT pg_sleep(5)", [], TOO_SHORT),
        DeadlineExceeded,
      );
      await pause(20);
      await assert.rejects(client.query("SELECT 1"), /not queryable|terminated|closed/i);
    } finally {
      await client.end().catch(() => {});
    }
  });
});
