import type { RedisClientLike } from "./client.js";
import { driverFor } from "./detect.js";
import { type BlockingPoolStats, closePools, poolStats } from "./pool.js";

/**
 * Closes the dedicated connections `client`'s blocking commands ran on (idle ones with QUIT,
 * busy ones at once: their commands fail with ioredis' "Connection is closed"). They also close
 * by themselves when `client` ends (`quit()`, `disconnect()`), so call this only to let them go
 * earlier, or before {@link configureRedis} changes the pool. A later blocking command opens new
 * ones. Rejects with a TypeError if `client` is not an ioredis client.
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
 * discarded (broken, or not unblocked in time). All zero before the first blocking command.
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
