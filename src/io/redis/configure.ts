import { describeValue } from "../../core/internal.js";
import type { RedisClientLike } from "./client.js";
import { driverFor } from "./detect.js";
import {
  DEFAULT_REDIS_OPTIONS,
  type RedisAdapterOptions,
  type ResolvedRedisOptions,
  setOptions,
} from "./options.js";

const LIMITS = {
  maxBlockingConnections: { min: 1, max: 1_000, integer: true },
  idleTimeoutMs: { min: 0, max: 3_600_000, integer: false },
  unblockTimeoutMs: { min: 10, max: 60_000, integer: false },
} as const;

/**
 * Sets how timebound/redis treats `client`: the size of its pool of dedicated connections for
 * blocking commands, how long they idle, how long unblocking may take, and what to do with
 * replies that come after their caller left (by default, what they popped is put back). Call it
 * before the client's first blocking command (or after {@link closeBlockingConnections}); unset
 * fields keep their defaults. Throws on an option out of range, and on `restoreLatePops: false`
 * without an `onLateReply` to take the data (it would be lost).
 *
 * @example
 * ```ts
 * configureRedis(client, {
 *   maxBlockingConnections: 4,
 *   onLateReply: ({ command, args, reply, outcome, error }) => {
 *     // a BLPOP popped an element just as its context ended and it could not be pushed back
 *     if (outcome === "restore-failed") deadLetters.save({ command, args, reply, error });
 *   },
 * });
 * ```
 */
export function configureRedis(client: RedisClientLike, options: RedisAdapterOptions): void {
  const identity = driverFor(client, "configureRedis").identity(client);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`configureRedis: options must be an object, got ${describeValue(options)}`);
  }
  const resolved = resolve(options);
  if (!setOptions(identity, resolved)) {
    throw new Error(
      "configureRedis: this client's blocking connections are already open; configure it " +
        "before its first blocking command, or call closeBlockingConnections(client) first",
    );
  }
}

function resolve(options: RedisAdapterOptions): ResolvedRedisOptions {
  const resolved: { -readonly [K in keyof ResolvedRedisOptions]: ResolvedRedisOptions[K] } = {
    ...DEFAULT_REDIS_OPTIONS,
  };
  for (const key of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const { min, max, integer } = LIMITS[key];
    const ok =
      typeof value === "number" &&
      Number.isFinite(value) &&
      value >= min &&
      value <= max &&
      (!integer || Number.isInteger(value));
    if (!ok) {
      const kind = integer ? "an integer" : "a number";
      throw new RangeError(
        `configureRedis: ${key} must be ${kind} from ${min.toLocaleString("en-US")} to ` +
          `${max.toLocaleString("en-US")}, got ${describeValue(value)}`,
      );
    }
    resolved[key] = value;
  }
  const onLateReply = options.onLateReply;
  if (onLateReply !== undefined && typeof onLateReply !== "function") {
    throw new TypeError(
      `configureRedis: onLateReply must be a function, got ${describeValue(onLateReply)}`,
    );
  }
  resolved.onLateReply = onLateReply;
  const restore = options.restoreLatePops;
  if (restore !== undefined && typeof restore !== "boolean") {
    throw new TypeError(
      `configureRedis: restoreLatePops must be true or false, got ${describeValue(restore)}`,
    );
  }
  if (restore === false && onLateReply === undefined) {
    throw new TypeError(
      "configureRedis: restoreLatePops: false needs an onLateReply to receive what late pops " +
        "took; without one it would be lost",
    );
  }
  resolved.restoreLatePops = restore ?? true;
  return resolved;
}
