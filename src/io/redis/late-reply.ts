import type { Command, Redis } from "ioredis";
import type { RedisArgument } from "./driver.js";
import { optionsFor } from "./options.js";

/**
 * A reply that arrived after its caller had been released by the context; see the
 * `onLateReply` option of `configureRedis`.
 *
 * @example
 * ```ts
 * const onLateReply = ({ command, args, reply }: LateReply) =>
 *   log.warn({ command, args, reply }, "redis reply after the caller left");
 * ```
 */
export interface LateReply {
  /** The command's name, as given. */
  readonly command: string;
  /** Its arguments as sent (a blocking command's timeout as derived from the budget). */
  readonly args: readonly RedisArgument[];
  readonly reply: unknown;
}

/**
 * Once `command` replies, hands its reply to the client's `onLateReply` (unless `isEmpty(reply)`:
 * a blocking command's timeout carries nothing worth having). The handler runs on a microtask of
 * its own; an exception it throws is uncaught, as one thrown by an `afterFunc` function is.
 */
export function forwardLateReply(
  client: Redis,
  command: Command,
  name: string,
  args: readonly RedisArgument[],
  isEmpty: (reply: unknown) => boolean = () => false,
): void {
  command.promise.then(
    (reply: unknown) => {
      const handler = optionsFor(client).onLateReply;
      if (handler !== undefined && !isEmpty(reply)) {
        queueMicrotask(() => handler({ command: name, args, reply }));
      }
    },
    () => {}, // an error that nobody waits for: the context's error has been reported already
  );
}
