// The gateway scenario's load: autocannon at a fixed overall rate against the gateway, recording
// every request as the client saw it (when it was sent, how long it took, its status, and whether
// the gateway marked the answer as a fallback), since the gateway runs in another process.
import { now } from "../core/index.js";
import { type Autocannon, type LoadPlan, driveSlices } from "./autocannon-slices.js";

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

/**
 * @internal Sends `plan.rate` requests a second for `plan.durationMs`, one connection per request
 * a second (so a slow answer holds back only its own connection), and records each answer.
 */
export async function driveGateway(autocannon: Autocannon, plan: LoadPlan): Promise<LoadRun> {
  const records: ClientRecord[] = [];
  const start = now();
  const results = await driveSlices(autocannon, plan, () => {
    // autocannon calls onResponse, then emits "response", in one go: the header read by the
    // first belongs to the answer the second reports.
    let served: string | undefined;
    return {
      onHeaders: (headers) => {
        served = headers["x-timebound-served"];
      },
      onStart: (instance) => {
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
      },
    };
  });
  const timeouts = results.reduce((n, r) => n + r.timeouts, 0);
  return { records, sent: records.length, timeouts };
}
