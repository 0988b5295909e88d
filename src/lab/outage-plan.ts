// How a run over the sick upstream (three-tier, gateway) is sized: its length, the outage's place
// in it, the windows recovery is judged in, the clients' patience and the breaker's open time.
import type { LoadPlan } from "./autocannon-slices.js";
import type { Timeline } from "./outage-figures.js";
import { scaled } from "./nested-deadlines.js";
import { fullRunHint } from "./quick.js";

/** One variant's run at scale 1 (4 s at the default 0.25, 16 s with `--scale 1`). */
const RUN_MS = 16_000;
/** @internal The upstream's outage, as shares of the run: from 25% to 65% of it. */
export const OUTAGE = { from: 0.25, to: 0.65 } as const;
/** Windows recovery is judged in: a sixteenth of the run (250 ms at the default scale, 1 s at 1). */
const WINDOWS_PER_RUN = 16;
/** @internal How long the clients wait before they give up (the end user's patience). */
export const CLIENT_TIMEOUT_MS = 2_000;
/** The breaker's open duration at scale 1 (500 ms at the default scale). */
const OPEN_MS = 2_000;
/** Distinct items the load asks for (`/items/0` ...), so that a cache has several keys. */
const ITEMS = 20;

/** @internal How a run is sized. */
export interface OutagePlan {
  readonly rate: number;
  readonly runMs: number;
  readonly timeline: Timeline;
  /** How long the clients wait before they give up. */
  readonly clientTimeoutMs: number;
  readonly openMs: number;
  /** Whether this is the whole lab's quick run (shortened: the findings say so). */
  readonly quick: boolean;
}

/** @internal The plan for `scale` at `rate`; `quick` marks the whole lab's quick run. */
export function outagePlan(
  scale: number,
  rate: number,
  quick: boolean,
  clientTimeoutMs = CLIENT_TIMEOUT_MS,
): OutagePlan {
  const runMs = scaled(RUN_MS, scale);
  return {
    rate,
    quick,
    clientTimeoutMs,
    runMs,
    timeline: {
      outageFromMs: Math.round(runMs * OUTAGE.from),
      outageToMs: Math.round(runMs * OUTAGE.to),
      windowMs: Math.max(50, Math.round(runMs / WINDOWS_PER_RUN)),
      endMs: runMs,
    },
    openMs: scaled(OPEN_MS, scale),
  };
}

/** @internal The load `plan` drives at `url`: its rate, for its length, with its clients' patience. */
export function loadAt(plan: OutagePlan, url: string): LoadPlan {
  return {
    url,
    rate: plan.rate,
    durationMs: plan.runMs,
    clientTimeoutMs: plan.clientTimeoutMs,
    items: ITEMS,
  };
}

/** @internal How large the run is, for the setup: the quick run, or its scale. */
export function planSizeText(plan: OutagePlan): string {
  return plan.quick ? "the whole lab's quick run" : `scale x${plan.runMs / RUN_MS}`;
}

/** @internal The smallest `--scale`, in tenths, at which `share` of a run lasts `ms` or more. */
export function scaleForShare(ms: number, share: number): number {
  return Math.ceil((ms / share / RUN_MS) * 10) / 10;
}

/** @internal How to get scenario `id`'s full-size run. */
export function fullOutageRunHint(id: string): string {
  return fullRunHint(id, (scale) => scaled(RUN_MS, scale));
}

/** @internal The requests `plan` asks for, and the runs of which fewer than 95% were `counted`. */
export function shortRuns<R>(
  runs: readonly R[],
  plan: OutagePlan,
  counted: (run: R) => number,
): { expected: number; short: R[] } {
  const expected = Math.round((plan.rate * plan.runMs) / 1000);
  return { expected, short: runs.filter((r) => counted(r) < expected * 0.95) };
}
