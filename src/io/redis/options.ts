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
   * Whether to put back what a command took when its reply comes after its caller was released
   * (the context ended while the server was popping: CLIENT UNBLOCK raced with a push). Default
   * true: a BLPOP's element is pushed back to the head of its list (LPUSH), a BRPOP's to the tail
   * (RPUSH), so it is the next one popped; a BZPOPMIN's member is added back with its score; a
   * BLMOVE's element is moved back. XREADGROUP's entries stay in the group's pending list. The
   * full list is under `LateReplyOutcome`. It is put back through the client itself (it
   * reconnects and resends); if that fails, the data goes to `onLateReply`, or without one is
   * reported as a process warning (code `TIMEBOUND_REDIS_LATE_REPLY_LOST`).
   *
   * false: nothing is put back, and `onLateReply` (then required) receives the data with outcome
   * "taken", to handle as it sees fit: run the job anyway, or store it elsewhere.
   */
  readonly restoreLatePops?: boolean;
  /**
   * Receives every successful reply that arrived after its caller was released (a BLPOP that
   * popped an element just as its context ended, a SET that had already been written), once the
   * adapter has done what it does with it: `outcome` says whether the data was put back. Called
   * with outcome "restore-failed" it holds the only copy of what was taken. Without it, late
   * replies are dropped, after their data is put back. Default: none.
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
  readonly restoreLatePops: boolean;
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
  restoreLatePops: true,
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
