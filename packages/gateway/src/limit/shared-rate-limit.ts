// A rate limit shared by every gateway instance through Redis: one atomic Lua script per call
// keeps a sliding window counter per route and client (the current and the previous fixed
// window, the previous one weighted by how much of it the sliding window still covers), timed by
// the Redis server's clock so that instances with skewed clocks agree. The script runs through
// timebound/redis under a small slice of the request's deadline; when Redis is slow, down or
// failing, the request is limited by this instance's own token bucket instead (rateLimit from
// timebound/resilience), and the fallback is reported (metrics count each one, the log says when
// it starts and ends).
import { createHash } from "node:crypto";
import { type Context, isDeadlineExceeded, withTimeout } from "timebound";
import { type RateLimit, RateLimitedError } from "timebound/resilience";
import { command, type RedisClientLike } from "timebound/redis";

/** Why a call was limited locally instead of through Redis. */
export type FallbackReason = "timeout" | "unavailable" | "error";

// KEYS[1]: the counter (a hash: w = window index, c = its count, p = the previous window's).
// ARGV[1]: the limit per window; ARGV[2]: the window in ms.
// Returns { 1, calls left } or { 0, ms until a call would be allowed }.
const SCRIPT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local index = math.floor(now / window)
local h = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local w = tonumber(h[1])
local c = tonumber(h[2]) or 0
local p = tonumber(h[3]) or 0
if w == nil or w < index - 1 then
  p = 0
  c = 0
elseif w == index - 1 then
  p = c
  c = 0
end
local elapsed = now - index * window
local estimate = p * (window - elapsed) / window + c
local allowed = 0
local result
if estimate + 1 <= limit then
  allowed = 1
  c = c + 1
  result = math.floor(limit - estimate - 1)
else
  local need = limit - 1 - c
  local wait
  if need >= 0 and p > 0 then
    wait = (window - need * window / p) - elapsed
  else
    local x = 0
    if c > 0 then x = window - (limit - 1) * window / c end
    if x < 0 then x = 0 end
    wait = (window - elapsed) + x
  end
  if wait < 1 then wait = 1 end
  result = math.ceil(wait)
end
redis.call('HSET', KEYS[1], 'w', index, 'c', c, 'p', p)
redis.call('PEXPIRE', KEYS[1], window * 2)
return { allowed, result }
`;
const SHA = createHash("sha1").update(SCRIPT).digest("hex");

/** After this many failures in a row, Redis is not asked for a while. */
const FAILURES_TO_SKIP = 3;
const SKIP_MS = 1_000;

/** Options of {@link SharedRateLimit}. */
export interface SharedRateLimitOptions {
  /** The route's name: in the key and in errors. */
  readonly route: string;
  readonly client: RedisClientLike;
  /** Whether the client is connected (a timeout while not connected is "unavailable"). */
  readonly connected: () => boolean;
  readonly keyPrefix: string;
  readonly ratePerSecond: number;
  readonly burst: number;
  /** The most a decision may take from the request's deadline (also at most a tenth of it). */
  readonly timeoutMs: number;
  /** The local limit used when Redis cannot decide (keyed by the client as well). */
  readonly local: RateLimit;
  /** Told of each call limited locally (`first`: the first since Redis last answered). */
  readonly onFallback: (reason: FallbackReason, error: unknown, first: boolean) => void;
  /** Told when Redis answers again after fallbacks. */
  readonly onRecover: () => void;
}

/** A per-client rate limit shared through Redis, with a local fallback. */
export class SharedRateLimit {
  readonly #o: SharedRateLimitOptions;
  readonly #limit: number;
  readonly #windowMs: number;
  #failures = 0;
  #skipUntil = 0;
  #fallingBack = false;

  constructor(options: SharedRateLimitOptions) {
    this.#o = options;
    // A window that holds `burst` calls at `ratePerSecond`: the same sustained rate and burst as
    // the local token bucket.
    this.#limit = options.burst;
    this.#windowMs = Math.max(1, Math.round((options.burst / options.ratePerSecond) * 1000));
  }

  /** Runs `work` if `client` is within the limit; rejects with RateLimitedError if not. */
  async execute<T>(ctx: Context, client: string, work: (ctx: Context) => Promise<T>): Promise<T> {
    const decision = await this.#decide(ctx, client);
    if (decision === undefined) return this.#o.local.execute(ctx, work);
    if (!decision.allowed) {
      throw new RateLimitedError(
        `${this.#o.route} shared rate limit`,
        client,
        decision.retryAfterMs,
        this.#o.ratePerSecond,
        this.#o.burst,
      );
    }
    return work(ctx);
  }

  /** Redis' verdict, or undefined when it could not give one in time. */
  async #decide(
    ctx: Context,
    client: string,
  ): Promise<{ allowed: boolean; retryAfterMs: number } | undefined> {
    if (performance.now() < this.#skipUntil) {
      this.#fallback("unavailable", new Error("Redis failed repeatedly; not asked for a while"));
      return undefined;
    }
    const slice = Math.min(this.#o.timeoutMs, ctx.remaining() / 10);
    using sliceCtx = withTimeout(ctx, Math.max(0, slice), { name: "shared rate limit" });
    const key = `${this.#o.keyPrefix}${this.#o.route}:${client}`;
    const args = [1, key, this.#limit, this.#windowMs] as const;
    let reply: unknown;
    try {
      try {
        reply = await command(sliceCtx, this.#o.client, "evalsha", SHA, ...args);
      } catch (err) {
        if (!/NOSCRIPT/.test(String((err as Error)?.message))) throw err;
        reply = await command(sliceCtx, this.#o.client, "eval", SCRIPT, ...args);
      }
    } catch (err) {
      if (ctx.err !== undefined) throw ctx.err; // the request itself ended
      const reason: FallbackReason = !this.#o.connected()
        ? "unavailable"
        : isDeadlineExceeded(err)
          ? "timeout"
          : "error";
      if (++this.#failures >= FAILURES_TO_SKIP) {
        this.#failures = 0;
        this.#skipUntil = performance.now() + SKIP_MS;
      }
      this.#fallback(reason, err);
      return undefined;
    }
    this.#failures = 0;
    if (this.#fallingBack) {
      this.#fallingBack = false;
      this.#o.onRecover();
    }
    const [allowed, n] = reply as [number, number];
    return { allowed: allowed === 1, retryAfterMs: allowed === 1 ? 0 : n };
  }

  #fallback(reason: FallbackReason, error: unknown): void {
    const first = !this.#fallingBack;
    this.#fallingBack = true;
    this.#o.onFallback(reason, error, first);
  }
}
