import type { RedisArgument, RedisDriver, ReplyEncoding } from "./driver.js";
import { redisChannels } from "./events.js";
import { type ResolvedRedisOptions, optionsFor } from "./options.js";
import { restoreFor } from "./restore.js";

/**
 * What became of the data a late reply carries (see {@link LateReply}):
 *
 * - `"restored"`: the command took it and it was put back where it came from, to be the next one
 *   taken: LPUSH for BLPOP/LPOP, RPUSH for BRPOP/RPOP, the same end for BLMPOP/LMPOP (in the
 *   order they were popped), moved back from the destination to the source end for
 *   BLMOVE/LMOVE/BRPOPLPUSH/RPOPLPUSH, `ZADD NX` with its score for BZPOPMIN/BZPOPMAX/BZMPOP/
 *   ZPOPMIN/ZPOPMAX/ZMPOP, SADD for SPOP.
 * - `"restore-failed"`: it was taken and could not be put back (`error` says why: the connection
 *   is gone, the key now holds another type): `reply` holds the only copy.
 * - `"kept"`: it stays in Redis where the command left it: XREADGROUP's entries in the group's
 *   pending entries list (read them again with ID 0, or XCLAIM/XAUTOCLAIM them); a moved element
 *   that someone had already taken from the destination list.
 * - `"taken"`: it was taken and not put back: `restoreLatePops` is false, or XREADGROUP with
 *   NOACK (the entries stay in the stream, but the group has moved past them).
 * - `"none"`: nothing was taken: a read (GET, XREAD), a write (SET), WAIT, an empty pop; or a
 *   command outside the list above, whose effect stands (GETDEL, for one, is not undone).
 *
 * @example
 * ```ts
 * const mustSave = (outcome: LateReplyOutcome) => outcome === "restore-failed" || outcome === "taken";
 * ```
 */
export type LateReplyOutcome = "restored" | "restore-failed" | "kept" | "taken" | "none";

/**
 * A reply that arrived after its caller had been released by the context, and what the adapter
 * did about it; see the `onLateReply` option of `configureRedis` and the diagnostics channel
 * `timebound:redis:late-reply`.
 *
 * @example
 * ```ts
 * const onLateReply = ({ command, args, reply, outcome, error }: LateReply) => {
 *   if (outcome === "restore-failed") deadLetters.push({ command, args, reply, error });
 * };
 * ```
 */
export interface LateReply {
  /** The command's name, as given. */
  readonly command: string;
  /** Its arguments as sent (a blocking command's timeout as derived from the budget). */
  readonly args: readonly RedisArgument[];
  /** As the caller would have had it: strings from `command`, Buffers from `commandBuffer`. */
  readonly reply: unknown;
  /** What became of the data the reply carries: put back, kept, taken, or none taken. */
  readonly outcome: LateReplyOutcome;
  /** Why putting it back failed, with `outcome` "restore-failed". */
  readonly error?: unknown;
}

/**
 * Once `reply` settles (with `raw`, Buffer replies for a command that takes data), puts back
 * what it took through `client` (unless `isEmpty(raw)`: a blocking command's timeout carries
 * nothing), then
 * reports it: to the client's `onLateReply`, on the `timebound:redis:late-reply` channel, and
 * when it is lost with no handler to take it, as a process warning. The handler runs on a
 * microtask of its own; an exception it throws is uncaught, as one thrown by an `afterFunc`
 * function is.
 *
 * @internal
 */
export function handleLateReply<C extends object>(
  driver: RedisDriver<C>,
  client: C,
  reply: Promise<unknown>,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
  isEmpty: (reply: unknown) => boolean = () => false,
): void {
  reply.then(
    (raw: unknown) => {
      if (!isEmpty(raw)) void settle(driver, client, name, args, raw, encoding);
    },
    () => {}, // an error that nobody waits for: the context's error has been reported already
  );
}

async function settle<C extends object>(
  driver: RedisDriver<C>,
  client: C,
  name: string,
  args: readonly RedisArgument[],
  raw: unknown,
  encoding: ReplyEncoding,
): Promise<void> {
  const options = optionsFor(driver.identity(client));
  const plan = restoreFor(name, args, raw, driver.keyPrefix(client));
  let outcome: LateReplyOutcome;
  let error: unknown;
  if (typeof plan === "string") outcome = plan;
  else if (!options.restoreLatePops) outcome = "taken";
  else {
    try {
      // On the client itself: it reconnects and resends, so a restore outlives a short outage.
      // Keys in `plan` carry the prefix already.
      const answer = await driver.sendRaw(client, plan.name, plan.args);
      outcome = plan.isKept?.(answer) === true ? "kept" : "restored";
    } catch (err) {
      outcome = "restore-failed";
      error = err;
    }
  }
  const late: LateReply = {
    command: name,
    args,
    reply: driver.decode(client, raw, encoding),
    outcome,
    ...(outcome === "restore-failed" && { error }),
  };
  report(late, options);
}

function report(late: LateReply, options: ResolvedRedisOptions): void {
  if (redisChannels.lateReply.hasSubscribers) redisChannels.lateReply.publish(late);
  const handler = options.onLateReply;
  if (handler !== undefined) {
    queueMicrotask(() => handler(late));
  } else if (late.outcome === "restore-failed") {
    process.emitWarning(
      `timebound/redis: ${late.command.toUpperCase()} took data after its caller had left, and ` +
        `putting it back failed (${errorText(late.error)}); the data is lost`,
      {
        type: "TimeboundWarning",
        code: "TIMEBOUND_REDIS_LATE_REPLY_LOST",
        detail:
          "Set onLateReply with configureRedis() to receive such data, or subscribe to the " +
          "diagnostics channel timebound:redis:late-reply.",
      },
    );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
