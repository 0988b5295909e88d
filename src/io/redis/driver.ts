// The one place that knows ioredis 5's internals. ioredis has no way to withdraw a command or to
// say whether it reached the socket, so the adapter reads the client's queues directly; keeping
// every such access here means a driver upgrade is checked in one file.
import { Command, type Redis } from "ioredis";
import { describeValue } from "../../core/explain.js";

/**
 * What a command argument may be (ioredis writes numbers as their decimal text).
 *
 * @example
 * ```ts
 * const args: RedisArgument[] = ["jobs", Buffer.from("payload"), 42];
 * await command(ctx, client, "rpush", ...args);
 * ```
 */
export type RedisArgument = string | number | Buffer;

/** `"utf8"`: replies as strings (`client.call`); `null`: as Buffers (`client.callBuffer`). */
export type ReplyEncoding = "utf8" | null;

/** The part of ioredis' queue (a `denque`) the adapter uses. */
interface Queue {
  readonly length: number;
  peekAt(index: number): { readonly command: unknown } | undefined;
  removeOne(index: number): unknown;
}

/** ioredis 5 keeps these on the client; none is part of its public API. */
interface RedisInternals {
  /** Commands waiting for the connection to be ready: not written yet. */
  readonly offlineQueue?: Queue;
  /** Commands written before a disconnect, sent again after the reconnect. */
  readonly prevCommandQueue?: Queue | null;
}

/** Throws a TypeError naming `fn` unless `client` is a standalone ioredis 5 client. */
export function checkClient(client: unknown, fn: string): asserts client is Redis {
  const c = client as Partial<Redis> & RedisInternals;
  const looksLikeRedis =
    typeof client === "object" &&
    client !== null &&
    typeof c.sendCommand === "function" &&
    typeof c.duplicate === "function";
  if (!looksLikeRedis) {
    throw new TypeError(`${fn}: expected an ioredis client, got ${describeValue(client)}`);
  }
  if (c.isCluster === true) {
    throw new TypeError(
      `${fn}: Redis Cluster clients are not supported; pass a standalone ioredis client (new Redis(...))`,
    );
  }
  if (typeof c.offlineQueue?.removeOne !== "function") {
    throw new TypeError(
      `${fn}: this ioredis client has no offline queue like ioredis 5's; timebound/redis ` +
        "supports ioredis ^5.3",
    );
  }
}

/**
 * A command object for `client`, as `client.call` would build it; with `prefixKeys` false its keys
 * are sent as given, without the client's key prefix. (ioredis' client only reads a command's
 * fields, so one built by another copy of ioredis works too.)
 */
export function createCommand(
  client: Redis,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
  prefixKeys = true,
): Command {
  return new Command(name, [...args], {
    replyEncoding: encoding,
    keyPrefix: prefixKeys ? client.options.keyPrefix : undefined,
  });
}

/**
 * Takes `command` out of the queues of commands not yet written to the current connection (the
 * offline queue, and the commands ioredis would send again after a reconnect). Returns whether it
 * was there: if so, the server will never see it.
 */
export function withdraw(client: Redis, command: Command): boolean {
  const internals = client as unknown as RedisInternals;
  return (
    removeFrom(internals.offlineQueue, command) || removeFrom(internals.prevCommandQueue, command)
  );
}

function removeFrom(queue: Queue | null | undefined, command: Command): boolean {
  if (queue === null || queue === undefined) return false;
  for (let i = 0; i < queue.length; i++) {
    if (queue.peekAt(i)?.command === command) {
      queue.removeOne(i);
      return true;
    }
  }
  return false;
}
