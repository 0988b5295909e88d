// An upstream: several targets that serve the same thing, each with its own undici Pool, and the
// choice of one per attempt: round robin, or least request by the power of two choices (two
// targets drawn at random, the one with fewer requests in flight wins: near-best balance at the
// cost of two reads, and no herd on one target). A target that fails too often in a row is
// ejected for a while (passive outlier detection); active health checks, when configured, mark
// targets down between requests.
import { type Dispatcher, Pool } from "undici";
import { type Context, ticker, withTimeout } from "timebound";
import type { UpstreamConfig } from "../config/types.js";
import { UpstreamExchange } from "./exchange.js";

/** One target of an upstream, with its pool and its health. */
export class Target {
  readonly origin: string;
  readonly host: string;
  readonly pool: Pool;
  inflight = 0;
  #consecutiveFailures = 0;
  #ejectedUntil = 0;
  #checkDown = false;
  /** Times this target was ejected by outlier detection. */
  ejections = 0;

  constructor(origin: string, connections: number, idleTimeoutMs: number) {
    this.origin = origin;
    this.host = new URL(origin).host;
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      // Idle connections close after this, whatever the target's Keep-Alive hint says.
      keepAliveTimeout: idleTimeoutMs,
      keepAliveMaxTimeout: idleTimeoutMs,
      // Deadlines, not undici's fixed timers, end slow requests: the context decides.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** In rotation: not ejected, not marked down by a health check. */
  available(now: number): boolean {
    return !this.#checkDown && now >= this.#ejectedUntil;
  }

  /** Records an attempt's outcome for outlier detection (the clock is read only to eject). */
  record(ok: boolean, upstream: UpstreamConfig): void {
    if (ok) {
      this.#consecutiveFailures = 0;
      return;
    }
    const outlier = upstream.outlier;
    if (outlier === undefined) return;
    if (++this.#consecutiveFailures >= outlier.consecutiveFailures) {
      this.#consecutiveFailures = 0;
      this.#ejectedUntil = Date.now() + outlier.ejectMs;
      this.ejections++;
    }
  }

  markChecked(up: boolean): void {
    this.#checkDown = !up;
  }
}

/** The targets of one upstream and the balancing between them. */
export class Cluster {
  readonly config: UpstreamConfig;
  readonly targets: readonly Target[];
  #next = 0;

  constructor(config: UpstreamConfig) {
    this.config = config;
    this.targets = config.targets.map(
      (origin) => new Target(origin, config.connections, config.idleTimeoutMs),
    );
  }

  /** The target for the next attempt; `avoid` (the target of a failed attempt) if possible not. */
  pick(avoid?: Target): Target {
    const targets = this.targets;
    if (targets.length === 1) return targets[0]!;
    const now = Date.now();
    if (this.config.balance === "round-robin") {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[this.#next++ % targets.length]!;
        if (t !== avoid && t.available(now)) return t;
      }
    } else {
      const a = targets[Math.floor(Math.random() * targets.length)]!;
      let b = targets[Math.floor(Math.random() * (targets.length - 1))]!;
      if (b === a) b = targets[targets.length - 1]!;
      const aOk = a !== avoid && a.available(now);
      const bOk = b !== avoid && b.available(now);
      if (aOk && bOk) return a.inflight <= b.inflight ? a : b;
      if (aOk) return a;
      if (bOk) return b;
      for (const t of targets) if (t !== avoid && t.available(now)) return t;
    }
    // Every target is out (Envoy's panic mode): spreading load beats refusing all of it.
    return targets[this.#next++ % targets.length]!;
  }

  /** Sends one request to `target`; the exchange's `head` settles when the answer's head comes. */
  send(target: Target, options: Dispatcher.DispatchOptions): UpstreamExchange {
    target.inflight++;
    const exchange = new UpstreamExchange(() => target.inflight--);
    target.pool.dispatch(options, exchange);
    return exchange;
  }

  /** Runs active health checks until `ctx` ends (when configured). */
  async checkHealth(ctx: Context): Promise<void> {
    const check = this.config.healthCheck;
    if (check === undefined) return;
    try {
      for await (const _ of ticker(ctx, check.intervalMs)) {
        await Promise.all(
          this.targets.map(async (t) => {
            using attempt = withTimeout(ctx, check.timeoutMs, { name: `health ${t.origin}` });
            try {
              const res = await t.pool.request({
                method: "GET",
                path: check.path,
                signal: attempt.signal,
              });
              await res.body.dump();
              t.markChecked(res.statusCode < 500);
            } catch {
              if (!ctx.err) t.markChecked(false);
            }
          }),
        );
      }
    } catch {
      // The gateway's context ended: checks stop with it.
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.pool.close()));
  }

  /** Closes every connection now, in-flight requests included. */
  async destroy(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.pool.destroy()));
  }
}
