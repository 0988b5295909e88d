import type { LateReply } from "./late-reply.js";

/**
 * How timebound/redis treats one client; see `configureRedis`.
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
   * opens at once (a cluster client: to each node); more blocking calls wait for one to be free
   * (or for their context to end). Default 8; 1 to 1,000.
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
   * full list is under `LateReplyOutcome`. It is put back through the client itself (so a
   * restore queued during a short outage is sent after the reconnect; a cluster routes it to the
   * key's node); if that fails, the data goes to `onLateReply`, or without one is reported as a
   * process warning (code `TIMEBOUND_REDIS_LATE_REPLY_LOST`).
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
  /** See {@link RedisAdapterOptions.maxBlockingConnections}. */
  readonly maxBlockingConnections: number;
  /** See {@link RedisAdapterOptions.idleTimeoutMs}. */
  readonly idleTimeoutMs: number;
  /** See {@link RedisAdapterOptions.unblockTimeoutMs}. */
  readonly unblockTimeoutMs: number;
  /** See {@link RedisAdapterOptions.restoreLatePops}. */
  readonly restoreLatePops: boolean;
  /** See {@link RedisAdapterOptions.onLateReply}; undefined when none was given. */
  readonly onLateReply: ((late: LateReply) => void) | undefined;
}

/**
 * The options a client has until `configureRedis` says otherwise.
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

/** By client identity (see `RedisDriver.identity`), set by `configureRedis`. */
const configured = new WeakMap<object, ResolvedRedisOptions>();
/** Clients whose options can no longer change: their blocking pool exists. */
const frozen = new WeakSet<object>();

/**
 * Sets the options of the client `identity` names, unless they are in use (then false).
 *
 * @internal
 */
export function setOptions(identity: object, options: ResolvedRedisOptions): boolean {
  if (frozen.has(identity)) return false;
  configured.set(identity, options);
  return true;
}

/**
 * The options in force for the client `identity` names.
 *
 * @internal
 */
export function optionsFor(identity: object): ResolvedRedisOptions {
  return configured.get(identity) ?? DEFAULT_REDIS_OPTIONS;
}

/**
 * Marks the options of the client `identity` names as in use (`frozen`) or free to change again.
 *
 * @internal
 */
export function freezeOptions(identity: object, inUse: boolean): void {
  if (inUse) frozen.add(identity);
  else frozen.delete(identity);
}
