// The three-tier scenario's figures, from the service's log of requests: a request cut by the
// load's stop counts only if it had waited long enough to be known as failing.
import { type OutageFigures, type Timeline, outageFigures } from "./outage-figures.js";
import type { RequestRecord } from "./three-tier-service.js";

/**
 * @internal A request still waiting when the load stopped counts (as an error, its wait so far as
 * its latency) if it had waited this long: no variant that answers at all answers later than
 * this, so it was failing. One that had waited less is left out: its outcome is unknown.
 */
export const CUT_COUNTS_AFTER_MS = 1_000;

/** @internal The figures of `all` (the records of one run). */
export function tierFigures(all: readonly RequestRecord[], t: Timeline): OutageFigures {
  const counted = all.filter((r) => !r.open || r.endMs - r.startMs >= CUT_COUNTS_AFTER_MS);
  return outageFigures(
    counted.map((r) => ({
      startMs: r.startMs,
      latencyMs: r.endMs - r.startMs,
      outcome: r.outcome,
      open: r.open,
    })),
    t,
  );
}
