import type { Redis } from "ioredis";
import { describeValue } from "../../core/explain.js";
import { checkClient } from "./driver.js";
import type { LateReply } from "./late-reply.js";

/**
 * How timebound/redis treats one ioredis client; see {@link configureRedis}.
 *
 * @example
 * ```ts
 * const options: RedisAdapterOptions = { maxBlockingConnections: 16, idleTimeoutMs: 60_000 };
 * configureRedis(client, options);
 * ```
 */
export interface RedisAdapterOptions {
  /**
   * Most dedicated connections for blocking commands (BLPOP, XREAD BLOCK, WAIT...) this client
   * opens at once; more blocking calls wait for one to be free (or for their context to end).
   * Default 8; 1 to 1,000.
   */
  readonly maxBlockingConnections?: number;
  /**
   * How long a dedicated connection may sit idle before it is closed, in ms. Default 30,000;
   * 0 (close after each use) to 3,600,000.
   */
  readonly idleTimeoutMs?: number;
  /**
   * How long to keep sending `CLIENT UNBLOCK` for a canceled blocking command before giving up
   * and closing its dedicated connection instead (the server then drops the command with the
   * connection). Default 1,000 ms; 10 to 60,000.
   */
  readonly unblockTimeoutMs?: number;
  /**
   * Receives every successful reply that arrived after its caller was released: a BLPOP that
   * popped an element just as its context ended, a SET that had already been written. Without
   * it such replies are dropped; with it you can, say, push a popped element back. Default: none.
   */
  readonly onLateReply?: ((late: LateReply) => void) | undefined;
}

/**
 * {@link RedisAdapterOptions} with every default filled in.
 *
 * @example
 * ```ts
 * const { unblockTimeoutMs }: ResolvedRedisOptions = DEFAULT_REDIS_OPTIONS;
 * ```
 */
export interface ResolvedRedisOptions {
  readonly maxBlockingConnections: number;
  readonly idleTimeoutMs: number;
  readonly unblockTimeoutMs: number;
  readonly onLateReply: ((late: LateReply) => void) | undefined;
}

/**
 * The options a client has until {@link configureRedis} says otherwise.
 *
 * @example
 * ```ts
 * configureRedis(client, { maxBlockingConnections: DEFAULT_REDIS_OPTIONS.maxBlockingConnections * 2 });
 * ```
 */
export const DEFAULT_REDIS_OPTIONS: ResolvedRedisOptions = Object.freeze({
  maxBlockingConnections: 8,
  idleTimeoutMs: 30_000,
  unblockTimeoutMs: 1_000,
  onLateReply: undefined,
});

const LIMITS = {
  maxBlockingConnections: { min: 1, max: 1_000, integer: true },
  idleTimeoutMs: { min: 0, max: 3_600_000, integer: false },
  unblockTimeoutMs: { min: 10, max: 60_000, integer: false },
} as const;

const configured = new WeakMap<Redis, ResolvedRedisOptions>();
/** Clients whose options can no longer change: their blocking pool exists. */
const frozen = new WeakSet<Redis>();

/**
 * Sets how timebound/redis treats `client`: the size of its pool of dedicated connections for
 * blocking commands, how long they idle, how long unblocking may take, and what to do with
 * replies that come after their caller left. Call it before the client's first blocking
 * command (or after {@link closeBlockingConnections}); unset fields keep their defaults.
 *
 * @example
 * ```ts
 * configureRedis(client, {
 *   maxBlockingConnections: 4,
 *   onLateReply: ({ command, args, reply }) => {
 *     // a BLPOP popped an element just as its context ended: put it back
 *     if (command === "blpop" && Array.isArray(reply)) void client.lpush(reply[0], reply[1]);
 *   },
 * });
 * ```
 */
export function configureRedis(client: Redis, options: RedisAdapterOptions): void {
  checkClient(client, "configureRedis");
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`configureRedis: options must be an object, got ${describeValue(options)}`);
  }
  if (frozen.has(client)) {
    throw new Error(
      "configureRedis: this client's blocking connections are already open; configure it " +
        "before its first blocking command, or call closeBlockingConnections(client) first",
    );
  }
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
  configured.set(client, resolved);
}

/** The options in force for `client`. */
export function optionsFor(client: Redis): ResolvedRedisOptions {
  return configured.get(client) ?? DEFAULT_REDIS_OPTIONS;
}

/** Marks `client`'s options as in use (`frozen`) or free to change again. */
export function freezeOptions(client: Redis, inUse: boolean): void {
  if (inUse) frozen.add(client);
  else frozen.delete(client);
}
