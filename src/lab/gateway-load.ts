// The gateway scenario's load: autocannon at a fixed overall rate against the gateway, recording
// every request as the client saw it (when it was sent, how long it took, its status, and whether
// the gateway marked the answer as a fallback), since the gateway runs in another process.
import type autocannonType from "autocannon";
import { background, now } from "../core/index.js";
import { sleep } from "../sync/sleep.js";

type Autocannon = typeof autocannonType;

/** @internal How one request ended, for the client. */
export type ClientOutcome = "fresh" | "fallback" | "error";

/** @internal One request as the client saw it. */
export interface ClientRecord {
  /** When it was sent, in ms from the start of the load. */
  readonly startMs: number;
  readonly latencyMs: number;
  /** The status; 0 when there was no answer (the client gave up, or the connection failed). */
  readonly status: number;
  readonly outcome: ClientOutcome;
}

/** @internal What the load generator sent and saw. */
export interface LoadRun {
  readonly records: readonly ClientRecord[];
  /**
   * Requests answered or given up by the client (autocannon's own `requests.sent` counts one
   * request per connection it never sent; requests still waiting at the stop are left out).
   */
  readonly sent: number;
  /** Of them, the ones given up at the client's timeout. */
  readonly timeouts: number;
}

/** @internal How the load is driven. */
export interface LoadPlan {
  readonly url: string;
  /** Requests per second over every connection (autocannon's `overallRate`). */
  readonly rate: number;
  readonly durationMs: number;
  /** How long a client waits for an answer before it gives up. */
  readonly clientTimeoutMs: number;
  /** Distinct items asked for (`/items/0` ...), so a cache has several keys. */
  readonly items: number;
}

/** @internal autocannon, or why it cannot be loaded (it is a development dependency). */
export async function loadAutocannon(): Promise<Autocannon | string> {
  try {
    return ((await import("autocannon")) as { default: Autocannon }).default;
  } catch (err) {
    return `autocannon is not installed (${err instanceof Error ? err.message : String(err)})`;
  }
}

/**
 * autocannon resets every connection's count at the same instant once a second, so one instance
 * sends a second's requests in one burst; ten instances a tenth of a second apart send a tenth
 * of the rate every tenth of a second, closer to a steady stream.
 */
const SLICES = 10;

/**
 * autocannon stops at its first sample after `duration`, and samples once a second by default: a
 * slice started 900 ms late would send for up to 900 ms past the planned end. Sampling every
 * 100 ms ends every slice within 100 ms of it (the rate limit keeps its own one-second clock).
 */
const STOP_CHECK_MS = 100;

/**
 * @internal Sends `plan.rate` requests a second for `plan.durationMs`, one connection per request
 * a second (so a slow answer holds back only its own connection), and records each answer.
 */
export async function driveGateway(autocannon: Autocannon, plan: LoadPlan): Promise<LoadRun> {
  const records: ClientRecord[] = [];
  const start = now();
  let next = 0;
  let timeouts = 0;
  const slices = Math.max(1, Math.min(SLICES, plan.rate));
  await Promise.all(
    Array.from({ length: slices }, async (_, i) => {
      const delayMs = (i * 1000) / slices;
      await sleep(background(), delayMs);
      const rate = Math.floor(plan.rate / slices) + (i < plan.rate % slices ? 1 : 0);
      if (rate === 0) return;
      // autocannon calls onResponse, then emits "response", in one go: the header read by the
      // first belongs to the answer the second reports.
      let served: string | undefined;
      let finished: (result: autocannonType.Result) => void = () => {};
      let failed: (err: unknown) => void = () => {};
      const done = new Promise<autocannonType.Result>((resolve, reject) => {
        finished = resolve;
        failed = reject;
      });
      const options: autocannonType.Options = {
        url: plan.url,
        connections: rate,
        overallRate: rate,
        sampleInt: STOP_CHECK_MS, // it stops at its first sample after `duration`
        duration: (plan.durationMs - delayMs) / 1000, // every slice stops at the same time
        timeout: plan.clientTimeoutMs / 1000,
        requests: [
          {
            method: "GET",
            setupRequest: (req) => ({ ...req, path: `/items/${next++ % plan.items}` }),
            onResponse: (_status, _body, _context, headers) => {
              const value = (headers as Record<string, string | undefined>)["x-timebound-served"];
              served = value;
            },
          },
        ],
      };
      const instance = autocannon(options, (err: unknown, result) => {
        if (err !== null && err !== undefined) failed(err);
        else finished(result);
      });
      instance.on("response", (_client, status: number, _bytes, latencyMs: number) => {
        const at = now() - start;
        const outcome: ClientOutcome =
          status >= 500 || status === 0
            ? "error"
            : served !== undefined
              ? "fallback"
              : status < 400
                ? "fresh"
                : "error";
        served = undefined;
        records.push({ startMs: at - latencyMs, latencyMs, status, outcome });
      });
      instance.on("reqError", (err: Error) => {
        const timedOut = err.message === "request timed out";
        const latencyMs = timedOut ? plan.clientTimeoutMs : 0;
        const at = now() - start;
        records.push({ startMs: at - latencyMs, latencyMs, status: 0, outcome: "error" });
      });
      const result = await done;
      timeouts += result.timeouts;
    }),
  );
  return { records, sent: records.length, timeouts };
}
