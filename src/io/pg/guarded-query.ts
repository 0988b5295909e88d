import type { Context } from "../../core/context.js";
import {
  type DriverQuery,
  type DriverQueryClass,
  type DriverQueryConfig,
  type WireConnection,
  isServerError,
} from "./driver.js";
import { guardSql } from "./statement-timeout.js";

/** What a run needs to know about its statement, whatever the driver did with it. */
export interface Statement extends DriverQuery {
  /** Settles with pg's result (or results) or its error; later answers are ignored. */
  readonly result: Promise<unknown>;
  /** Written to the wire: the backend has it (or will), so stopping it takes a CancelRequest. */
  readonly sent: boolean;
  /** The backend is done with it: ReadyForQuery came, or an ErrorResponse did. */
  readonly finished: boolean;
  /** SQLSTATE of the ErrorResponse that ended it, if one did (57014: canceled). */
  readonly errorCode: string | undefined;
}

/** Decided when the statement reaches the wire, so time spent queued behind others counts. */
export interface StatementPlan {
  /** Once this has ended, the statement is failed with its error instead of being sent. */
  readonly ctx: Context;
  /** The statement_timeout guard to send with it, in ms, or undefined for none. */
  guardMs(): number | undefined;
  /**
   * Put the guard after the text instead of before it (simple protocol only). For `BEGIN
   * ISOLATION LEVEL ...`, which must come before any other statement of its transaction; the
   * guard then takes a repeatable-read snapshot at BEGIN rather than at the first statement.
   */
  readonly guardAfter?: boolean;
}

const classes = new WeakMap<DriverQueryClass, new (config: StatementConfig) => Statement>();

type StatementConfig = Omit<DriverQueryConfig, "callback"> & { readonly plan: StatementPlan };

/**
 * Makes the statement as an instance of the client's own Query class, so pg treats it exactly
 * as its own (types, binary mode, prepared-statement bookkeeping), with three changes: it is not
 * sent if the context ended while it waited in the client's queue; it reports whether it reached
 * the wire and whether the backend finished it; and it carries the statement_timeout guard.
 *
 * The guard travels in the same message as the statement, so it costs no round trip:
 * - simple protocol (no parameters): `<guard>; <text>` in one Query message. PostgreSQL runs a
 *   multi-statement message as one implicit transaction, so the local setting covers the
 *   statement and ends with it; if the guard fails, the statement is skipped.
 * - extended protocol: Parse/Bind/Execute of the guard, then pg's own Parse/Bind/Describe/Execute
 *   and one Sync: the same implicit transaction, for the same reasons.
 * The guard's own answer (a row and a CommandComplete) is swallowed before the statement's.
 * A SET before and RESET after would cost two more round trips per query and leave a pooled
 * session changed if the RESET never ran.
 */
export function createStatement(
  Query: DriverQueryClass,
  config: Omit<DriverQueryConfig, "callback">,
  plan: StatementPlan,
): Statement {
  let Guarded = classes.get(Query);
  if (Guarded === undefined) {
    Guarded = guardedClass(Query);
    classes.set(Query, Guarded);
  }
  return new Guarded({ ...config, plan });
}

function guardedClass(Query: DriverQueryClass): new (config: StatementConfig) => Statement {
  return class GuardedStatement extends Query implements Statement {
    readonly result: Promise<unknown>;
    sent = false;
    finished = false;
    errorCode: string | undefined = undefined;
    readonly #plan: StatementPlan;
    /** Where the guard's answer is among the results: none, the first one, or all after the first. */
    #guard: "none" | "first" | "after-first" = "none";
    /** CommandCompletes seen so far, the guard's included. */
    #completed = 0;
    /** Characters put before the caller's text, to correct error positions. */
    #prefixLength = 0;
    /** Inside pg's own submit, which fails a statement whose values it cannot bind at once. */
    #submitting = false;

    constructor({ plan, ...config }: StatementConfig) {
      let settle: DriverQueryConfig["callback"] = () => {};
      const result = new Promise<unknown>((resolve, reject) => {
        settle = (err, value) => (err ? reject(err) : resolve(value));
      });
      super({ ...config, callback: (err, value) => settle(err, value) });
      this.result = result;
      this.#plan = plan;
    }

    override submit(connection: WireConnection): Error | null | undefined | void {
      const err = this.#plan.ctx.err;
      if (err !== undefined) {
        this.finished = true; // nothing was written; pg fails it with this error
        return err;
      }
      // Named statements are left alone: pg may refuse one (a name reused for other text) after
      // the guard was written, which would leave the wire out of step.
      let guard: string | undefined;
      try {
        const guardMs = this.name === undefined ? this.#plan.guardMs() : undefined;
        guard = guardMs === undefined ? undefined : guardSql(guardMs);
      } catch (e) {
        // pg calls submit from its socket handler: a throw here would be uncaught.
        return e instanceof Error ? e : new Error(String(e));
      }
      this.sent = true;
      if (guard === undefined) {
        const refused = this.#submitOwn(connection);
        if (refused instanceof Error) this.sent = false;
        return refused;
      }
      const text = this.text ?? "";
      if (this.#plan.guardAfter === true && !this.requiresPreparation()) {
        this.#guard = "after-first";
        connection.query(`${text}; ${guard}`);
        return null;
      }
      this.#guard = "first";
      if (this.requiresPreparation()) {
        const stream = connection.stream;
        stream.cork();
        try {
          connection.parse({ text: guard });
          connection.bind({});
          connection.execute({});
          return this.#submitOwn(connection); // pg's Parse/Bind/Describe/Execute and the Sync
        } finally {
          stream.uncork();
        }
      }
      this.#prefixLength = guard.length + 2;
      connection.query(`${guard}; ${text}`);
      return null;
    }

    #submitOwn(connection: WireConnection): Error | null | undefined | void {
      this.#submitting = true;
      try {
        return super.submit(connection);
      } finally {
        this.#submitting = false;
      }
    }

    /** Whether the answer now arriving is the guard's (swallowed: the caller never sees it). */
    #inGuard(): boolean {
      if (this.#guard === "first") return this.#completed === 0;
      return this.#guard === "after-first" && this.#completed > 0;
    }

    override handleRowDescription(message: unknown): void {
      if (!this.#inGuard()) super.handleRowDescription(message);
    }

    override handleDataRow(message: unknown): void {
      if (!this.#inGuard()) super.handleDataRow(message);
    }

    override handleCommandComplete(message: unknown, connection: WireConnection): void {
      const guard = this.#inGuard();
      this.#completed++;
      if (!guard) super.handleCommandComplete(message, connection);
    }

    override handleError(err: Error, connection: WireConnection): void {
      // A bind failure inside pg's submit: pg closes the statement with a Sync of its own, so
      // the backend stops by itself; there is nothing to cancel.
      if (this.#submitting) this.finished = true;
      if (isServerError(err)) {
        this.finished = true;
        this.errorCode = err.code;
        const position = Number(err.position);
        if (this.#prefixLength > 0 && position > this.#prefixLength) {
          err.position = String(position - this.#prefixLength);
        }
      }
      super.handleError(err, connection);
    }

    override handleReadyForQuery(connection: WireConnection): void {
      this.finished = true;
      super.handleReadyForQuery(connection);
    }
  };
}
