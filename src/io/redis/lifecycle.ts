import type { RedisClientLike } from "./client.js";
import { driverFor } from "./detect.js";
import { type BlockingPoolStats, closePools, poolStats } from "./pool.js";

/**
 * Closes the dedicated connections `client`'s blocking commands ran on (idle ones politely, busy
 * ones at once: their commands fail with the library's "closed" error). They also close
 * by themselves when `client` ends (`quit()`, `disconnect()`), so call this only to let them go
 * earlier, or before {@link configureRedis} changes the pool. A later blocking command opens new
 * ones. For a cluster client, those to every node. Rejects with a TypeError if `client` is not
 * a client timebound/redis can drive.
 *
 * @example
 * ```ts
 * await closeBlockingConnections(client);
 * await client.quit();
 * ```
 */
export function closeBlockingConnections(client: RedisClientLike): Promise<void> {
  try {
    return closePools(driverFor(client, "closeBlockingConnections").identity(client));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Counts of `client`'s dedicated connections for blocking commands: busy, idle, opened so far and
 * discarded (broken, or not unblocked in time), summed over the nodes of a cluster. All zero
 * before the first blocking command. Throws a TypeError if `client` is not a client
 * timebound/redis can drive.
 *
 * @example
 * ```ts
 * const { opened, discarded } = blockingPoolStats(client);
 * metrics.gauge("redis.blocking.opened", opened);
 * ```
 */
export function blockingPoolStats(client: RedisClientLike): BlockingPoolStats {
  return poolStats(driverFor(client, "blockingPoolStats").identity(client));
}
