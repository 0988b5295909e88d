import { type OptionsReader, invalidType, readOptions } from "../../core/internal.js";
import type { RedisClientLike } from "./client.js";
import { driverFor } from "./detect.js";
import {
  DEFAULT_REDIS_OPTIONS,
  type RedisAdapterOptions,
  type ResolvedRedisOptions,
  setOptions,
} from "./options.js";

/** The option names of {@link RedisAdapterOptions}: any other is refused. */
const KNOWN: readonly (keyof RedisAdapterOptions)[] = [
  "maxBlockingConnections",
  "idleTimeoutMs",
  "unblockTimeoutMs",
  "restoreLatePops",
  "onLateReply",
];

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
  const identity = driverFor(client, FN).identity(client);
  if (options === undefined) throw invalidType(`${FN}: options must be an object, got undefined`);
  const resolved = resolve(readOptions(options, FN, KNOWN));
  if (!setOptions(identity, resolved)) {
    throw new Error(
      `${FN}: this client's blocking connections are already open; configure it ` +
        "before its first blocking command, or call closeBlockingConnections(client) first",
    );
  }
}

const FN = "configureRedis";

function resolve(o: OptionsReader<RedisAdapterOptions>): ResolvedRedisOptions {
  const d = DEFAULT_REDIS_OPTIONS;
  const maxBlockingConnections = o.number("maxBlockingConnections", d.maxBlockingConnections, {
    min: 1,
    max: 1_000,
    integer: true,
  });
  const idleTimeoutMs = o.ms("idleTimeoutMs", d.idleTimeoutMs, { min: 0, max: 3_600_000 });
  const unblockTimeoutMs = o.ms("unblockTimeoutMs", d.unblockTimeoutMs, { min: 10, max: 60_000 });
  const onLateReply = o.function("onLateReply", undefined);
  const restoreLatePops = o.boolean("restoreLatePops", d.restoreLatePops);
  if (!restoreLatePops && onLateReply === undefined) {
    throw invalidType(
      `${FN}: options.restoreLatePops: false needs an options.onLateReply to receive what ` +
        "late pops took; without one it would be lost",
    );
  }
  return { maxBlockingConnections, idleTimeoutMs, unblockTimeoutMs, onLateReply, restoreLatePops };
}
