import { type Range, checkMs } from "../../core/internal.js";

/** The largest `statement_timeout` PostgreSQL accepts (INT_MAX ms, about 24.8 days). */
const MAX_STATEMENT_TIMEOUT_MS = 2_147_483_647;
/** What `statement_timeout` accepts as a limit (0 would mean none). */
const GUARD_RANGE: Range = { min: 1, max: MAX_STATEMENT_TIMEOUT_MS, integer: true };

/**
 * @internal The server-side guard for a statement with `remainingMs` left: the budget plus
 * `slackMs`, in whole ms, or undefined when there is no deadline to guard (the session's own
 * setting stays).
 */
export function guardTimeoutMs(remainingMs: number, slackMs: number): number | undefined {
  if (!Number.isFinite(remainingMs)) return undefined;
  const ms = Math.ceil(Math.max(0, remainingMs) + slackMs);
  return Math.min(Math.max(1, ms), MAX_STATEMENT_TIMEOUT_MS);
}

/** @internal SQL sent in the same message as a statement, to bound it on the server. */
export interface Guard {
  readonly sql: string;
  /** The guard's answer carries the session's own limit, in ms, as its first column. */
  readonly readsLimit: boolean;
}

/**
 * @internal The guard that bounds a statement to `ms` on the server without ever loosening the
 * session's own `statement_timeout`, which may be set by an administrator (server, database, role),
 * by the connection's options, or by the application. `sessionMs` is that limit when the adapter
 * knows it (see session-limit.ts; 0: none), undefined when it does not:
 *
 * - unknown: the guard computes `least(own limit, ms)` on the server and reports the own limit,
 *   so that the next statements on the connection can take one of the cheap forms below. It costs
 *   the server about as much as a small query: parsing, planning and running an expression
 *   (~14 µs; `SELECT 1` alone is ~34 µs).
 * - known and no tighter than `ms`: a plain `SET LOCAL` (~4 µs), or in the extended protocol a
 *   constant `set_config(..., true)` (PostgreSQL warns about SET LOCAL outside a transaction
 *   block there, and the Parse/Bind/Execute sequence is not one).
 * - known and at least as tight: no guard at all; the session's own limit already bounds the
 *   statement more closely.
 *
 * Every form sets the limit for the current transaction only (as `SET LOCAL`): the statement's
 * implicit one, or the one `BEGIN` opens. It ends with it, so it needs no RESET and never leaves
 * a pooled session changed.
 */
export function guardFor(
  ms: number,
  sessionMs: number | undefined,
  extended: boolean,
): Guard | undefined {
  checkMs(ms, "guardFor", "ms", GUARD_RANGE);
  if (sessionMs === undefined) return { sql: readingGuardSql(ms), readsLimit: true };
  if (sessionMs > 0 && sessionMs <= ms) return undefined;
  return {
    sql: extended
      ? `SELECT set_config('statement_timeout', '${ms}', true)`
      : `SET LOCAL statement_timeout = ${ms}`,
    readsLimit: false,
  };
}

/**
 * `least(own, ms)`, reporting `own` (first column). `current_setting` reads like '30s' or
 * '1500ms'; as an interval it converts to ms. A value of 0 means "no limit", hence the NULLIF
 * (LEAST ignores NULL). OFFSET 0 keeps the planner from pulling the subquery up, which would
 * read `own` again after set_config changed it.
 */
function readingGuardSql(ms: number): string {
  return (
    "SELECT own, set_config('statement_timeout', least(nullif(own, 0), " +
    `${ms})::text, true) FROM (SELECT (extract(epoch FROM current_setting(` +
    "'statement_timeout')::interval) * 1000)::bigint AS own OFFSET 0) AS session"
  );
}
