import { channels, type Context } from "../../core/index.js";
import {
  type Announced,
  announceOpEnd,
  announceOpStart,
  type CancelContext,
  endedError,
  unwatch,
  watch,
  Watcher,
} from "../../core/internal.js";
import type { Pool, PoolClient } from "pg";
import { watchClientErrors, releaseClient } from "./acquire.js";
import { type DriverClient, asClient, queryClassOf, transactionStatus } from "./driver.js";
import { type Statement, type StatementPlan, createStatement } from "./guarded-query.js";
import type { ResolvedPgOptions } from "./options.js";
import type { StatementSource } from "./statement-config.js";
import { guardTimeoutMs } from "./statement-timeout.js";
import { stopBackend } from "./stop-backend.js";

/** @internal How one statement runs on a client. */
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
   * at once when the statement finished, after the cancel is spent when it was stopped. On a
   * pool, undefined: the client checked out for the statement goes back to the pool (or is
   * dropped from it).
   */
  readonly onIdle: ((reusable: boolean) => void) | undefined;
}

/**
 * Stops in progress, by client. A statement for a client being stopped is handed to pg only
 * once the stop is over: pg deprecates queueing a query behind another (and pg 9 drops it), and
 * the adapter never needs to.
 */
const stopping = new WeakMap<DriverClient, Promise<void>>();

/**
 * @internal Runs one statement on `client` under `ctx`, the adapters' contract (as raceContext's):
 * the promise settles with the result, or rejects with `ctx.err` as soon as `ctx` ends; then the
 * backend is stopped with a CancelRequest and `onIdle` says, once that is done, whether the client
 * is fit for reuse. A statement still waiting for the client when `ctx` ends is never sent.
 */
export function runStatement(
  ctx: Context,
  client: DriverClient,
  source: StatementSource,
  settings: RunSettings,
  fn: string,
): Promise<unknown> {
  return new StatementRun(ctx, source, settings, fn).onClient(client);
}

/**
 * @internal As {@link runStatement}, on a client checked out of `pool` for the statement and given
 * back when it is idle. Rejects with `ctx.err` as soon as `ctx` ends, even while waiting for a free
 * connection; pg-pool cannot withdraw a waiting checkout, so a client that arrives after the caller
 * gave up goes straight back.
 */
export function runOnPool(
  ctx: Context,
  pool: Pool,
  source: StatementSource,
  options: ResolvedPgOptions,
  fn: string,
): Promise<unknown> {
  const settings = { options, guard: true, owned: true, onIdle: undefined };
  return new StatementRun(ctx, source, settings, fn).onPool(pool);
}

/**
 * One statement's way through a client: the checkout, the guard it carries, the caller's answer,
 * the stop. One object, watching the context itself, so a statement that finishes in time costs
 * one promise and no timers.
 */
class StatementRun extends Watcher implements StatementPlan {
  readonly ctx: Context;
  readonly #source: StatementSource;
  readonly #settings: RunSettings;
  readonly #fn: string;
  #resolve: (value: unknown) => void = noop;
  #reject: (err: unknown) => void = noop;
  #client: DriverClient | undefined = undefined;
  /** The pool's client, when this run checked it out. */
  #pooled: PoolClient | undefined = undefined;
  #statement: Statement | undefined = undefined;
  /** The caller has its answer: the result, an error, or the context's error. */
  #answered = false;
  #decided = false;
  /** The statement as an operation, for diagnostics; undefined when nobody listens. */
  #op: Partial<Announced> | undefined = undefined;

  constructor(ctx: Context, source: StatementSource, settings: RunSettings, fn: string) {
    super();
    this.ctx = ctx;
    this.#source = source;
    this.#settings = settings;
    this.#fn = fn;
  }

  get guardAfter(): boolean {
    return this.#settings.guardAfter === true;
  }

  guardMs(): number | undefined {
    const settings = this.#settings;
    if (!settings.guard || !settings.options.statementTimeout) return undefined;
    // Only outside a transaction: inside one, a local setting would outlive this statement
    // and bind the caller's later statements (the transaction helper guards at BEGIN).
    const status = this.#client === undefined ? undefined : transactionStatus(this.#client);
    if (status === undefined ? !settings.owned : status !== "I") return undefined;
    return guardTimeoutMs(this.ctx.remaining(), settings.options.statementTimeoutSlackMs);
  }

  onClient(client: DriverClient): Promise<unknown> {
    this.#client = client;
    const answer = this.#begin();
    if (this.#answered)
      this.#idle(true); // ended already: nothing sent, the client is as it was
    else this.#use(client);
    return answer;
  }

  onPool(pool: Pool): Promise<unknown> {
    const answer = this.#begin();
    if (!this.#answered) pool.connect((err, pooled) => this.#checkedOut(err, pooled));
    return answer;
  }

  /** The caller's promise; rejected at once if the context has already ended. */
  #begin(): Promise<unknown> {
    const answer = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (!watch(this.ctx, this)) {
      this.#answered = true;
      this.#reject(endedError(this.ctx));
    } else if (channels.opStart.hasSubscribers) {
      this.#op = {};
      announceOpStart(this.#op, "pg.query", this.ctx);
    }
    return answer;
  }

  #checkedOut(err: Error | undefined, pooled: PoolClient | undefined): void {
    if (this.#answered) {
      pooled?.release(); // the caller gave up while waiting: untouched, straight back
      this.#workOver();
      return;
    }
    if (err !== undefined || pooled === undefined) {
      this.#fail(err ?? new Error("timebound/pg: the pool gave no client"));
      return;
    }
    let client: DriverClient;
    try {
      client = asClient(pooled, this.#fn);
    } catch (e) {
      pooled.release();
      this.#fail(e);
      return;
    }
    watchClientErrors(pooled);
    this.#pooled = pooled;
    this.#use(client);
  }

  #use(client: DriverClient): void {
    this.#client = client;
    let statement: Statement;
    try {
      statement = createStatement(queryClassOf(client, this.#fn), this.#source, this);
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.#statement = statement;
    const stop = stopping.get(client);
    if (stop === undefined) this.#send(client, statement);
    else void stop.then(() => this.#send(client, statement));
  }

  #send(client: DriverClient, statement: Statement): void {
    if (this.#answered) {
      this.#workOver(); // ended while a stop held the client: never sent
      return;
    }
    try {
      client.query(statement);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** pg's answer to the statement (StatementPlan): the work is over. */
  settled(err: Error | null, result: unknown): void {
    this.#workOver();
    if (!this.#answered) {
      this.#answered = true;
      unwatch(this);
      if (err === null) this.#resolve(result);
      else this.#reject(err);
    }
    this.#decide();
  }

  /** The context ended first: the caller gets its error now, the stop runs right after. */
  _ended(owner: CancelContext): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#reject(endedError(owner));
    // The stop touches sockets and the driver: run it after cancel() has returned.
    if (this.#statement !== undefined) queueMicrotask(() => this.#decide());
  }

  /** Failed before pg had the statement: nothing to stop; a checked-out client goes back. */
  #fail(err: unknown): void {
    if (!this.#answered) {
      this.#answered = true;
      unwatch(this);
      this.#reject(err);
    }
    this.#workOver();
    if (this.#statement === undefined) this.#idle(true);
    else this.#decide();
  }

  /**
   * Whichever comes first, the statement's own end or the context's, decides what the client
   * needs: nothing if the backend is done with it, a stop if it is still working on it.
   */
  #decide(): void {
    if (this.#decided) return;
    this.#decided = true;
    const client = this.#client;
    const statement = this.#statement;
    if (client === undefined || statement === undefined || !statement.sent || statement.finished) {
      this.#idle(true);
      return;
    }
    const stop = stopBackend(client, statement, this.#settings.options.cancelTimeoutMs).then(
      (reusable) => {
        if (stopping.get(client) === stop) stopping.delete(client);
        this.#idle(reusable);
      },
    );
    stopping.set(client, stop);
  }

  #idle(reusable: boolean): void {
    const pooled = this.#pooled;
    if (pooled !== undefined) {
      this.#pooled = undefined;
      releaseClient(pooled, reusable);
    } else if (this.#client !== undefined) {
      this.#settings.onIdle?.(reusable);
    }
  }

  #workOver(): void {
    const op = this.#op;
    if (op === undefined) return;
    this.#op = undefined;
    announceOpEnd(op, this.ctx.err === undefined ? "done" : "context-ended");
  }
}

function noop(): void {}
