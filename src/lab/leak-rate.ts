import { type CancelableContext, type Context, background, withCancel } from "../core/index.js";
import { sleep } from "../sync/sleep.js";
import type { SeriesVerdict } from "../diagnostics/verdict.js";
import { growthVerdict } from "../diagnostics/verdict.js";
import { formatBytesDelta, formatCount, formatMs } from "./format.js";
import { liveHeapBytes } from "./gc.js";
import type { LabOptions } from "./options.js";
import { type Progress, type Scenario, type ScenarioResult, silentProgress } from "./scenario.js";
import {
  dumpSentences,
  findingsRow,
  findingKinds,
  findingsOf,
  labTrackOptions,
  numberRow,
  textRow,
  warmUp,
} from "./tracked.js";
import { trackedPair } from "./tracked-pair.js";
import { Waiters } from "./rows.js";

/** Requests per second, as a load generator would send them. */
const RATE_PER_SECOND = 500;
/** Run length at scale 1 (2 s at the default 0.25). */
const RUN_MS = 8_000;
/** Warm-up of each handler before measuring (unscaled: it is about the JIT, not the leak). */
const WARM_UP_MS = 300;
/** How often the load loop wakes to send the requests that are due. */
const TICK_MS = 10;

/** The seed's `go func() { <-childCtx.Done(); log.Println("done") }()`, one per request. */

const noop = (): void => {};

type Handler = (server: Context, waiters: Waiters) => Promise<string>;

/** ❌ The seed's `leakyHandler`: derives a child context and never cancels it. */
const leakyHandler: Handler = async (server, waiters) => {
  // eslint-disable-next-line timebound/no-lost-cancel -- the lab's wrong variant, on purpose
  const ctx = withCancel(server, { name: "request" });
  waiters.start(ctx);
  await sleep(ctx, 0); // the request's I/O
  return "OK";
};

/** ✅ `using` cancels when the handler returns: Go's `defer cancel()`. */
const handler: Handler = async (server, waiters) => {
  using ctx = withCancel(server, { name: "request" });
  waiters.start(ctx);
  await sleep(ctx, 0);
  return "OK";
};

interface Outcome {
  readonly requests: number;
  readonly liveContexts: number;
  readonly pendingWaiters: number;
  readonly heapBytes: number;
  readonly elapsedMs: number;
  /** The growth verdict on live contexts, taken with the snapshot. */
  readonly contextsVerdict: SeriesVerdict | undefined;
}

async function serve(
  server: CancelableContext,
  run: Handler,
  runMs: number,
  label: string,
  progress: Progress,
  takeSnapshot: () => void,
  liveContexts: () => number,
): Promise<Outcome> {
  const heapBefore = liveHeapBytes();
  const waiters = new Waiters();
  const inFlight = new Set<Promise<string>>();
  const start = performance.now();
  let requests = 0;
  try {
    for (let elapsed = 0; elapsed < runMs; elapsed = performance.now() - start) {
      // Send what is due by now, so the rate holds even when a tick comes late.
      const due = Math.min(Math.floor((elapsed * RATE_PER_SECOND) / 1000), runMs);
      for (; requests < due; requests++) {
        const request = run(server, waiters);
        inFlight.add(request);
        void request.finally(() => inFlight.delete(request));
      }
      if (requests % 100 === 0) progress.tick(`${label}: ${formatCount(requests)} requests`);
      await sleep(server, TICK_MS);
    }
    const elapsedMs = performance.now() - start;
    await Promise.all(inFlight);
    await new Promise((resolve) => setImmediate(resolve)); // let ended contexts' waiters run
    const live = liveContexts();
    const heapBytes = liveHeapBytes() - heapBefore;
    takeSnapshot();
    return {
      requests,
      liveContexts: live,
      pendingWaiters: waiters.pending,
      heapBytes,
      elapsedMs,
      contextsVerdict: undefined,
    };
  } finally {
    // Shut the server down, as a real one would: it ends what the wrong handler left linked.
    server.cancel(new Error("lab: server shut down"));
  }
}

function slopeText(v: SeriesVerdict | undefined): string {
  if (v === undefined) return "n/a";
  return `${v.verdict} (${Math.round(v.slope).toLocaleString("en-US")}/s, p=${v.pValue.toPrecision(2)})`;
}

/** @internal Seed section 2.4 at a fixed request rate: live contexts and heap grow with time, or not. */
export const leakRate: Scenario = {
  id: "leak-rate",
  title: "a handler that never cancels its child context, at a fixed request rate",
  goArticle:
    "section 2.4 reports for a Go handler without `defer cancel()`, 100 QPS for 60 s: " +
    "> 6,200 goroutines and +187 MB; with it, ~15 goroutines and flat memory",
  wrong: "child context never canceled",
  right: "using ctx = withCancel(...)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const runMs = RUN_MS * options.scale;
    progress.step("leak-rate: warming up");
    await warmUp(labTrackOptions(), async () => {
      for (const h of [leakyHandler, handler]) {
        const server = withCancel(background(), { name: "warm-up" });
        await serve(server, h, WARM_UP_MS, "warm-up", silentProgress, noop, () => 0);
      }
    });
    const detail = `${RATE_PER_SECOND} req/s for ${formatMs(runMs)}`;
    const { wrong, right } = await trackedPair("leak-rate", options, progress, detail, (name) => {
      // Created before tracking starts, as a server's context is before the first request: the
      // tracker looks at the requests, not at the lab's own long-lived context.
      const server = withCancel(background(), { name: "server" });
      return {
        track: labTrackOptions({ neverCanceledMs: Math.min(500, runMs / 2) }),
        body: async (tracking, takeSnapshot) => {
          let verdict: SeriesVerdict | undefined;
          const requestContexts = (): number => {
            let n = 0;
            for (const c of tracking.tracker.contexts.values()) if (c.name === "request") n++;
            return n;
          };
          const outcome = await serve(
            server,
            name === "wrong" ? leakyHandler : handler,
            runMs,
            `leak-rate: ${name}`,
            progress,
            () => {
              takeSnapshot();
              verdict = growthVerdict(tracking.samples()).find((v) => v.series === "liveContexts");
            },
            requestContexts,
          );
          return { ...outcome, contextsVerdict: verdict };
        },
      };
    });
    const w = wrong.value;
    const r = right.value;
    const never = (s: typeof wrong) => findingsOf(s.snapshot, "never-canceled").length > 0;
    return {
      setup:
        `${RATE_PER_SECOND} requests/s for ${formatMs(runMs)} (${formatMs(RUN_MS)} at scale 1) ` +
        `through one long-lived server context; each derives withCancel(server) and starts a ` +
        `waiter on ctx.done; tracking on, growth sampled every 50 ms`,
      rows: [
        numberRow("requests", "requests served", "count", w.requests, r.requests, formatCount),
        numberRow(
          "live",
          "request contexts still live (tracker)",
          "count",
          w.liveContexts,
          r.liveContexts,
          formatCount,
        ),
        numberRow(
          "waiters",
          "waiters still pending (the Go article's goroutines)",
          "count",
          w.pendingWaiters,
          r.pendingWaiters,
          formatCount,
        ),
        numberRow(
          "heap",
          "heap growth, after GC",
          "bytes",
          w.heapBytes,
          r.heapBytes,
          formatBytesDelta,
        ),
        textRow(
          "verdict",
          "live-contexts growth verdict",
          slopeText(w.contextsVerdict),
          slopeText(r.contextsVerdict),
        ),
        findingsRow(wrong, right),
      ],
      findings: [
        `Without cancel, ${formatCount(w.liveContexts)} of ${formatCount(w.requests)} request ` +
          `contexts were still live after ${formatMs(w.elapsedMs)} at ${RATE_PER_SECOND} req/s, ` +
          `with ${formatBytesDelta(w.heapBytes)} of heap; with \`using\`, ` +
          `${formatCount(r.liveContexts)} and ${formatBytesDelta(r.heapBytes)}.`,
        never(wrong) && !never(right)
          ? "The tracker names the leak with its creation stack (never-canceled, at leakyHandler) " +
            "and its growth verdict calls the live-context curve a leak; neither appears for the " +
            "right variant."
          : `The tracker's findings: wrong ${findingKinds(wrong.snapshot)}; right ` +
            `${findingKinds(right.snapshot)}.`,
        ...dumpSentences(wrong, right),
      ],
    };
  },
};
