import type { RedisArgument } from "../driver.js";
import type { NodeRedisArgument } from "./types.js";

/**
 * `reply` with every Buffer in it decoded as UTF-8, at any depth: arrays, and the Maps, Sets and
 * objects node-redis 5 makes of RESP3 maps and sets.
 *
 * @internal
 */
export function decodeBuffers(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  if (Array.isArray(reply)) return reply.map(decodeBuffers);
  if (reply instanceof Map) {
    return new Map([...reply].map(([k, v]) => [decodeBuffers(k), decodeBuffers(v)]));
  }
  if (reply instanceof Set) return new Set([...reply].map(decodeBuffers));
  if (typeof reply === "object" && reply !== null && isPlain(reply)) {
    const decoded = Object.create(Object.getPrototypeOf(reply) as object | null) as Record<
      string,
      unknown
    >;
    for (const [k, v] of Object.entries(reply)) decoded[k] = decodeBuffers(v);
    return decoded;
  }
  return reply;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/**
 * `args` as node-redis writes them: numbers as their decimal text (infinities as Redis spells them).
 *
 * @internal
 */
export function toNodeRedisArgs(name: string, args: readonly RedisArgument[]): NodeRedisArgument[] {
  const out: NodeRedisArgument[] = [name];
  for (const arg of args) {
    if (typeof arg !== "number") out.push(arg);
    else if (Number.isFinite(arg)) out.push(String(arg));
    else out.push(arg > 0 ? "+inf" : "-inf");
  }
  return out;
}
