import type { Context } from "../../core/index.js";
import {
  type DriverQuery,
  type DriverQueryClass,
  type WireConnection,
  isServerError,
} from "./driver.js";
import {
  type LimitRead,
  finishRead,
  knownLimit,
  startRead,
  wroteKnowing,
} from "./session-limit.js";
import type { StatementSource } from "./statement-config.js";
import { type Guard, guardFor } from "./statement-timeout.js";

/** @internal What a run needs to know about its statement, whatever the driver did with it. */
export interface Statement extends DriverQuery {
  /** Written to the wire: the backend has it (or will), so stopping it takes a CancelRequest. */
  readonly sent: boolean;
  /** The backend is done with it: ReadyForQuery came, or an ErrorResponse did. */
  readonly finished: boolean;
  /** SQLSTATE of the ErrorResponse that ended it, if one did (57014: canceled). */
  readonly errorCode: string | undefined;
}

/**
 * @internal Decided when the statement reaches the wire, so time spent queued behind others counts.
 */
export interface StatementPlan {
  /** Once this has ended, the statement is failed with its error instead of being sent. */
  readonly ctx: Context;
  /** The statement_timeout guard to send with it, in ms, or undefined for none. */
  guardMs(): number | undefined;
  /**
   * Put the guard after the text instead of before it (simple protocol only). For `BEGIN
   * ISOLATION LEVEL ...`, which must come before any other statement of its transaction. The
   * guard's reading form (a SELECT) then takes a repeatable-read snapshot at BEGIN rather than at
   * the first statement; its SET LOCAL form takes none.
   */
  readonly guardAfter: boolean;
  /** pg's answer: the result (or results of a multi-statement text), or the error. Called once. */
  settled(err: Error | null, result: unknown): void;
}

const classes = new WeakMap<DriverQueryClass, GuardedClass>();

type GuardedClass = new (source: StatementSource, plan: StatementPlan) => Statement;

/**
 * @internal Makes the statement as an instance of the client's own Query class, so pg treats it
 * exactly as its own (types, binary mode, prepared-statement bookkeeping), with three changes: it
 * is not sent if the context ended while it waited in the client's queue; it reports whether it
 * reached the wire and whether the backend finished it; and it carries the statement_timeout guard.
 *
 * The guard (see {@link guardFor}) travels in the same message as the statement, so it costs no
 * round trip:
 * - simple protocol (no parameters): `<guard>; <text>` in one Query message. PostgreSQL runs a
 *   multi-statement message as one implicit transaction, so the local setting covers the
 *   statement and ends with it; if the guard fails, the statement is skipped.
 * - extended protocol: Parse/Bind/Execute of the guard, then pg's own Parse/Bind/Describe/Execute
 *   and one Sync: the same implicit transaction, for the same reasons.
 * The guard's own answer (a CommandComplete, after a row for a SELECT) is swallowed before the
 * statement's. A SET before and RESET after would cost two more round trips per query and leave
 * a pooled session changed if the RESET never ran.
 */
export function createStatement(
  Query: DriverQueryClass,
  source: StatementSource,
  plan: StatementPlan,
): Statement {
  let Guarded = classes.get(Query);
  if (Guarded === undefined) {
    Guarded = guardedClass(Query);
    classes.set(Query, Guarded);
  }
  return new Guarded(source, plan);
}

function guardedClass(Query: DriverQueryClass): GuardedClass {
  return class GuardedStatement extends Query implements Statement {
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
    /** Set while the guard's answer, which carries the session's own limit, is awaited. */
    #read: LimitRead | undefined = undefined;

    constructor(source: StatementSource, plan: StatementPlan) {
      // Positional, as pg's own client.query(text, values, callback): no copy of a string.
      super(source.text, source.values, (err, result) => plan.settled(err ?? null, result));
      this.#plan = plan;
    }

    override submit(connection: WireConnection): Error | null | undefined | void {
      const err = this.#plan.ctx.err;
      if (err !== undefined) {
        this.finished = true; // nothing was written; pg fails it with this error
        return err;
      }
      const text = this.text ?? "";
      const known = knownLimit(connection);
      // Named statements are left alone: pg may refuse one (a name reused for other text) after
      // the guard was written, which would leave the wire out of step.
      let guard: Guard | undefined;
      try {
        const ms = this.name === undefined ? this.#plan.guardMs() : undefined;
        guard = ms === undefined ? undefined : guardFor(ms, known?.ms, this.requiresPreparation());
      } catch (e) {
        // pg calls submit from its socket handler: a throw here would be uncaught.
        return e instanceof Error ? e : new Error(String(e));
      }
      this.sent = true;
      const refused = this.#write(connection, text, guard);
      if (refused instanceof Error) {
        this.sent = false;
        return refused;
      }
      if (known !== undefined) wroteKnowing(connection, known, text);
      else if (guard?.readsLimit === true) this.#read = startRead(connection, text);
      return refused;
    }

    #write(
      connection: WireConnection,
      text: string,
      guard: Guard | undefined,
    ): Error | null | undefined | void {
      if (guard === undefined) return this.#submitOwn(connection);
      if (this.#plan.guardAfter && !this.requiresPreparation()) {
        this.#guard = "after-first";
        connection.query(`${text}; ${guard.sql}`);
        return null;
      }
      this.#guard = "first";
      if (this.requiresPreparation()) {
        const stream = connection.stream;
        stream.cork();
        try {
          connection.parse({ text: guard.sql });
          connection.bind({});
          connection.execute({});
          return this.#submitOwn(connection); // pg's Parse/Bind/Describe/Execute and the Sync
        } finally {
          stream.uncork();
        }
      }
      this.#prefixLength = guard.sql.length + 2;
      connection.query(`${guard.sql}; ${text}`);
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
      if (!this.#inGuard()) {
        super.handleDataRow(message);
        return;
      }
      const read = this.#read;
      if (read !== undefined) {
        this.#read = undefined;
        finishRead(read, (message as { fields?: unknown[] }).fields?.[0]);
      }
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
