import type { ReplyEncoding } from "../driver.js";

/**
 * `reply` as a caller with `encoding` expects it: with "utf8", every Buffer in it (at any depth)
 * decoded to a string, as ioredis' `call` does; with null, as it is.
 *
 * @internal
 */
export function decodeReply(reply: unknown, encoding: ReplyEncoding): unknown {
  if (encoding === null) return reply;
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  if (Array.isArray(reply)) return reply.map((item: unknown) => decodeReply(item, encoding));
  return reply;
}
