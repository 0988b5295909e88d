import { checkString, describeValue, invalidType } from "../core/internal.js";
import { parseClientList } from "../io/redis/client-list.js";
import { sendCommand } from "./resp.js";

/** One client connected to a Redis server, as its `CLIENT LIST` shows it. */
export interface RedisClientEntry {
  /** The server's id of the connection (what `CLIENT UNBLOCK` takes). */
  readonly id: number;
  /** Its `CLIENT SETNAME` name, or "". */
  readonly name: string;
  /** Single-letter flags: `b` while blocked in BLPOP, XREAD BLOCK, WAIT... */
  readonly flags: string;
  /** The last command it ran, lower case (`blpop`, `client|list`). */
  readonly cmd: string;
}

/**
 * Who is connected to the Redis server at `url` (`redis://host:port`), as the server itself
 * says (`CLIENT LIST`), not as a client library believes: a test can see that a connection
 * is still blocked after its caller gave up, or that it was unblocked. Asks on a connection of
 * its own (which appears in the list, running `client|list`), with no client library.
 *
 * @example
 * ```ts
 * await using redis = await startRedis();
 * // ... a BLPOP whose context ended ...
 * const blocked = (await redisClients(redis.url)).filter(isBlocked);
 * assert.equal(blocked.length, 0, "the server holds no connection blocked");
 * ```
 */
export async function redisClients(url: string): Promise<RedisClientEntry[]> {
  const fn = "redisClients";
  const { host, port } = parseRedisUrl(checkString(url, fn, "url"), fn);
  return parseClientList(await sendCommand(host, port, ["CLIENT", "LIST"], fn));
}

/**
 * Whether the server has `entry` blocked in a blocking command (BLPOP, XREAD BLOCK, WAIT...)
 * right now.
 *
 * @example
 * ```ts
 * const blocked = (await redisClients(url)).filter(isBlocked);
 * ```
 */
export function isBlocked(entry: RedisClientEntry): boolean {
  return entry.flags.includes("b");
}

function parseRedisUrl(url: string, fn: string): { host: string; port: number } {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== "redis:" || parsed.hostname === "") {
    throw invalidType(`${fn}: url must be a redis://host:port URL, got ${describeValue(url)}`);
  }
  // A bracketed IPv6 host ("[::1]") connects without its brackets.
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 6379) };
}
