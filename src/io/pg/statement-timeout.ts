/** The largest `statement_timeout` PostgreSQL accepts (INT_MAX ms, about 24.8 days). */
const MAX_STATEMENT_TIMEOUT_MS = 2_147_483_647;

/**
 * The server-side guard for a statement with `remainingMs` left: the budget plus `slackMs`, in
 * whole ms, or undefined when there is no deadline to guard (the session's own setting stays).
 */
export function guardTimeoutMs(remainingMs: number, slackMs: number): number | undefined {
  if (!Number.isFinite(remainingMs)) return undefined;
  const ms = Math.ceil(Math.max(0, remainingMs) + slackMs);
  return Math.min(Math.max(1, ms), MAX_STATEMENT_TIMEOUT_MS);
}

/**
 * SQL that sets `statement_timeout` for the current transaction only (`set_config(..., true)`,
 * as `SET LOCAL`), to `ms` or the session's own value if that is tighter: the guard must never
 * loosen a limit an administrator set. It runs in the same message as the statement it guards
 * (see guarded-query.ts), so it costs no round trip and needs no RESET: the setting ends with
 * the statement's implicit transaction, or with the transaction that `BEGIN` opens.
 *
 * `current_setting` reads like '30s' or '1500ms'; as an interval it converts to ms. A value of
 * 0 means "no limit", hence the NULLIF (LEAST ignores NULL).
 */
export function guardSql(ms: number): string {
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_STATEMENT_TIMEOUT_MS) {
    throw new RangeError(`guardSql: ms must be a whole number from 1 to 2^31-1, got ${ms}`);
  }
  return (
    "SELECT set_config('statement_timeout', least(nullif(extract(epoch FROM " +
    `current_setting('statement_timeout')::interval) * 1000, 0), ${ms})::bigint::text, true)`
  );
}
