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
  readonly status: string;
  sendCommand(...args: never[]): unknown;
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
  readonly isOpen: boolean;
  sendCommand(...args: never[]): unknown;
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
