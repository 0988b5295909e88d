import {
  afterFunc,
  background,
  type CancelableContext,
  type Context,
  isContext,
  withCancel,
  withTimeout,
} from "../../core/index.js";
import {
  type OptionsReader,
  checkContext,
  checkFunction,
  checkOneOf,
  readOptions,
} from "../../core/internal.js";
import type { Pool, PoolClient, QueryResult, QueryResultRow } from "pg";
import { raceContext } from "../race.js";
import { acquire, releaseClient } from "./acquire.js";
import { type DriverClient, asClient, asPool, transactionStatus } from "./driver.js";
import { TransactionRolledBackError } from "./errors.js";
import {
  PG_OPTION_KEYS,
  type PgOptions,
  type ResolvedPgOptions,
  readPgOptions,
} from "./options.js";
import { runStatement } from "./run.js";
import { type QueryText, type StatementSource, statementSource } from "./statement-config.js";

/** Options of {@link transaction}: those of every query, and how the transaction begins. */
export interface TransactionOptions extends PgOptions {
  /** `BEGIN ISOLATION LEVEL ...`. Default: the server's (normally "read committed"). */
  readonly isolationLevel?: IsolationLevel;
  /** `BEGIN ... READ ONLY`. Default false. */
  readonly readOnly?: boolean;
}

/** A transaction isolation level PostgreSQL implements, as written after `ISOLATION LEVEL`. */
export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

const ISOLATION_LEVELS: readonly IsolationLevel[] = [
  "read committed",
  "repeatable read",
  "serializable",
];

/** The handle `fn` gets: statements on the transaction's client. */
export interface Transaction {
  /**
   * The transaction's context: a child of the caller's, ended when the transaction ends
   * (committed, rolled back, or the caller's context ended). Derive per-statement deadlines
   * from it.
   */
  readonly ctx: Context;
  /** Runs a statement in the transaction under the transaction's context. */
  query<R extends QueryResultRow = QueryResultRow>(
    text: QueryText,
    values?: readonly unknown[],
  ): Promise<QueryResult<R>>;
  /**
   * Runs a statement in the transaction under `ctx` (say, a tighter deadline); it is also
   * stopped, with `Canceled`, if the transaction ends first.
   */
  query<R extends QueryResultRow = QueryResultRow>(
    ctx: Context,
    text: QueryText,
    values?: readonly unknown[],
  ): Promise<QueryResult<R>>;
}

/**
 * Runs `fn` in a transaction on a client checked out of `pool`: BEGIN, `fn(tx)`, COMMIT, or
 * ROLLBACK if `fn` throws. Rejects with `ctx.err` within a few ms of `ctx` ending, whatever
 * `fn` is doing; the transaction is then closed in the background: the statement in flight is
 * stopped with a CancelRequest, later `tx.query` calls are refused, the transaction is rolled
 * back, and the client goes back to the pool (or is closed if it cannot be made idle within
 * `cancelTimeoutMs`, which rolls the transaction back too).
 *
 * BEGIN carries the server-side guard: `statement_timeout` for the whole transaction, from the
 * time left (see {@link query}), set locally in the same message, so it ends with the
 * transaction. If `ctx` ends while COMMIT is in flight, the outcome is unknown, as with any
 * commit whose answer is lost. If a statement failed and `fn` caught its error and returned,
 * PostgreSQL answers COMMIT with ROLLBACK: that rejects with {@link TransactionRolledBackError}.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(background(), 2000, { name: "transfer" });
 * await transaction(ctx, pool, async (tx) => {
 *   await tx.query("UPDATE accounts SET balance = balance - $1 WHERE id = $2", [100, "alice"]);
 *   await tx.query("UPDATE accounts SET balance = balance + $1 WHERE id = $2", [100, "bob"]);
 * });
 * ```
 */
export function transaction<T>(
  ctx: Context,
  pool: Pool,
  fn: (tx: Transaction) => Promise<T>,
  options?: TransactionOptions,
): Promise<T> {
  let checked: Pool;
  let begin: string;
  let resolved: ResolvedPgOptions;
  try {
    checkContext(ctx, "transaction");
    checked = asPool(pool, "transaction");
    checkFunction(fn, "transaction", "fn");
    const o = readOptions(options, "transaction", TRANSACTION_OPTION_KEYS);
    begin = beginSql(o);
    resolved = readPgOptions(o);
  } catch (err) {
    return Promise.reject(err); // a promise API: bad arguments reject, as Node's do
  }
  return raceContext(ctx, () => new TransactionRun<T>(ctx, checked, fn, begin, resolved).run());
}

const TRANSACTION_OPTION_KEYS: readonly (keyof TransactionOptions)[] = [
  ...PG_OPTION_KEYS,
  "isolationLevel",
  "readOnly",
];

function beginSql(o: OptionsReader<TransactionOptions>): string {
  const level = o.raw("isolationLevel");
  if (level !== undefined) checkOneOf(level, o.fn, "options.isolationLevel", ISOLATION_LEVELS);
  const readOnly = o.boolean("readOnly", false);
  return `BEGIN${level === undefined ? "" : ` ISOLATION LEVEL ${level.toUpperCase()}`}${readOnly ? " READ ONLY" : ""}`;
}

/** Why `tx.ctx` ended when the transaction closed normally. */
const CLOSED = new Error("timebound/pg: the transaction is over");

/** One transaction, from checkout to release; `fn` sees it only as a {@link Transaction}. */
class TransactionRun<T> implements Transaction {
  readonly ctx: CancelableContext;
  readonly #pool: Pool;
  readonly #fn: (tx: Transaction) => Promise<T>;
  readonly #begin: string;
  readonly #options: ResolvedPgOptions;
  #client: DriverClient | undefined;
  #committed = false;
  /** Statements whose client may still be busy; the client is released when none are. */
  #busy = 0;
  #reusable = true;
  #drained: (() => void)[] = [];

  constructor(
    parent: Context,
    pool: Pool,
    fn: (tx: Transaction) => Promise<T>,
    begin: string,
    options: ResolvedPgOptions,
  ) {
    this.ctx = withCancel(parent, { name: "transaction" });
    this.#pool = pool;
    this.#fn = fn;
    this.#begin = begin;
    this.#options = options;
  }

  async run(): Promise<T> {
    let pooled: PoolClient | undefined;
    try {
      pooled = await acquire(this.ctx, this.#pool);
      this.#client = asClient(pooled, "transaction");
      await this.#exec(this.ctx, sql(this.#begin), true);
      const value = await raceContext(this.ctx, () => callFn(this.#fn, this));
      await this.#drain(); // a statement fn gave up on may still be being stopped
      const commit = (await this.#exec(this.ctx, sql("COMMIT"), false)) as QueryResult;
      if (commit.command !== "COMMIT") throw new TransactionRolledBackError();
      this.#committed = true;
      return value;
    } finally {
      await this.#close(pooled);
    }
  }

  query<R extends QueryResultRow = QueryResultRow>(
    ...args: [QueryText, (readonly unknown[])?] | [Context, QueryText, (readonly unknown[])?]
  ): Promise<QueryResult<R>> {
    const [given, text, values] = isContext(args[0])
      ? (args as [Context, QueryText, (readonly unknown[])?])
      : [undefined, ...(args as [QueryText, (readonly unknown[])?])];
    let source: StatementSource;
    try {
      source = statementSource(text, values, "tx.query");
    } catch (e) {
      return Promise.reject(e);
    }
    const err = this.ctx.err;
    if (err !== undefined) return Promise.reject(err); // over: the client may be someone else's
    if (given === undefined || given === this.ctx) {
      return this.#exec(this.ctx, source, false) as Promise<QueryResult<R>>;
    }
    // Derived from the caller's context, so the caller's own deadline reports as itself, and
    // ended by the transaction's too.
    const linked = withCancel(given, { name: "transaction statement" });
    const unlink = afterFunc(this.ctx, () => linked.cancel(this.ctx.err));
    const done = (): void => {
      unlink();
      linked.cancel();
    };
    return this.#exec(linked, source, false).then(
      (value) => {
        done();
        return value as QueryResult<R>;
      },
      (err: unknown) => {
        done();
        // The caller's own context ended: report its error, not the link's.
        throw err === linked.err && given.err !== undefined ? given.err : err;
      },
    );
  }

  #exec(
    ctx: Context,
    source: StatementSource,
    /** Only BEGIN carries the guard, after itself: it then holds for the whole transaction. */
    guard: boolean,
  ): Promise<unknown> {
    const client = this.#client;
    if (client === undefined) {
      return Promise.reject(new Error("timebound/pg internal error: no client yet"));
    }
    this.#busy++;
    return runStatement(
      ctx,
      client,
      source,
      {
        options: this.#options,
        guard,
        guardAfter: true,
        owned: true,
        onIdle: (ok) => this.#idle(ok),
      },
      "tx.query",
    );
  }

  #idle(reusable: boolean): void {
    if (!reusable) this.#reusable = false;
    if (--this.#busy === 0) for (const wake of this.#drained.splice(0)) wake();
  }

  #drain(): Promise<void> {
    return this.#busy === 0 ? Promise.resolve() : new Promise((wake) => this.#drained.push(wake));
  }

  /** Ends the transaction: stops what runs, rolls back unless committed, releases the client. */
  async #close(pooled: PoolClient | undefined): Promise<void> {
    this.ctx.cancel(CLOSED); // stops statements in flight; refuses new ones
    if (pooled === undefined) return;
    if (this.#client === undefined) {
      releaseClient(pooled, true); // not a client we can use (asClient refused it); untouched
      return;
    }
    await this.#drain();
    if (this.#reusable && this.#inTransaction()) await this.#rollback();
    // Never hand the pool a session still inside a transaction (a ROLLBACK that was canceled).
    const status = transactionStatus(this.#client);
    if (status !== undefined && status !== "I") this.#reusable = false;
    releaseClient(pooled, this.#reusable);
  }

  #inTransaction(): boolean {
    const status = this.#client === undefined ? "I" : transactionStatus(this.#client);
    return status === undefined ? !this.#committed : status !== "I";
  }

  /** ROLLBACK, whatever the context: it ends the work. Bounded like a cancel. */
  async #rollback(): Promise<void> {
    using bound = withTimeout(background(), this.#options.cancelTimeoutMs, { name: "rollback" });
    try {
      await this.#exec(bound, sql("ROLLBACK"), false);
    } catch {
      this.#reusable = false; // closing the connection rolls back instead
    }
    await this.#drain();
  }
}

/** One of the adapter's own statements. */
function sql(text: string): StatementSource {
  return { text, values: undefined };
}

/** Calls `fn`, turning a synchronous throw into a rejection. */
function callFn<T>(fn: (tx: Transaction) => Promise<T>, tx: Transaction): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn(tx)));
}
