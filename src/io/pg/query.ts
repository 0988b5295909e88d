import type { Context } from "../../core/index.js";
import { checkContext } from "../../core/internal.js";
import type { ClientBase, Pool, QueryResult, QueryResultRow } from "pg";
import { type DriverClient, type Target, asTarget } from "./driver.js";
import { type PgOptions, type ResolvedPgOptions, pgOptions } from "./options.js";
import { runOnPool, runStatement } from "./run.js";
import { type QueryText, type StatementSource, statementSource } from "./statement-config.js";

/**
 * Runs one statement under `ctx` on a pg `Pool` (a client is checked out and released for it)
 * or on a `Client`/`PoolClient` you hold. Settles with pg's result, or rejects with `ctx.err`
 * (`DeadlineExceeded`, `Canceled`) within a few ms of the context ending, never with a driver
 * error in its place. Then, in the background:
 *
 * - the backend is stopped with PostgreSQL's CancelRequest (a new connection carrying the
 *   backend's process id and secret key), and its answer (57014) is read;
 * - the client takes no further statement until the cancel is spent, so a cancel that arrives
 *   late can never hit the next caller's query; a pooled client goes back to the pool then;
 * - if the backend is not confirmed idle within `cancelTimeoutMs`, the connection is closed
 *   instead (a pooled one is dropped from the pool).
 *
 * With a deadline, the statement also carries a server-side `statement_timeout` (time left +
 * `statementTimeoutSlackMs`, never looser than the session's own), in the same message, so it
 * costs no round trip. It is what stops the work when the CancelRequest cannot: this process
 * died or hangs, or the network between it and the server broke; whatever the budget, nothing
 * else would stop the statement then. The first guarded statement on a connection reads the
 * session's own limit; the next ones carry a plain `SET LOCAL` (or nothing, when the session's
 * limit is tighter) for as long as nothing else is written on that connection, for at most a
 * second (see {@link PgOptions.statementTimeout}). It is left out inside a transaction you opened
 * yourself, where it would outlive the statement: use {@link transaction}, which sets it at
 * BEGIN. A context that has already ended never sends the statement, and never checks out a
 * client. Bad arguments reject the promise (a TypeError or RangeError naming the argument).
 *
 * On a client you hold, run one statement at a time (as pg asks). After a stop, your next
 * statement through `query` waits until the cancel is spent, and one you send with
 * `client.query` waits in pg's queue behind the stop. If that client is a PoolClient you already
 * released, and its backend could not be confirmed idle, the pool hands it out once more closed:
 * that borrower's statement fails, and the pool drops it. A multi-statement text resolves to
 * pg's array of results, as with pg itself.
 *
 * @example
 * ```ts
 * import { background, withTimeout, DeadlineExceeded } from "timebound";
 * import { query } from "timebound/pg";
 *
 * using ctx = withTimeout(background(), 200, { name: "report" });
 * try {
 *   const { rows } = await query(ctx, pool, "SELECT * FROM orders WHERE user_id = $1", [userId]);
 * } catch (err) {
 *   if (err instanceof DeadlineExceeded) {
 *     // the backend has been told to stop; the pooled connection is safe for the next caller
 *   }
 * }
 * ```
 */
export function query<R extends QueryResultRow = QueryResultRow>(
  ctx: Context,
  db: Pool | ClientBase,
  text: QueryText,
  values?: readonly unknown[],
  options?: PgOptions,
): Promise<QueryResult<R>> {
  let target: Target;
  let source: StatementSource;
  let resolved: ResolvedPgOptions;
  try {
    checkContext(ctx, "query");
    target = asTarget(db, "query");
    source = statementSource(text, values, "query");
    resolved = pgOptions(options, "query");
  } catch (err) {
    return Promise.reject(err); // a promise API: bad arguments reject, as Node's do
  }
  if (target.kind === "client") {
    const client = target.client;
    return runStatement(
      ctx,
      client,
      source,
      {
        options: resolved,
        guard: true,
        owned: false,
        onIdle: (ok) => closeUnlessReusable(client, ok),
      },
      "query",
    ) as Promise<QueryResult<R>>;
  }
  return runOnPool(ctx, target.pool, source, resolved, "query") as Promise<QueryResult<R>>;
}

/** Closes a caller's client that could not be made idle; the caller's next statement fails. */
function closeUnlessReusable(client: DriverClient, reusable: boolean): void {
  if (!reusable) client.end().catch(() => {}); // closing a broken connection may fail too
}
