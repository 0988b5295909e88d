// What an attempt can end with, besides a streamed upstream answer: an upstream's 5xx turned into
// an error (so retry, the breaker and fallback see a failure), a buffered answer (for the stale
// cache), and a static answer (the configured fallback).
import type { UpstreamExchange } from "./exchange.js";

/**
 * An upstream answered with a 5xx. Carries `status` and `headers` (retry reads 502/503/504 and
 * `Retry-After` from them) and the held answer, which is passed to the client as it is when no
 * policy does better.
 */
export class UpstreamStatusError extends Error {
  readonly status: number;
  readonly headers: UpstreamExchange["headers"];
  readonly exchange: UpstreamExchange;

  constructor(exchange: UpstreamExchange) {
    super(`the upstream answered ${exchange.status}`);
    this.status = exchange.status;
    this.headers = exchange.headers;
    this.exchange = exchange;
  }
}
Object.defineProperty(UpstreamStatusError.prototype, "name", { value: "UpstreamStatusError" });

/** A whole answer in memory: a stale-cache entry, or a static fallback. */
export interface BufferedAnswer {
  readonly kind: "buffered";
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  /** Why the gateway served it instead of a fresh upstream answer, if it did. */
  readonly servedAs?: "fallback" | "stale";
}

/** What the route's policies produce for a request. */
export type RouteAnswer = UpstreamExchange | BufferedAnswer;

/** Whether `answer` is buffered (else it is a live exchange to stream). */
export function isBuffered(answer: RouteAnswer): answer is BufferedAnswer {
  return (answer as BufferedAnswer).kind === "buffered";
}
