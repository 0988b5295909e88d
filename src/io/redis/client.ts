// The clients timebound/redis accepts, described by shape: its typings need neither ioredis nor
// node-redis installed, and any version's client type fits.

/**
 * An ioredis 5 client: `new Redis(...)` or `new Cluster(...)`.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * const client: IoredisClientLike = new Redis();
 * ```
 */
export interface IoredisClientLike {
  /** The connection's state ("ready", "end"...): a closed client fails a command at once. */
  readonly status: string;
  /** Sends a command: how the adapter runs every command. */
  sendCommand(...args: never[]): unknown;
  /** Opens a connection with the client's options: the dedicated connections for blocking commands. */
  duplicate(...args: never[]): unknown;
}

/**
 * A node-redis 4 or 5 client: `createClient(...)`, or with node-redis 5 `createCluster(...)`.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * const client: NodeRedisClientLike = await createClient().connect();
 * ```
 */
export interface NodeRedisClientLike {
  /** Whether the client is connected, or connecting again. */
  readonly isOpen: boolean;
  /** Sends a command: how the adapter runs every command. */
  sendCommand(...args: never[]): unknown;
  /** Opens a connection with the client's options: the dedicated connections for blocking commands. */
  duplicate(...args: never[]): unknown;
}

/**
 * A client of either library. Which one it is, and its version, is read from the object itself:
 * nothing is imported. Anything else is refused with a TypeError.
 *
 * @example
 * ```ts
 * async function ping(ctx: Context, client: RedisClientLike): Promise<unknown> {
 *   return command(ctx, client, "ping");
 * }
 * ```
 */
export type RedisClientLike = IoredisClientLike | NodeRedisClientLike;
