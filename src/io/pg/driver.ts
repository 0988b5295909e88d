// The parts of `pg` this adapter relies on beyond its typed public API, named in one place.
// Everything here is read from the objects the caller hands us; the driver is never imported,
// so the Query class and the protocol methods always come from the caller's own copy of pg.
import { describeValue, invalidType } from "../../core/internal.js";
import type { Duplex } from "node:stream";
import type { Pool, QueryConfig } from "pg";

/**
 * @internal The protocol writer behind a client (`client.connection`), as pg's own Query uses it.
 */
export interface WireConnection {
  readonly stream: Duplex & {
    readonly remoteAddress?: string;
    readonly remotePort?: number;
    /** Bytes written so far (net.Socket): tells whether anything else was sent in between. */
    readonly bytesWritten?: number;
  };
  // pg's Client handles each backend message on an event of this EventEmitter; "end" is the
  // socket's close.
  prependOnceListener(event: "readyForQuery", listener: () => void): unknown;
  once(event: "end", listener: () => void): unknown;
  removeListener(event: "end", listener: () => void): unknown;
  query(text: string): void;
  parse(message: { text: string }): void;
  bind(message: Record<string, never>): void;
  execute(message: Record<string, never>): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

/**
 * @internal A query object the client can run (pg's "Submittable"): `submit` writes it to the wire,
 * or returns an Error to fail it without writing anything; the handlers receive the backend's
 * answer.
 */
export interface Submittable {
  submit(connection: WireConnection): Error | null | undefined | void;
  handleRowDescription(message: unknown): void;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: WireConnection): void;
  handleEmptyQuery(connection: WireConnection): void;
  handlePortalSuspended(connection: WireConnection): void;
  handleCopyInResponse(connection: WireConnection): void;
  handleCopyData(message: unknown, connection: WireConnection): void;
  handleError(err: Error, connection: WireConnection): void;
  handleReadyForQuery(connection: WireConnection): void;
}

/** @internal pg's Query: a Submittable that builds a result from the backend's messages. */
export interface DriverQuery extends Submittable {
  readonly text: string | undefined;
  readonly name: string | undefined;
  requiresPreparation(): boolean;
}

/** @internal The callback pg's Query settles with the result (or results), or the error. */
export type DriverQueryCallback = (err: Error | null, result?: unknown) => void;

/**
 * @internal pg's Query constructor, called as pg's own `client.query(text, values, callback)` calls
 * it. A string `text` costs pg nothing; a QueryConfig is copied property by property.
 */
export type DriverQueryClass = new (
  text: string | QueryConfig<unknown[]>,
  values: unknown[] | undefined,
  callback: DriverQueryCallback,
) => DriverQuery;

/** @internal A connected pg Client (or PoolClient), seen through the fields the adapter needs. */
export interface DriverClient {
  readonly connection: WireConnection;
  /** Backend process id and cancel key, from BackendKeyData at connect. */
  readonly processID: number | null;
  readonly secretKey: number | null;
  readonly host: string;
  readonly port: number;
  readonly pipeline?: boolean;
  /** Queries waiting behind the active one (pg 8; absent in other versions). */
  readonly _queryQueue?: unknown[];
  /** "I" idle, "T" in a transaction, "E" in a failed transaction (pg >= 8.13). */
  getTransactionStatus?(): string | null;
  query(submittable: Submittable): unknown;
  end(): Promise<void>;
}

/** @internal What a caller may pass as `db`, sorted out. */
export type Target =
  | { readonly kind: "pool"; readonly pool: Pool }
  | { readonly kind: "client"; readonly client: DriverClient };

/**
 * @internal Tells a pg Pool from a Client and checks that a client can be canceled safely. Throws a
 * TypeError naming `fn` and what was wrong.
 */
export function asTarget(db: unknown, fn: string): Target {
  if (isPool(db)) return { kind: "pool", pool: db };
  return { kind: "client", client: asClient(db, fn) };
}

/**
 * @internal Like {@link asTarget}, for APIs that need a pool (they check clients out themselves).
 */
export function asPool(db: unknown, fn: string): Pool {
  if (isPool(db)) return db;
  throw invalidType(`${fn}: pool must be a pg Pool, got ${describeDb(db)}`);
}

function isPool(value: unknown): value is Pool {
  const v = value as Partial<Record<"connect" | "query" | "totalCount", unknown>> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.connect === "function" &&
    typeof v.query === "function" &&
    typeof v.totalCount === "number"
  );
}

/**
 * @internal Checks a pg Client or PoolClient (what `pool.connect()` gives) and returns its driver
 * view.
 */
export function asClient(value: unknown, fn: string): DriverClient {
  const v = value as Partial<Record<keyof DriverClient, unknown>> | null;
  if (typeof v !== "object" || v === null || typeof v.query !== "function") {
    throw invalidType(
      `${fn}: db must be a pg Pool, Client or PoolClient, got ${describeDb(value)}`,
    );
  }
  const stream = (v.connection as { stream?: unknown } | undefined)?.stream;
  if (typeof stream !== "object" || stream === null) {
    throw invalidType(
      `${fn}: the client has no protocol connection (is it pg-native?); timebound/pg needs ` +
        "pg's JavaScript Client, which can send a CancelRequest for its backend",
    );
  }
  if (v.pipeline === true) {
    throw invalidType(
      `${fn}: the client runs in pipeline mode; a CancelRequest cancels whichever pipelined ` +
        "statement the backend is running, so timebound/pg needs a client without `pipeline: true`",
    );
  }
  return value as DriverClient;
}

/**
 * Describes a wrong `db` by its class only: pg objects carry connection settings, and a
 * connection string can hold a password that must not end up in an error message.
 */
function describeDb(value: unknown): string {
  if (typeof value !== "object" || value === null) return describeValue(value);
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
}

/**
 * @internal The client's own Query class (pg sets `Client.Query`), so results parse with its types.
 */
export function queryClassOf(client: DriverClient, fn: string): DriverQueryClass {
  const ctor = (client as { constructor?: { Query?: unknown } }).constructor;
  const Query = ctor?.Query;
  if (typeof Query !== "function") {
    throw invalidType(
      `${fn}: the client's class has no Query (expected pg's Client, which exposes Client.Query)`,
    );
  }
  return Query as DriverQueryClass;
}

/**
 * @internal True for an error the backend sent (an ErrorResponse): the statement is over on the
 * server.
 */
export function isServerError(err: unknown): err is Error & { code: string; position?: string } {
  const e = err as { severity?: unknown; code?: unknown } | null;
  return err instanceof Error && typeof e?.severity === "string" && typeof e.code === "string";
}

/** @internal The client's transaction status, or undefined when this pg does not report it. */
export function transactionStatus(client: DriverClient): string | undefined {
  if (typeof client.getTransactionStatus !== "function") return undefined;
  return client.getTransactionStatus() ?? undefined;
}
