import type { Context } from "../../core/index.js";
import { describeValue, invalidType } from "../../core/internal.js";
import type { RedisClientLike } from "./client.js";
import { run } from "./command.js";

/**
 * What BLPOP and BRPOP answer: the key that had an element, and the element.
 *
 * @example
 * ```ts
 * const popped: PoppedElement | null = await blpop(ctx, client, "jobs");
 * ```
 */
export type PoppedElement = [key: string, element: string];

/**
 * `BLPOP keys... timeout` under `ctx`, typed: waits for an element on the first non-empty list.
 * The server waits `timeoutSeconds` (default 0: as long as `ctx` allows, forever without a
 * deadline), cut to the time `ctx` has left; null when the caller's own timeout passed first.
 * See {@link command} for what happens when `ctx` ends.
 *
 * An element popped on the server after the caller was released is never lost: it is pushed back
 * to the head of its list (LPUSH), so it is the next one popped (unless `restoreLatePops` is
 * false, see `configureRedis`; if the push fails, `onLateReply` or a process warning says so).
 * Bad keys or timeout reject with a TypeError.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 2_000);
 * const popped = await blpop(ctx, client, ["jobs:high", "jobs:low"]);
 * if (popped !== null) handle(popped[1]);
 * ```
 */
export function blpop(
  ctx: Context,
  client: RedisClientLike,
  keys: string | readonly string[],
  timeoutSeconds = 0,
): Promise<PoppedElement | null> {
  return pop("blpop", ctx, client, keys, timeoutSeconds);
}

/**
 * `BRPOP keys... timeout` under `ctx`: {@link blpop} from the other end of the lists. An element
 * popped after the caller was released is pushed back to the tail (RPUSH), the next one popped.
 *
 * @example
 * ```ts
 * const popped = await brpop(ctx, client, "jobs", 5); // null if 5 s pass with no job
 * ```
 */
export function brpop(
  ctx: Context,
  client: RedisClientLike,
  keys: string | readonly string[],
  timeoutSeconds = 0,
): Promise<PoppedElement | null> {
  return pop("brpop", ctx, client, keys, timeoutSeconds);
}

function pop(
  name: "blpop" | "brpop",
  ctx: Context,
  client: RedisClientLike,
  keys: string | readonly string[],
  timeoutSeconds: number,
): Promise<PoppedElement | null> {
  const list = typeof keys === "string" ? [keys] : keys;
  if (!Array.isArray(list) || list.length === 0 || !list.every((k) => typeof k === "string")) {
    return Promise.reject(
      invalidType(
        `${name}: keys must be a string or a non-empty array of strings, got ${describeValue(keys)}`,
      ),
    );
  }
  if (
    typeof timeoutSeconds !== "number" ||
    !Number.isFinite(timeoutSeconds) ||
    timeoutSeconds < 0
  ) {
    return Promise.reject(
      invalidType(
        `${name}: timeoutSeconds must be a number >= 0, got ${describeValue(timeoutSeconds)}`,
      ),
    );
  }
  return run(
    ctx,
    client,
    name,
    [...list, timeoutSeconds],
    "utf8",
    name,
  ) as Promise<PoppedElement | null>;
}
