import type { Context } from "../../core/index.js";
// The seam between the adapter and a Redis client library. What the adapter promises (budgets,
// dedicated connections unblocked with CLIENT UNBLOCK, late pops put back) is written once, against
// RedisDriver; each library has one implementation (./ioredis/, ./node-redis/) and only it knows
// that library's API and internals. A driver is picked from the client object's shape
// (./detect.ts), so importing timebound/redis loads no client library.

/**
 * What a command argument may be (numbers are sent as their decimal text).
 *
 * @example
 * ```ts
 * const args: RedisArgument[] = ["jobs", Buffer.from("payload"), 42];
 * await command(ctx, client, "rpush", ...args);
 * ```
 */
export type RedisArgument = string | number | Buffer;

/**
 * `"utf8"`: replies as the client gives them by default (ioredis' `call`, node-redis'
 * `sendCommand`: strings); `null`: strings as Buffers (ioredis' `callBuffer`). Public through
 * `ReplyMode`.
 */
export type ReplyEncoding = "utf8" | null;

/**
 * What a connection the adapter opens is for; also the suffix of its CLIENT SETNAME.
 *
 * @internal
 */
export type ConnectionRole = "blocking" | "control";

/**
 * A connection of the adapter's own to one server. It never reconnects and never resends: one
 * that breaks is dropped, and a fresh one opened on demand.
 *
 * @internal
 */
export interface DedicatedConnection {
  /** `CLIENT ID`: what `CLIENT UNBLOCK` needs. Ids are never reused while the server runs. */
  readonly id: number;
  /** Whether it can take a command now. */
  isUsable(): boolean;
  /** Whether it has closed for good. */
  isClosed(): boolean;
  /** Sends one command; the promise settles with its reply. */
  send(name: string, args: readonly RedisArgument[], encoding: ReplyEncoding): Promise<unknown>;
  /** Closes it (politely when idle); resolves once it has. */
  close(): Promise<void>;
  /** Closes it at once: the server drops a blocked command with it. */
  destroy(): void;
  /** Calls `listener` once when it closes, for whatever reason. */
  onClose(listener: () => void): void;
}

/**
 * Where a blocking command runs: the server (in a cluster, the node) that holds its key.
 *
 * @internal
 */
export interface Route {
  /** Names the server, `host:port`; "" for a standalone client. */
  readonly node: string;
  /** Opens a dedicated connection to it, like the client's own (credentials, database...). */
  open(role: ConnectionRole): Promise<DedicatedConnection>;
}

/**
 * Everything the adapter needs from one client library. Methods take the client as given by the
 * caller; `identity` names the object that options and pools are kept under.
 *
 * @internal
 */
export interface RedisDriver<C extends object = object> {
  /** The library and major version, for messages: "ioredis", "node-redis 5"... */
  readonly name: string;
  /** The object a client's options and pools belong to (node-redis hands out proxies of one). */
  identity(client: C): object;
  /**
   * Runs a command that does not block on `client` itself, under `ctx`: rejects with `ctx.err`
   * when it ends; a command not yet written is withdrawn, a written one is left to finish and its
   * late reply handled (`handleLateReply`).
   */
  runOnClient(
    ctx: Context,
    client: C,
    name: string,
    args: readonly RedisArgument[],
    encoding: ReplyEncoding,
  ): Promise<unknown>;
  /** Where a blocking command whose first key is `key` runs (a promise while a cluster connects). */
  route(ctx: Context, client: C, key: RedisArgument | undefined): Route | Promise<Route>;
  /** Sends through `client` itself (its reconnects, its routing), Buffer replies, keys unprefixed. */
  sendRaw(client: C, name: string, args: readonly RedisArgument[]): Promise<unknown>;
  /** A reply received with Buffer strings, as a caller asking for `encoding` expects it. */
  decode(client: C, reply: unknown, encoding: ReplyEncoding): unknown;
  /** The prefix the client puts before keys (ioredis' `keyPrefix`), or "". */
  keyPrefix(client: C): string;
  /** The error the client gives a command once it has been closed for good, or undefined if open. */
  closedError(client: C): Error | undefined;
  /** Calls `listener` once when the client is closed for good; returns how to stop listening. */
  onEnd(client: C, listener: () => void): () => void;
}
