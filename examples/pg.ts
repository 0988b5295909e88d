// A PostgreSQL query stopped on the server when its deadline passes: the backend is idle again
// and the pool's connection works for the next query. Run: `node --import tsx examples/pg.ts`.
import pg from "pg";
import { DeadlineExceeded, background, withTimeout } from "timebound";
import { query, transaction } from "timebound/pg";
import { startPostgres } from "timebound/testing";

await using server = await startPostgres();
const pool = new pg.Pool({ connectionString: server.url, max: 1 });
pool.on("error", () => {}); // pg reports here a closing connection that sees the server stop

try {
  using ctx = withTimeout(background(), 200, { name: "report" });
  await query(ctx, pool, "SELECT pg_sleep(5)");
} catch (err) {
  if (err instanceof DeadlineExceeded) console.log(`stopped: ${err.message}`);
}
const { rows } = await pool.query<{ running: number }>(
  "SELECT count(*)::int AS running FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()",
);
console.log(`statements still running on the server: ${rows[0]?.running}`);

// A transaction under one deadline: committed if it ends in time, rolled back if not.
using ctx = withTimeout(background(), 1_000, { name: "transfer" });
await query(ctx, pool, "CREATE TABLE accounts (id int PRIMARY KEY, balance int)");
await query(ctx, pool, "INSERT INTO accounts VALUES (1, 100), (2, 0)");
await transaction(ctx, pool, async (tx) => {
  await tx.query("UPDATE accounts SET balance = balance - 40 WHERE id = 1");
  await tx.query("UPDATE accounts SET balance = balance + 40 WHERE id = 2");
});
const balances = await query(ctx, pool, "SELECT balance FROM accounts ORDER BY id");
console.log(
  `balances after the transfer: ${balances.rows.map((r) => r.balance as number).join(", ")}`,
);
await pool.end();
