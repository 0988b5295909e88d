// A producer/consumer storm: consumers take elements under random short deadlines while a
// producer pushes numbered ones, so that some are taken on the server just after their caller
// was released. Every element is then accounted for.
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import {
  type Context,
  DeadlineExceeded,
  background,
  now,
  withTimeout,
} from "../../../src/index.js";
import {
  type LateReply,
  type RedisClientLike,
  blockingPoolStats,
} from "../../../src/io/redis/index.js";
import { eventually, run } from "./helpers.js";

export interface StormOptions {
  readonly client: RedisClientLike;
  /** How many elements the producer pushes, named `e0`, `e1`... */
  readonly elements: number;
  readonly consumers: number;
  /** Each call's deadline is drawn from 0 to this, in ms. */
  readonly maxDeadlineMs: number;
  /** Pushes element number `i`, named `name`. */
  push(name: string, i: number): Promise<unknown>;
  /** One call under `ctx`; resolves with what the caller got (empty when nothing). */
  take(ctx: Context): Promise<string[]>;
  /** Whether a late reply on the channel is one of this storm's. */
  isOurs(late: LateReply): boolean;
}

export interface StormResult {
  /** Every element a caller got (duplicates kept). */
  readonly consumed: string[];
  /** This storm's late replies, as published on timebound:redis:late-reply. */
  readonly late: LateReply[];
}

const HARD_LIMIT_MS = 20_000;
const LATE_REPLY = "timebound:redis:late-reply";

/**
 * Runs the storm until the producer is done and each consumer has had three more calls; returns
 * once every blocking reply is in and whatever late replies took has been put back.
 */
export async function storm(options: StormOptions): Promise<StormResult> {
  const { client, elements, consumers, maxDeadlineMs } = options;
  const consumed: string[] = [];
  const late: LateReply[] = [];
  const onLate = (m: unknown): void => {
    if (options.isOurs(m as LateReply)) late.push(m as LateReply);
  };
  diagnosticsChannel.subscribe(LATE_REPLY, onLate);
  let produced = false;
  const start = now();

  const producer = async (): Promise<void> => {
    for (let i = 0; i < elements; i++) {
      await options.push(`e${i}`, i);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    }
    produced = true;
  };
  const consumer = async (): Promise<void> => {
    let lastRounds = 0;
    while (lastRounds < 3 && now() - start < HARD_LIMIT_MS) {
      if (produced) lastRounds++;
      const ctx = withTimeout(background(), Math.random() * maxDeadlineMs);
      try {
        consumed.push(...(await options.take(ctx)));
      } catch (err) {
        if (!(err instanceof DeadlineExceeded)) throw err;
      } finally {
        ctx.cancel();
      }
      await yieldToLoop(); // a 0 ms deadline fails without I/O: let the producer run
    }
  };
  try {
    await Promise.all([producer(), ...Array.from({ length: consumers }, consumer)]);
    assert.ok(now() - start < HARD_LIMIT_MS, "the storm ended in bounded time");
    // A connection goes back to the pool once its reply is in; by then a late one's restore has
    // been sent on `client`, which answers in order.
    const replied = await eventually(() => blockingPoolStats(client).busy === 0, 5_000);
    assert.ok(replied, `every reply in: ${JSON.stringify(blockingPoolStats(client))}`);
    await run(client, "ping");
    // Each late reply is published on a microtask after its restore's answer, which came first.
    await yieldToLoop();
  } finally {
    diagnosticsChannel.unsubscribe(LATE_REPLY, onLate);
  }
  return { consumed, late };
}

/**
 * Asserts that `found` (what callers got plus what is left in Redis) holds each of the `n`
 * pushed elements exactly once: none lost, none duplicated, nothing else.
 */
export function assertEachOnce(found: readonly string[], n: number, what: string): void {
  const counts = new Map<string, number>();
  for (const e of found) counts.set(e, (counts.get(e) ?? 0) + 1);
  const pushed = Array.from({ length: n }, (_, i) => `e${i}`);
  const missing = pushed.filter((e) => !counts.has(e));
  const duplicated = [...counts].filter(([, c]) => c > 1).map(([e]) => e);
  const unknown = [...counts.keys()].filter((e) => !pushed.includes(e));
  assert.deepEqual(
    { missing, duplicated, unknown },
    { missing: [], duplicated: [], unknown: [] },
    `${what}: ${found.length} found for ${n} pushed`,
  );
}
