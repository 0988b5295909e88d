import { defineErrorClass } from "../../core/internal.js";

/**
 * COMMIT was answered with ROLLBACK: a statement in the transaction had failed (say, one
 * stopped by its own deadline) and `fn` caught its error and went on, so PostgreSQL had
 * already doomed the transaction. Nothing was committed; without this error the caller would
 * believe otherwise. Its `code` is `"TIMEBOUND_ERR_TRANSACTION_ROLLED_BACK"`; `instanceof` works
 * across the ESM and CJS copies of timebound.
 *
 * @example
 * ```ts
 * try {
 *   await transaction(ctx, pool, (tx) => transfer(ctx, tx));
 * } catch (err) {
 *   if (err instanceof TransactionRolledBackError) retryLater();
 * }
 * ```
 */
export class TransactionRolledBackError extends Error {
  /** `"TIMEBOUND_ERR_TRANSACTION_ROLLED_BACK"`. */
  declare readonly code: "TIMEBOUND_ERR_TRANSACTION_ROLLED_BACK";

  constructor() {
    super(
      "transaction: COMMIT rolled back instead: a statement in the transaction failed and its " +
        "error was caught inside fn, so nothing was committed",
    );
  }
}

defineErrorClass(TransactionRolledBackError, "TransactionRolledBackError", {
  kind: "timebound.TransactionRolledBackError",
  code: "TIMEBOUND_ERR_TRANSACTION_ROLLED_BACK",
});
