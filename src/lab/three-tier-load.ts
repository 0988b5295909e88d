// The three-tier scenario's load: autocannon at a fixed overall rate, loaded when the scenario
// runs (it is a development dependency: a lab installed without it skips the scenario).
import type autocannonType from "autocannon";

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

type Autocannon = typeof autocannonType;

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
 * @internal Sends `plan.rate` requests a second for `plan.durationMs`. autocannon opens one
 * connection per request a second at most, and a connection waits for its answer before it sends
 * again: when answers are slow it sends less than asked. `sent` says what it managed.
 */
export async function drive(autocannon: Autocannon, plan: LoadPlan): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: plan.url,
    connections: plan.rate, // autocannon's maximum for this rate: the most sockets to wait on
    overallRate: plan.rate,
    duration: plan.durationMs / 1000,
    timeout: plan.clientTimeoutMs / 1000,
    requests: [
      {
        method: "GET",
        setupRequest: (req) => ({ ...req, path: `/items/${next++ % plan.items}` }),
      },
    ],
  });
  return { sent: result.requests.sent, timeouts: result.timeouts };
}
