// The hazard porsager/postgres documents: a CancelRequest that arrives after its statement has
// finished cancels whatever the backend runs then. These tests make that race happen on
// purpose and check that it never reaches the next statement.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type pg from "pg";
import { DeadlineExceeded, background, now, withTimeout } from "../../../src/index.js";
import { cancelTarget, sendCancelRequest } from "../../../src/io/pg/cancel-request.js";
import { asClient } from "../../../src/io/pg/driver.js";
import { query } from "../../../src/io/pg/index.js";
import { recordStops, testClient, testPool } from "./helpers.js";

/** Deadline of the statements meant to finish right at it. */
const DEADLINE_MS = 15;
/** How long each statement runs relative to its deadline: -3 ms to +6 ms, by 0.5 ms. */
const OFFSETS_MS = Array.from({ length: 19 }, (_, i) => -3 + i * 0.5);
/** Long enough for a late cancel (a connection and a fork away) to land inside it. */
const NEXT_SQL = "SELECT pg_sleep(0.03), 1 AS ok";
/** The bound is not under test here; on a loaded machine a cancel can take most of a second. */
const PATIENT = { cancelTimeoutMs: 10_000 };

interface RaceTally {
  runs: number;
  /** Statements that finished on their own after their cancel had gone out. */
  raced: number;
  /** Next statements that failed: any is the bug. */
  nextFailures: string[];
}

/**
 * Runs statements that finish around their deadline, each followed at once by a statement on
 * the same connection, until `wantRaces` races were seen or the run bounds are reached.
 */
async function provokeRaces(
  db: pg.Pool | pg.Client,
  wantRaces: number,
  maxRuns: number,
  maxMs: number,
): Promise<RaceTally> {
  const stops = recordStops();
  const tally: RaceTally = { runs: 0, raced: 0, nextFailures: [] };
  const start = now();
  try {
    while (tally.runs < maxRuns && now() - start < maxMs) {
      const offset = OFFSETS_MS[tally.runs % OFFSETS_MS.length]!;
      tally.runs++;
      const ctx = withTimeout(background(), DEADLINE_MS);
      await query(ctx, db, "SELECT pg_sleep($1)", [(DEADLINE_MS + offset) / 1000], PATIENT).catch(
        (err: unknown) => assert.ok(err instanceof DeadlineExceeded, String(err)),
      );
      try {
        const next = await query<{ ok: number }>(background(), db, NEXT_SQL);
        assert.equal(next.rows[0]?.ok, 1);
      } catch (err) {
        tally.nextFailures.push(`${(err as { code?: string }).code}: ${String(err)}`);
      }
      tally.raced = stops.messages.filter((m) => m.outcome === "completed").length;
      if (tally.raced >= wantRaces) break;
    }
    assert.deepEqual(
      stops.messages.filter((m) => m.outcome === "closed"),
      [],
      "every stop ended with the connection reusable",
    );
  } finally {
    stops.stop();
  }
  return tally;
}

describe("a cancel that arrives late", () => {
  it("is a real hazard on this server: sent after its statement ended, it cancels the next one", async () => {
    const { client } = await testClient("hazard");
    try {
      await client.query("SELECT 1");
      const driver = asClient(client, "test");
      const next = client.query("SELECT pg_sleep(5)"); // long: the cancel lands inside it
      // What a careless adapter does: fire the cancel for a statement that has just finished.
      const delivery = sendCancelRequest(
        cancelTarget(driver),
        driver.processID!,
        driver.secretKey!,
        5_000,
      );
      await assert.rejects(next, { code: "57014" });
      assert.equal(await delivery, "delivered");
    } finally {
      await client.end();
    }
  });

  it("never cancels the next statement on a pooled connection, when statements finish right at their deadline", async () => {
    const { pool } = testPool("race-pool", { max: 1 });
    try {
      const tally = await provokeRaces(pool, 12, 400, 15_000);
      assert.deepEqual(tally.nextFailures, [], `after ${tally.runs} runs`);
      assert.ok(tally.raced >= 3, `only ${tally.raced} races in ${tally.runs} runs`);
      assert.equal(pool.totalCount, 1, "the same connection all along");
    } finally {
      await pool.end();
    }
  });

  it("never cancels the caller's next statement on a client it holds", async () => {
    const { client } = await testClient("race-client");
    try {
      const tally = await provokeRaces(client, 8, 300, 10_000);
      assert.deepEqual(tally.nextFailures, [], `after ${tally.runs} runs`);
      assert.ok(tally.raced >= 2, `only ${tally.raced} races in ${tally.runs} runs`);
    } finally {
      await client.end();
    }
  });
});
