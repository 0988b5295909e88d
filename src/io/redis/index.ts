/**
 * timebound/redis: ioredis commands that obey a context. When the context ends the caller gets
 * its error at once, and the work stops on the server: a queued command is withdrawn, a blocking
 * one is unblocked (`CLIENT UNBLOCK`) on its dedicated connection, which is then reused. What a
 * pop took after its caller left is put back, so nothing is lost.
 *
 * Needs ioredis 5 (an optional peer dependency) and Redis >= 6 (fractional blocking timeouts).
 *
 * @example
 * ```ts
 * import Redis from "ioredis";
 * import { background, withTimeout } from "timebound";
 * import { command } from "timebound/redis";
 *
 * const client = new Redis();
 * using ctx = withTimeout(background(), 250);
 * const value = await command(ctx, client, "get", "greeting");
 * ```
 * @packageDocumentation
 */
export { command, commandBuffer } from "./command.js";
export { blpop, brpop, type PoppedElement } from "./pops.js";
export {
  configureRedis,
  DEFAULT_REDIS_OPTIONS,
  type RedisAdapterOptions,
  type ResolvedRedisOptions,
} from "./options.js";
export type { LateReply, LateReplyOutcome } from "./late-reply.js";
export { redisChannels } from "./events.js";
export { blockingPoolStats, closeBlockingConnections } from "./lifecycle.js";
export type { BlockingPoolStats } from "./pool.js";
export type { RedisArgument } from "./driver.js";
