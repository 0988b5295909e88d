import type { Redis } from "ioredis";

/**
 * One line of `CLIENT LIST`, the fields the adapter's tests, lab and benchmark read.
 *
 * @internal
 *
 * @internal
 */
export interface ClientEntry {
  readonly id: number;
  readonly name: string;
  /** Single-letter flags: `b` while blocked in BLPOP, XREAD BLOCK, WAIT... */
  readonly flags: string;
  /** The last command the client ran, lower case (`blpop`, `client|list`). */
  readonly cmd: string;
}

// For the adapter's tests, the lab and the benchmarks; users get the same from timebound/testing's
// redisClients(url). Nothing here is part of timebound/redis's API.

/**
 * Asks the server who is connected (`CLIENT LIST`): what the server itself says, not what a
 * client library believes, so it can show a client still blocked after its caller gave up.
 *
 * @example
 * ```ts
 * const blocked = (await clientList(observer)).filter(isBlocked);
 * ```
 *
 * @internal
 */
export async function clientList(redis: Redis): Promise<ClientEntry[]> {
  return parseClientList(String(await redis.client("LIST")));
}

/**
 * The entries of a `CLIENT LIST` reply.
 *
 * @internal
 */
export function parseClientList(text: string): ClientEntry[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const fields = new Map<string, string>();
      for (const pair of line.trim().split(" ")) {
        const eq = pair.indexOf("=");
        if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      return {
        id: Number(fields.get("id")),
        name: fields.get("name") ?? "",
        flags: fields.get("flags") ?? "",
        cmd: fields.get("cmd") ?? "",
      };
    });
}

/**
 * Whether the server has `entry` blocked in a blocking command right now.
 *
 * @internal
 */
export function isBlocked(entry: ClientEntry): boolean {
  return entry.flags.includes("b");
}
