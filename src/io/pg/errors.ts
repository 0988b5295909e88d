/**
 * COMMIT was answered with ROLLBACK: a statement in the transaction had failed (say, one
 * stopped by its own deadline) and `fn` caught its error and went on, so PostgreSQL had
 * already doomed the transaction. Nothing was committed; without this error the caller would
 * believe otherwise.
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
  constructor() {
    super(
      "transaction: COMMIT rolled back instead: a statement in the transaction failed and its " +
        "error was caught inside fn, so nothing was committed",
    );
    this.name = "TransactionRolledBackError";
  }
}
