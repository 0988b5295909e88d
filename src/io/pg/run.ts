import type { Context } from "../../core/context.js";
import { raceContext } from "../race.js";
import {
  type DriverClient,
  type DriverQueryConfig,
  queryClassOf,
  transactionStatus,
} from "./driver.js";
import { createStatement } from "./guarded-query.js";
import type { ResolvedPgOptions } from "./options.js";
import { guardTimeoutMs } from "./statement-timeout.js";
import { stopBackend } from "./stop-backend.js";

/** How one statement runs on a client. */
export interface RunSettings {
  readonly options: ResolvedPgOptions;
  /**
   * Whether this statement may carry the statement_timeout guard. Off for statements that must
   * run alone (ROLLBACK in a failed transaction would refuse the guard's SELECT).
   */
  readonly guard: boolean;
  /** The adapter checked the client out itself, so it knows the client is not inside a transaction. */
  readonly owned: boolean;
  /** Send the guard after the statement (for BEGIN; see StatementPlan.guardAfter). */
  readonly guardAfter?: boolean;
  /**
   * Called once when the client may take its next statement (true), or must be closed (false):
   * at once when the statement finished, after the cancel is spent when it was stopped.
   */
  readonly onIdle: (reusable: boolean) => void;
}

/**
 * Runs one statement on `client` under `ctx`, the adapters' contract (see raceContext): the
 * promise settles with the result, or rejects with `ctx.err` as soon as `ctx` ends; then the
 * backend is stopped with a CancelRequest and `onIdle` says, once that is done, whether the
 * client is fit for reuse. A statement still queued in the client when `ctx` ends is never sent.
 */
export function runStatement(
  ctx: Context,
  client: DriverClient,
  config: Omit<DriverQueryConfig, "callback">,
  settings: RunSettings,
  fn: string,
): Promise<unknown> {
  const { options } = settings;
  const statement = createStatement(queryClassOf(client, fn), config, {
    ctx,
    guardAfter: settings.guardAfter,
    guardMs() {
      if (!settings.guard || !options.statementTimeout) return undefined;
      // Only outside a transaction: inside one, a local setting would outlive this statement
      // and bind the caller's later statements (the transaction helper guards at BEGIN).
      const status = transactionStatus(client);
      if (status === undefined ? !settings.owned : status !== "I") return undefined;
      return guardTimeoutMs(ctx.remaining(), options.statementTimeoutSlackMs);
    },
  });

  let decided = false;
  // Whichever comes first, the statement's own end or the context's, decides what the client
  // needs: nothing if the backend is done with it, a stop if it is still working on it.
  const decide = (): void => {
    if (decided) return;
    decided = true;
    if (!statement.sent || statement.finished) {
      settings.onIdle(true);
      return;
    }
    void stopBackend(client, statement, options.cancelTimeoutMs).then(settings.onIdle);
  };
  const result = raceContext(
    ctx,
    () => {
      client.query(statement);
      return statement.result;
    },
    decide,
  );
  result.then(decide, decide);
  return result;
}
