// A node:test file that gets a real PostgreSQL and a real Redis for its tests, and leaves nothing
// behind however it ends. Run: `node --import tsx examples/testing.ts` (or under `node --test`).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { Redis } from "ioredis";
import { DeadlineExceeded, background, withTimeout } from "timebound";
import { query } from "timebound/pg";
import { command } from "timebound/redis";
import { startPostgres, startRedis } from "timebound/testing";

describe("with real servers", () => {
  it("a query past its deadline is stopped on the server", async () => {
    await using server = await startPostgres(); // stopped, and its folder removed, at the block's end
    const pool = new pg.Pool({ connectionString: server.url });
    pool.on("error", () => {}); // pg reports here a closing connection that sees the server stop
    try {
      {
        using ctx = withTimeout(background(), 100);
        await assert.rejects(query(ctx, pool, "SELECT pg_sleep(10)"), DeadlineExceeded);
      }
      const { rows } = await pool.query<{ ok: number }>("SELECT 1 AS ok"); // the pool is healthy
      assert.equal(rows[0]?.ok, 1);
    } finally {
      await pool.end();
    }
  });

  it("a blocking pop past its deadline leaves no blocked client", async () => {
    await using server = await startRedis();
    const redis = new Redis(server.url);
    try {
      {
        using ctx = withTimeout(background(), 100);
        await assert.rejects(command(ctx, redis, "blpop", "jobs", 30), DeadlineExceeded);
      }
      const clients = String(await redis.client("LIST"));
      assert.doesNotMatch(clients, /flags=\w*b/, "no client is blocked"); // b: blocked
    } finally {
      redis.disconnect();
    }
  });
});
