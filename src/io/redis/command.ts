import type { Context } from "../../core/index.js";
import { checkContext, describeValue, invalidType } from "../../core/internal.js";
import { type BlockingCommand, blockingCommand } from "./blocking-commands.js";
import { runBlocking } from "./blocking.js";
import type { RedisClientLike } from "./client.js";
import { driverFor } from "./detect.js";
import type { RedisArgument, RedisDriver, ReplyEncoding } from "./driver.js";

/**
 * Runs one Redis command under `ctx` and resolves with its reply, as the client's own generic
 * call gives it (ioredis' `client.call`: strings; node-redis' `client.sendCommand`: its reply
 * types). `client` is an ioredis 5 client or Cluster, a node-redis 5 client or cluster, or a
 * node-redis 4 client (see the package documentation for versions and differences). If `ctx`
 * ends first, it rejects with `ctx.err` at once and the work stops:
 *
 * - A command still queued in the client library (the client is connecting or reconnecting; in
 *   node-redis 5, until the next turn of the event loop) is withdrawn: the server never runs it,
 *   not even after a reconnect.
 * - A command already written is left to finish, and its reply is dropped in order, so the
 *   connection's next caller gets its own reply. It is never written again: ioredis would resend
 *   it after a reconnect, and an ioredis Cluster would retry or redirect it; neither happens.
 * - A blocking command (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP,
 *   XREAD and XREADGROUP with BLOCK, WAIT, WAITAOF) runs on a dedicated connection from a small
 *   pool, never on `client`, so it cannot hold up the client's other commands; for a cluster,
 *   on a connection to the master serving its first key's slot. Its server-side timeout is cut
 *   to the time `ctx` has left (seconds with decimals, Redis >= 6), so the server stops waiting
 *   by itself even if this process dies; when `ctx` ends the server is told to stop (`CLIENT
 *   UNBLOCK <id> ERROR` from another connection to the same server) and the connection is
 *   reused.
 *
 * Nothing is lost when the reply comes after the caller was released (the server popped just as
 * `ctx` ended, a push racing the CLIENT UNBLOCK): what the command took is put back through
 * `client`, to be the next one taken. BLPOP/LPOP push it back to the head (LPUSH), BRPOP/RPOP to
 * the tail (RPUSH), BLMPOP/LMPOP to the end it came from; BLMOVE/LMOVE/BRPOPLPUSH/RPOPLPUSH move
 * it back from the destination to the source; BZPOPMIN/BZPOPMAX/BZMPOP/ZPOPMIN/ZPOPMAX/ZMPOP add
 * it back with its score (ZADD NX); SPOP adds it back (SADD). XREADGROUP's entries stay in the
 * group's pending entries list; XREAD, WAIT and WAITAOF take nothing. Such commands run with
 * Buffer replies, decoded for the caller, so a binary element goes back byte for byte. If putting
 * it back fails, `onLateReply` receives it (see {@link configureRedis}); without one a process
 * warning (code `TIMEBOUND_REDIS_LATE_REPLY_LOST`) says it is lost. Every late reply is also
 * published on the diagnostics channel `timebound:redis:late-reply`.
 *
 * Bad input rejects with a TypeError (never throws): a non-context, a client of neither library
 * (or one it cannot drive: a node-redis client pool, a node-redis 4 cluster, a client in legacy
 * mode), an empty name, an argument that is not a string, finite number or Buffer, a missing or
 * negative blocking timeout.
 *
 * @example
 * ```ts
 * import { background, withTimeout, DeadlineExceeded } from "timebound";
 * import { command } from "timebound/redis";
 *
 * using ctx = withTimeout(background(), 100);
 * try {
 *   const job = await command(ctx, client, "blpop", "jobs", 30); // the server waits 0.1 s, not 30
 * } catch (err) {
 *   if (!(err instanceof DeadlineExceeded)) throw err; // no job in time; `client` is fine
 * }
 * ```
 */
export function command(
  ctx: Context,
  client: RedisClientLike,
  name: string,
  ...args: RedisArgument[]
): Promise<unknown> {
  return run(ctx, client, name, args, "utf8", "command");
}

/**
 * {@link command} with strings as Buffers (as ioredis' `client.callBuffer`; node-redis: a
 * `typeMapping` of blob, simple and verbatim strings to Buffer, or `returnBuffers` in 4), for
 * binary values.
 *
 * @example
 * ```ts
 * const image = await commandBuffer(ctx, client, "get", "thumb:42"); // Buffer | null
 * ```
 */
export function commandBuffer(
  ctx: Context,
  client: RedisClientLike,
  name: string,
  ...args: RedisArgument[]
): Promise<unknown> {
  return run(ctx, client, name, args, null, "commandBuffer");
}

/** {@link command} as called by `fn` (which bad input is reported under). */
export function run(
  ctx: Context,
  client: RedisClientLike,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
  fn: string,
): Promise<unknown> {
  let blocking: BlockingCommand | undefined;
  let driver: RedisDriver;
  try {
    checkContext(ctx, fn);
    driver = driverFor(client, fn);
    if (typeof name !== "string" || !/^[A-Za-z][\w|.-]*$/.test(name)) {
      throw invalidType(`${fn}: name must be a Redis command name, got ${describeValue(name)}`);
    }
    args.forEach((arg, i) => checkArgument(arg, i, fn));
    blocking = blockingCommand(name, args, fn);
  } catch (err) {
    return Promise.reject(err); // as Node's promise APIs do: bad input rejects, never throws
  }
  return blocking === undefined
    ? driver.runOnClient(ctx, client, name, args, encoding)
    : runBlocking(ctx, driver, client, name, args, blocking, encoding);
}

function checkArgument(arg: unknown, index: number, fn: string): void {
  const ok =
    typeof arg === "string" ||
    (typeof arg === "number" && Number.isFinite(arg)) ||
    Buffer.isBuffer(arg);
  if (!ok) {
    throw invalidType(
      `${fn}: argument ${index + 1} must be a string, a finite number or a Buffer, got ${describeValue(arg)}`,
    );
  }
}
