// The load of the scenarios over a sick upstream (three-tier, gateway): autocannon at a fixed
// overall rate, in staggered slices, loaded when a scenario runs (it is a development dependency:
// a lab installed without it skips the scenario).
import type autocannonType from "autocannon";
import { background } from "../core/index.js";
import { sleep } from "../sync/sleep.js";

/** @internal autocannon's programmatic entry point. */
export type Autocannon = typeof autocannonType;

/** @internal How the load is driven. */
export interface LoadPlan {
  readonly url: string;
  /** Requests per second over every connection (autocannon's `overallRate`). */
  readonly rate: number;
  readonly durationMs: number;
  /** How long a client waits for an answer before it gives up (autocannon's `timeout`). */
  readonly clientTimeoutMs: number;
  /** Distinct items asked for (`/items/0` ...), so a cache has several keys. */
  readonly items: number;
}

/** @internal What a driver may add to a slice: a look at each answer and at the instance. */
export interface SliceHooks {
  /** Each answer's headers, seen before the instance emits "response" for the same answer. */
  readonly onHeaders?: (headers: Record<string, string | undefined>) => void;
  /** Each slice's instance as it starts, to listen to its events. */
  readonly onStart?: (instance: autocannonType.Instance) => void;
}

/** @internal autocannon, or why it cannot be loaded. */
export async function loadAutocannon(): Promise<Autocannon | string> {
  try {
    return ((await import("autocannon")) as { default: Autocannon }).default;
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
 * @internal Sends `plan.rate` requests a second for `plan.durationMs`, in slices a tenth of a
 * second apart that all stop at the same time, and returns each slice's result. autocannon opens
 * one connection per request a second at most, and a connection waits for its answer before it
 * sends again: when answers are slow it sends less than asked. `hooks` is asked once a slice.
 */
export async function driveSlices(
  autocannon: Autocannon,
  plan: LoadPlan,
  hooks: () => SliceHooks = () => ({}),
): Promise<autocannonType.Result[]> {
  const slices = Math.max(1, Math.min(SLICES, plan.rate));
  let next = 0;
  const results = await Promise.all(
    Array.from({ length: slices }, async (_, i) => {
      const delayMs = (i * 1000) / slices;
      await sleep(background(), delayMs);
      const rate = Math.floor(plan.rate / slices) + (i < plan.rate % slices ? 1 : 0);
      if (rate === 0) return undefined;
      const { onHeaders, onStart } = hooks();
      const options: autocannonType.Options = {
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
            ...(onHeaders === undefined
              ? {}
              : {
                  onResponse: (_status, _body, _context, headers) =>
                    onHeaders(headers as Record<string, string | undefined>),
                }),
          },
        ],
      };
      return new Promise<autocannonType.Result>((resolve, reject) => {
        const instance = autocannon(options, (err: Error | null | undefined, result) => {
          if (err !== null && err !== undefined) reject(err);
          else resolve(result);
        });
        onStart?.(instance);
      });
    }),
  );
  return results.filter((r) => r !== undefined);
}
