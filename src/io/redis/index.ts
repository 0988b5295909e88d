/**
 * timebound/redis: Redis commands that obey a context, over ioredis or node-redis. When the
 * context ends the caller gets its error at once, and the work stops on the server: a queued
 * command is withdrawn, a blocking one is unblocked (`CLIENT UNBLOCK`) on its dedicated
 * connection, which is then reused. What a pop took after its caller left is put back, so
 * nothing is lost.
 *
 * Drivers, all optional peer dependencies, told apart by the client object (importing
 * timebound/redis loads none of them):
 *
 * - ioredis ^5.3: `new Redis(...)`.
 * - node-redis ^5 (`redis`): `createClient(...)`, RESP2 or RESP3.
 * - node-redis ^4.6: `createClient(...)` (not in legacy mode: pass `client.v4`).
 *
 * They behave the same, with these differences: ioredis' `keyPrefix` applies to every key,
 * node-redis has none; replies are what the library's own generic call gives (`client.call` for
 * ioredis, `client.sendCommand` for node-redis, with the client's `typeMapping` and RESP version
 * in 5); a dedicated connection of node-redis uses the database of the client's options, not one
 * chosen later with SELECT. node-redis 4 cannot tell whether a command it queued while connecting
 * has been written once it reconnects: a command sent before the client was ready is withdrawn
 * only until the client (re)connects; after that it is left to run and its late reply handled.
 *
 * Needs Redis >= 6 (fractional blocking timeouts).
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { background, withTimeout } from "timebound";
 * import { command } from "timebound/redis";
 *
 * const client = new Redis();
 * using ctx = withTimeout(background(), 250);
 * const value = await command(ctx, client, "get", "greeting");
 * ```
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { background, withTimeout } from "timebound";
 * import { blpop } from "timebound/redis";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * using ctx = withTimeout(background(), 2_000);
 * const job = await blpop(ctx, client, "jobs"); // null, or [key, element]
 * ```
 * @packageDocumentation
 */
export type { IoredisClientLike, NodeRedisClientLike, RedisClientLike } from "./client.js";
export { command, commandBuffer } from "./command.js";
export { blpop, brpop, type PoppedElement } from "./pops.js";
export { configureRedis } from "./configure.js";
export {
  DEFAULT_REDIS_OPTIONS,
  type RedisAdapterOptions,
  type ResolvedRedisOptions,
} from "./options.js";
export type { LateReply, LateReplyOutcome } from "./late-reply.js";
export { redisChannels } from "./events.js";
export { blockingPoolStats, closeBlockingConnections } from "./lifecycle.js";
export type { BlockingPoolStats } from "./pool.js";
export type { RedisArgument } from "./driver.js";
