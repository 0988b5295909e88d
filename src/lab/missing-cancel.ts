import { coreStats, dependents } from "../core/introspect.js";
import {
  type Context,
  type ContextCreatedMessage,
  background,
  channels,
  now,
  withCancel,
  withTimeout,
} from "../core/index.js";
import { sleep } from "../sync/sleep.js";
import { formatBytesDelta, formatBytesEach, formatCount, formatMs } from "./format.js";
import { garbageCollector, liveHeapBytes } from "./gc.js";
import type { LabOptions } from "./options.js";
import type { Progress, Scenario, ScenarioResult } from "./scenario.js";
import { Waiters, numberRow } from "./rows.js";

/** The per-request timeout; long, so that in the wrong variant nothing expires during the run. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Requests in flight at once, like a busy server. */
const CONCURRENCY = 1_000;

type Handler = (server: Context, waiters: Waiters) => Promise<string>;

/** ❌ The seed's `leakyHandler`: derives a per-request context and never cancels it. */
const leakyHandler: Handler = async (server, waiters) => {
  // eslint-disable-next-line timebound/no-lost-cancel -- the lab's wrong variant, on purpose
  const ctx = withTimeout(server, REQUEST_TIMEOUT_MS, { name: "request" });
  waiters.start(ctx);
  await sleep(ctx, 0); // the request's I/O
  return "OK";
};

/** ✅ `using` cancels when the block is left, however it is left: Go's `defer cancel()`. */
const handler: Handler = async (server, waiters) => {
  using ctx = withTimeout(server, REQUEST_TIMEOUT_MS, { name: "request" });
  waiters.start(ctx);
  await sleep(ctx, 0);
  return "OK";
};

/** What one variant left behind, measured before and after the server shuts down. */
interface Outcome {
  readonly live: number;
  readonly dependents: number;
  readonly armedTimers: number;
  readonly pendingWaiters: number;
  readonly heapBytes: number;
  readonly elapsedMs: number;
  readonly shutdownMs: number;
  /** Timers and children still there after `server.cancel()`: 0 unless the core leaks. */
  readonly leftAfterShutdown: number;
}

/**
 * Finds the request contexts through timebound's own `created` channel, so the handlers stay
 * as they would be in a real server. It holds them weakly: a strong list would keep every
 * context of the right variant alive too. (It does not listen on `ended`: with a subscriber
 * there, every end builds its error eagerly, which would slow the right variant down.)
 */
function trackRequests(server: Context): { live(): number; release(): void } {
  let refs: WeakRef<Context>[] = [];
  const onCreated = (message: unknown): void => {
    const m = message as ContextCreatedMessage;
    if (m.parent === server) refs.push(new WeakRef(m.context));
  };
  channels.created.subscribe(onCreated);
  return {
    live() {
      let n = 0;
      for (const ref of refs) {
        const ctx = ref.deref(); // collected means unreachable, so no longer linked: ended
        if (ctx !== undefined && ctx.err === undefined) n++;
      }
      return n;
    },
    release() {
      channels.created.unsubscribe(onCreated);
      refs = [];
    },
  };
}

/** One macrotask turn: lets `done` callbacks (microtasks) of ended contexts run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function serve(
  run: Handler,
  requests: number,
  label: string,
  progress: Progress,
): Promise<Outcome> {
  const heapBefore = liveHeapBytes();
  const timersBefore = coreStats().armedTimers;
  const server = withCancel(background(), { name: "server" });
  const tracked = trackRequests(server);
  const waiters = new Waiters();
  let measured: Omit<Outcome, "shutdownMs" | "leftAfterShutdown">;
  let shutdownMs: number;
  try {
    const start = now();
    for (let served = 0; served < requests;) {
      const batch = Math.min(CONCURRENCY, requests - served);
      const inFlight: Promise<string>[] = [];
      for (let i = 0; i < batch; i++) inFlight.push(run(server, waiters));
      await Promise.all(inFlight);
      served += batch;
      progress.tick(`${label}: ${formatCount(served)} / ${formatCount(requests)} requests`);
    }
    const elapsedMs = now() - start;
    await settle();
    // Collect first, so ended contexts are gone from the weak list rather than asked for `err`
    // (which builds an error for each).
    garbageCollector()?.();
    const live = tracked.live();
    tracked.release(); // before the heap is measured: the list is ours, not the handler's
    measured = {
      live,
      dependents: dependents(server),
      armedTimers: coreStats().armedTimers - timersBefore,
      pendingWaiters: waiters.pending,
      heapBytes: liveHeapBytes() - heapBefore,
      elapsedMs,
    };
  } finally {
    // Shut the server down, as a real one would: this ends every request context the wrong
    // handler left linked under it and clears their timers, so the lab leaves nothing behind.
    const start = now();
    server.cancel(new Error("lab: server shut down"));
    shutdownMs = now() - start;
    tracked.release();
  }
  await settle();
  const leftAfterShutdown =
    coreStats().armedTimers - timersBefore + dependents(server) + waiters.pending;
  return { ...measured, shutdownMs, leftAfterShutdown };
}

function findings(requests: number, wrong: Outcome, right: Outcome): string[] {
  const out: string[] = [];
  if (wrong.dependents > 0) {
    const each = Math.round(Math.max(0, wrong.heapBytes) / wrong.dependents);
    out.push(
      `Without cancel, ${formatCount(wrong.dependents)} of ${formatCount(requests)} request ` +
        `contexts stay linked under the server context, each with a ` +
        `${formatCount(REQUEST_TIMEOUT_MS)} ms timer and a waiting callback ` +
        `(about ${formatBytesEach(each)} each); with \`using\`, ${formatCount(right.dependents)}.`,
    );
  } else {
    out.push("No request context stayed linked under the server context, even without cancel.");
  }
  out.push(
    `Nothing fails while it grows: every request was answered. The leak is reclaimed only when ` +
      `the server context ends (server.cancel() took ${formatMs(wrong.shutdownMs)} here) or, ` +
      `one by one, when the ${formatCount(REQUEST_TIMEOUT_MS / 1000)} s timeouts fire.`,
  );
  if (wrong.leftAfterShutdown !== 0 || right.leftAfterShutdown !== 0) {
    out.push(
      `Unexpected: ${wrong.leftAfterShutdown + right.leftAfterShutdown} timers, links or ` +
        `waiters were left after server.cancel().`,
    );
  }
  return out;
}

/** @internal Seed section 2.4: a handler that never cancels its per-request child context. */
export const missingCancel: Scenario = {
  id: "missing-cancel",
  title: "a handler that never cancels its per-request context",
  goArticle:
    "section 2.4 reports for a Go handler without `defer cancel()`, 100 QPS for 60 s: " +
    "> 6,200 goroutines and +187 MB; with it, ~15 goroutines and flat memory",
  wrong: "never canceled",
  right: "using ctx = withTimeout(...)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const n = options.requests;
    progress.step(`missing-cancel: wrong variant, ${formatCount(n)} requests`);
    const wrong = await serve(leakyHandler, n, "missing-cancel: wrong", progress);
    progress.step(`missing-cancel: right variant, ${formatCount(n)} requests`);
    const right = await serve(handler, n, "missing-cancel: right", progress);
    const heapLabel =
      garbageCollector() === null
        ? "heap growth (no GC available: rough)"
        : "heap growth, after GC";
    return {
      setup:
        `${formatCount(n)} requests, ${formatCount(Math.min(n, CONCURRENCY))} at a time, through one ` +
        `long-lived server context; each derives withTimeout(server, ` +
        `${formatCount(REQUEST_TIMEOUT_MS)} ms) and starts a waiter on ctx.done`,
      rows: [
        numberRow(
          "live",
          "request contexts still live",
          "count",
          wrong.live,
          right.live,
          formatCount,
        ),
        numberRow(
          "dependents",
          "children linked under the server context",
          "count",
          wrong.dependents,
          right.dependents,
          formatCount,
        ),
        numberRow(
          "timers",
          "deadline timers still armed",
          "count",
          wrong.armedTimers,
          right.armedTimers,
          formatCount,
        ),
        numberRow(
          "waiters",
          "waiters still pending (the Go article's goroutines)",
          "count",
          wrong.pendingWaiters,
          right.pendingWaiters,
          formatCount,
        ),
        numberRow("heap", heapLabel, "bytes", wrong.heapBytes, right.heapBytes, formatBytesDelta),
        numberRow(
          "time",
          `time to serve ${formatCount(n)} requests`,
          "ms",
          wrong.elapsedMs,
          right.elapsedMs,
          formatMs,
        ),
        numberRow(
          "shutdown",
          "server.cancel() at shutdown",
          "ms",
          wrong.shutdownMs,
          right.shutdownMs,
          formatMs,
        ),
      ],
      findings: findings(n, wrong, right),
    };
  },
};
