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
 * - ioredis ^5.3: `new Redis(...)` and `new Cluster(...)`.
 * - node-redis ^5 (`redis`): `createClient(...)` and `createCluster(...)`, RESP2 or RESP3.
 * - node-redis ^4.6 (`redis` 4): `createClient(...)`, not in legacy mode (pass `client.v4`).
 *   Its clusters are refused, as are node-redis client pools (`createClientPool`: pass a
 *   client; blocking commands get connections of their own anyway).
 *
 * The three promises (the caller gets `ctx.err` at once; the work stops on the server; nothing
 * is lost and the client stays usable) hold with each. The differences:
 *
 * - Replies are what the library's own generic call gives: `client.call` for ioredis (strings),
 *   `client.sendCommand` for node-redis (with node-redis 5, the client's `typeMapping` and RESP
 *   version: over RESP3 a score is a number, XREAD a map).
 * - ioredis' `keyPrefix` applies to every key, late pops put back included; node-redis has none.
 * - A command is withdrawn (never sent) while the library still holds it: ioredis and node-redis
 *   4 while the client connects, node-redis 5 also until the next turn of the event loop (it
 *   writes in batches). node-redis 4 cannot say when it wrote a command queued during a
 *   reconnect: such a command is withdrawn only until the client reconnects; after that it is
 *   left to run, and what it took is put back.
 * - A written command whose connection breaks: ioredis would send it again after the reconnect,
 *   which the adapter prevents; node-redis fails it itself. Either way it is not run twice.
 * - Dedicated connections copy the client's options: node-redis' use the database of the options,
 *   not one chosen later with SELECT (ioredis' follow SELECT).
 * - Clusters: blocking commands run on dedicated connections to the master serving their first
 *   key's slot (WAIT, which has no key: the first master), unblocked from that same node. Other
 *   commands go through the cluster client: ioredis routes them itself; a node-redis cluster is
 *   told their first key, which the adapter finds for the common commands (EVAL's first key,
 *   XREAD's first stream...) and otherwise takes to be the first argument (a wrong guess costs
 *   a MOVED redirection, which node-redis follows). A blocking command whose slot moved fails
 *   with Redis' MOVED error (an ioredis Cluster then refreshes its slots, so the next one goes
 *   to the right node). An ioredis Cluster command that waits out a retry delay (after TRYAGAIN,
 *   CLUSTERDOWN, a failover) when its context ends is still sent once the delay is over; its
 *   reply is then handled as a late one.
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
 * @module timebound/redis
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
