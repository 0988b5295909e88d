import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineExceeded, background, now, withTimeout } from "../../../src/index.js";
import { query } from "../../../src/io/pg/index.js";
import { pause, recordStops, sharedObserver, withPool } from "./helpers.js";

const POOL_SIZE = 5;
const QUERIES = 1_000;
/** More callers than connections, so some give up while waiting for one. */
const CALLERS = 8;
/**
 * This test is about the pool's health, not the bound (cancel-bound.test.ts is): on a loaded
 * machine a CancelRequest (a connection and a fork on the server) can take most of a second.
 */
const PATIENT = { cancelTimeoutMs: 10_000 };

const observer = sharedObserver();

describe("a pool under canceled queries", () => {
  it("1,000 canceled queries on a pool of 5 leave its 5 connections healthy and no backend behind", async () => {
    const stops = recordStops();
    await withPool("thousand", { max: POOL_SIZE }, async (pool, name) => {
      // Open all five connections first, to know their backends.
      await Promise.all(
        Array.from({ length: POOL_SIZE }, () => query(background(), pool, "SELECT pg_sleep(0.02)")),
      );
      const pids = (await observer().backends(name)).map((b) => b.pid).sort();
      assert.equal(pids.length, POOL_SIZE);

      let started = 0;
      let deadlines = 0;
      const unexpected: string[] = [];
      const caller = async (): Promise<void> => {
        while (started < QUERIES) {
          const deadlineMs = 5 + (started++ % 16); // 5 to 20 ms
          try {
            await query(
              withTimeout(background(), deadlineMs),
              pool,
              "SELECT pg_sleep(1)",
              [],
              PATIENT,
            );
            unexpected.push("a 1 s sleep finished");
          } catch (err) {
            if (err instanceof DeadlineExceeded) deadlines++;
            else unexpected.push(String(err));
          }
        }
      };
      await Promise.all(Array.from({ length: CALLERS }, caller));
      assert.deepEqual(unexpected, []);
      assert.equal(deadlines, QUERIES);

      // The last stops finish in the background; then every connection is back, idle.
      const until = now() + 15_000;
      while ((pool.idleCount < POOL_SIZE || pool.waitingCount > 0) && now() < until) {
        await pause(5);
      }
      assert.equal(pool.idleCount, POOL_SIZE);
      assert.equal(pool.totalCount, POOL_SIZE);

      const backends = await observer().backends(name);
      assert.deepEqual(
        backends.map((b) => b.pid).sort(),
        pids,
        "the same five backends, none replaced, none extra",
      );
      assert.deepEqual(
        backends.filter((b) => b.state !== "idle"),
        [],
        "no backend still running a statement",
      );

      // The rest gave up waiting for a connection, before sending anything (about a third
      // here when the machine is quiet, more when it is busy and stops take longer).
      const canceledOnWire = stops.messages.filter((m) => m.outcome === "canceled").length;
      assert.ok(canceledOnWire >= 100, `only ${canceledOnWire} stops reached a backend`);
      assert.deepEqual(
        stops.messages.filter((m) => m.outcome === "closed"),
        [],
        "no connection had to be closed",
      );

      // Each of the five works: five statements at once take all of them.
      const used = await Promise.all(
        Array.from({ length: POOL_SIZE }, () =>
          query<{ pid: number }>(
            background(),
            pool,
            "SELECT pg_backend_pid() AS pid FROM pg_sleep(0.05)",
          ),
        ),
      );
      assert.deepEqual(used.map((r) => r.rows[0]!.pid).sort(), pids);
    }).finally(stops.stop);
  });
});
