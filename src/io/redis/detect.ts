import { describeValue, invalidType } from "../../core/internal.js";
import type { RedisDriver } from "./driver.js";
import { ioredisClusterDriver } from "./ioredis/cluster.js";
import { ioredisDriver } from "./ioredis/driver.js";
import { looksLikeIoredis, unsupportedIoredis } from "./ioredis/internals.js";
import { nodeRedis5ClusterDriver } from "./node-redis/cluster.js";
import { nodeRedis4Driver, nodeRedis5Driver } from "./node-redis/driver.js";

/** What detection reads of a client. */
interface Shape {
  readonly sendCommand?: unknown;
  readonly duplicate?: unknown;
  readonly status?: unknown;
  readonly isCluster?: unknown;
  readonly isOpen?: unknown;
  readonly nodeClient?: unknown;
  readonly execute?: unknown;
  readonly withTypeMapping?: unknown;
  readonly executeIsolated?: unknown;
  readonly options?: { readonly legacyMode?: unknown };
}

/**
 * The driver for `client`, read from its shape (no client library is loaded): ioredis 5
 * (standalone or Cluster), node-redis 5 (client or cluster) or 4 (client). Throws a TypeError naming `fn` for anything else.
 * ioredis is tested first and costs a few property reads: it is on every command's path.
 *
 * @internal
 */
export function driverFor(client: unknown, fn: string): RedisDriver {
  if (typeof client === "object" && client !== null) {
    if (looksLikeIoredis(client)) return ioredisDriverFor(client, fn);
    const c = client as Shape;
    if (typeof c.isOpen === "boolean" && typeof c.sendCommand === "function") {
      return nodeRedisDriverFor(c, fn);
    }
  }
  throw invalidType(
    `${fn}: expected an ioredis or node-redis client, got ${describeValue(client)}`,
  );
}

function ioredisDriverFor(c: Shape, fn: string): RedisDriver {
  const why = unsupportedIoredis(c as Parameters<typeof unsupportedIoredis>[0]);
  if (why !== undefined) throw invalidType(`${fn}: ${why}`);
  return c.isCluster === true ? ioredisClusterDriver : ioredisDriver;
}

function nodeRedisDriverFor(c: Shape, fn: string): RedisDriver {
  if (typeof c.nodeClient === "function") {
    if (typeof c.withTypeMapping === "function") return nodeRedis5ClusterDriver;
    throw invalidType(
      `${fn}: node-redis 4 cluster clients are not supported; use node-redis 5's createCluster`,
    );
  }
  if (typeof c.duplicate !== "function" && typeof c.execute === "function") {
    throw invalidType(
      `${fn}: node-redis client pools (createClientPool) are not supported; pass a client ` +
        "(createClient): its blocking commands get connections of their own anyway",
    );
  }
  if (typeof c.duplicate === "function") {
    if (typeof c.withTypeMapping === "function") return nodeRedis5Driver;
    if (typeof c.executeIsolated === "function") {
      if (c.options?.legacyMode === true) {
        throw invalidType(
          `${fn}: this node-redis 4 client is in legacy mode (callbacks); pass client.v4 instead`,
        );
      }
      return nodeRedis4Driver;
    }
  }
  throw invalidType(
    `${fn}: this node-redis client is neither node-redis 4's nor 5's; timebound/redis supports ` +
      "redis ^4.6 and ^5",
  );
}
