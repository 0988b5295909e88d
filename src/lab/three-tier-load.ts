// The three-tier scenario's load: autocannon at a fixed overall rate, loaded when the scenario
// runs (it is a development dependency: a lab installed without it skips the scenario).
import type autocannonType from "autocannon";
import { background } from "../core/index.js";
import { sleep } from "../sync/sleep.js";

/** @internal How the load is driven. */
export interface LoadPlan {
  readonly url: string;
  /** Requests per second over all connections (autocannon's `overallRate`). */
  readonly rate: number;
  readonly durationMs: number;
  /** How long a client waits for an answer before it gives up (autocannon's `timeout`). */
  readonly clientTimeoutMs: number;
  /** Distinct items asked for (`/items/0` ...), so a cache has several keys. */
  readonly items: number;
}

/** @internal What the load generator itself saw. */
export interface LoadResult {
  /** Requests it sent. */
  readonly sent: number;
  /** Requests it gave up on at `clientTimeoutMs`. */
  readonly timeouts: number;
}

/** @internal autocannon's programmatic entry point. */
export type Autocannon = typeof autocannonType;

/** @internal autocannon, or why it cannot be loaded. */
export async function loadAutocannon(): Promise<Autocannon | string> {
  try {
    const mod = (await import("autocannon")) as { default: Autocannon };
    return mod.default;
  } catch (err) {
    return `autocannon is not installed (${err instanceof Error ? err.message : String(err)})`;
  }
}

/**
 * Load generators started a little apart. autocannon gives each connection its share of the
 * rate and resets every connection's count once a second, at the same instant: one instance
 * sends its whole second's requests in one burst. Ten instances a tenth of a second apart send
 * a tenth of the rate every tenth of a second, closer to a steady stream.
 */
const SLICES = 10;

/**
 * autocannon stops at its first sample after `duration`, and samples once a second by default: a
 * slice started 900 ms late would send for up to 900 ms past the planned end. Sampling every
 * 100 ms ends every slice within 100 ms of it (the rate limit keeps its own one-second clock).
 */
const STOP_CHECK_MS = 100;

/**
 * @internal Sends `plan.rate` requests a second for `plan.durationMs`. autocannon opens one
 * connection per request a second at most, and a connection waits for its answer before it sends
 * again: when answers are slow it sends less than asked. `sent` says what it managed.
 */
export async function drive(autocannon: Autocannon, plan: LoadPlan): Promise<LoadResult> {
  const slices = Math.min(SLICES, plan.rate);
  let next = 0;
  const results = await Promise.all(
    Array.from({ length: slices }, async (_, i) => {
      const delayMs = (i * 1000) / slices;
      await sleep(background(), delayMs);
      const rate = Math.floor(plan.rate / slices) + (i < plan.rate % slices ? 1 : 0);
      return autocannon({
        url: plan.url,
        connections: rate, // autocannon's maximum for this rate: the most sockets to wait on
        overallRate: rate,
        sampleInt: STOP_CHECK_MS, // it stops at its first sample after `duration`
        duration: (plan.durationMs - delayMs) / 1000, // every slice stops at the same time
        timeout: plan.clientTimeoutMs / 1000,
        requests: [
          {
            method: "GET",
            setupRequest: (req) => ({ ...req, path: `/items/${next++ % plan.items}` }),
          },
        ],
      });
    }),
  );
  return {
    sent: results.reduce((n, r) => n + r.requests.sent, 0),
    timeouts: results.reduce((n, r) => n + r.timeouts, 0),
  };
}
