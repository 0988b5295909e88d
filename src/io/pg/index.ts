/**
 * timebound/pg: PostgreSQL through the `pg` driver, with deadlines that stop the backend.
 *
 * `pg` takes no AbortSignal, and its `query_timeout` only stops waiting: the statement runs on,
 * and the client can go back to the pool still busy. Here the caller gets the context's error
 * when it ends, the backend gets a CancelRequest, and the client is reused only once the backend
 * is confirmed idle and the cancel is spent. `pg` is an optional peer dependency: this entry
 * never imports it, it uses the Pool or Client you pass.
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * import { query, transaction } from "timebound/pg";
 *
 * using ctx = withTimeout(background(), 500, { name: "checkout" });
 * const { rows } = await query(ctx, pool, "SELECT id FROM carts WHERE user_id = $1", [userId]);
 * await transaction(ctx, pool, async (tx) => {
 *   await tx.query("INSERT INTO orders (cart_id) VALUES ($1)", [rows[0]?.id]);
 * });
 * ```
 * @module timebound/pg
 */
export { query } from "./query.js";
export {
  transaction,
  type IsolationLevel,
  type Transaction,
  type TransactionOptions,
} from "./transaction.js";
export { TransactionRolledBackError } from "./errors.js";
export {
  DEFAULT_PG_OPTIONS,
  PG_OPTION_LIMITS,
  type PgOptions,
  type ResolvedPgOptions,
} from "./options.js";
export type { QueryText } from "./statement-config.js";
export {
  pgChannels,
  type PgCancelMessage,
  type StatementStopOutcome,
  type StopOutcome,
} from "./events.js";
export type { CancelDelivery } from "./cancel-request.js";
