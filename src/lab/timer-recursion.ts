import { startTimer } from "../core/internal.js";
import { type Context, background, withCancel, withTimeout } from "../core/index.js";
import { sleep } from "../sync/sleep.js";
import { ticker } from "../sync/ticker.js";
import { formatBytesDelta, formatCount, formatMs } from "./format.js";
import { liveHeapBytes } from "./gc.js";
import type { LabOptions } from "./options.js";
import type { Progress, Scenario, ScenarioResult } from "./scenario.js";
import {
  armedTimeouts,
  dumpSentences,
  findingsRow,
  findingsOf,
  labTrackOptions,
  numberRow,
} from "./tracked.js";
import { trackedPair } from "./tracked-pair.js";

/** Run length at scale 1 (1.5 s at the default 0.25). */
const RUN_MS = 6_000;
/** A request arrives this often; each starts a cleanup loop. */
const REQUEST_EVERY_MS = 10;
/** How long a request lives in the right variant (its cleanup loop ends with it). */
const REQUEST_MS = 150;
/** The cleanup period: the seed's 5 s, shortened so the loop recurs during the run. */
const CLEANUP_EVERY_MS = 100;

/** What a cleanup loop does each period; counted so the two variants can be compared. */
interface CleanupLoad {
  calls: number;
}

function cleanupDB(load: CleanupLoad): void {
  load.calls++;
}

/**
 * The wrong variant's timers, so the lab can clear them afterwards: the seed's loop has no
 * exit, and a lab must leave nothing behind.
 */
class PendingTimers {
  readonly handles = new Set<NodeJS.Timeout>();
  clearAll(): void {
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
  }
}

/** ❌ Seed 2.2's `time.AfterFunc` recursion: each call re-arms itself forever. */
function startCleanup(load: CleanupLoad, pending: PendingTimers): void {
  // A user's plain setTimeout, on purpose: the diagnostics must find this loop as written.
  // eslint-disable-next-line no-restricted-globals
  const handle = setTimeout(() => {
    pending.handles.delete(handle);
    cleanupDB(load);
    startCleanup(load, pending); // recursive restart, no exit condition
  }, CLEANUP_EVERY_MS);
  pending.handles.add(handle);
}

/** ✅ A ticker bound to the request's context: the loop ends when the request does. */
async function cleanupWhileLive(ctx: Context, load: CleanupLoad): Promise<void> {
  for await (const tick of ticker(ctx, CLEANUP_EVERY_MS)) {
    void tick;
    cleanupDB(load);
  }
}

interface Outcome {
  readonly requests: number;
  readonly armedAtEnd: number;
  readonly cleanupsPerSecondAtEnd: number;
  readonly heapBytes: number;
  readonly elapsedMs: number;
}

async function serve(
  wrong: boolean,
  runMs: number,
  label: string,
  progress: Progress,
  takeSnapshot: () => void,
): Promise<Outcome> {
  const load: CleanupLoad = { calls: 0 };
  const pending = new PendingTimers();
  // A deadline past the run: the lab's own server is not what the tracker should report.
  const server = withTimeout(background(), runMs + 60_000, { name: "server" });
  const loops: Promise<void>[] = [];
  const heapBefore = liveHeapBytes();
  const timersBefore = armedTimeouts();
  const start = performance.now();
  let requests = 0;
  try {
    while (performance.now() - start < runMs) {
      requests++;
      if (wrong) {
        startCleanup(load, pending);
      } else {
        const request = withCancel(server, { name: "request" });
        loops.push(cleanupWhileLive(request, load));
        startTimer(() => request.cancel(), REQUEST_MS);
      }
      await sleep(server, REQUEST_EVERY_MS);
      if (requests % 20 === 0) progress.tick(`${label}: ${formatCount(requests)} requests`);
    }
    const elapsedMs = performance.now() - start;
    // Cleanup calls during one more period: the seed's "time.startTimer +15/s".
    const callsBefore = load.calls;
    await sleep(server, CLEANUP_EVERY_MS * 2);
    const cleanupsPerSecondAtEnd = ((load.calls - callsBefore) * 1000) / (CLEANUP_EVERY_MS * 2);
    takeSnapshot(); // before the teardown below clears what the wrong variant left armed
    return {
      requests,
      armedAtEnd: armedTimeouts() - timersBefore,
      cleanupsPerSecondAtEnd,
      heapBytes: liveHeapBytes() - heapBefore,
      elapsedMs,
    };
  } finally {
    pending.clearAll();
    server.cancel(new Error("lab: server shut down"));
    await Promise.allSettled(loops);
  }
}

/** @internal Seed section 2.2: a cleanup loop that re-arms itself forever vs a ticker bound to a context. */
export const timerRecursion: Scenario = {
  id: "timer-recursion",
  title: "a cleanup loop that re-arms its timer forever (time.AfterFunc recursion)",
  goArticle:
    "section 2.2 reports for a Go service whose time.AfterFunc cleanup restarts itself: " +
    "> 3,200 goroutines instead of ~120, time.startTimer +15 calls/s and growing",
  wrong: "setTimeout re-arming itself",
  right: "ticker(ctx) ending with the request",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const runMs = RUN_MS * options.scale;
    const { wrong, right } = await trackedPair(
      "timer-recursion",
      options,
      progress,
      formatMs(runMs),
      (name) => ({
        track: labTrackOptions(),
        body: (_tracking, takeSnapshot) =>
          serve(name === "wrong", runMs, `timer-recursion: ${name}`, progress, takeSnapshot),
      }),
    );
    const growth = (s: typeof wrong) => findingsOf(s.snapshot, "timer-growth").length;
    const w = wrong.value;
    const r = right.value;
    return {
      setup:
        `a request every ${REQUEST_EVERY_MS} ms for ${formatMs(runMs)}; each starts a cleanup ` +
        `loop with a ${CLEANUP_EVERY_MS} ms period (the Go article's 5 s, shortened); right-variant ` +
        `requests last ${REQUEST_MS} ms`,
      rows: [
        numberRow("requests", "requests served", "count", w.requests, r.requests, formatCount),
        numberRow(
          "timers",
          "timers armed at the end (the Go article's goroutines)",
          "count",
          w.armedAtEnd,
          r.armedAtEnd,
          formatCount,
        ),
        numberRow(
          "cleanups",
          "cleanup calls per second at the end",
          "count",
          w.cleanupsPerSecondAtEnd,
          r.cleanupsPerSecondAtEnd,
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
        findingsRow(wrong, right),
      ],
      findings: [
        `The self-re-arming loop left ${formatCount(w.armedAtEnd)} timers armed after ` +
          `${formatCount(w.requests)} requests and ran cleanup ${formatCount(w.cleanupsPerSecondAtEnd)} ` +
          `times a second, growing with every request; bound to the request's context, ` +
          `${formatCount(r.armedAtEnd)} and ${formatCount(r.cleanupsPerSecondAtEnd)}.`,
        growth(wrong) > 0 && growth(right) === 0
          ? "The tracker's growth verdict flags the armed-timer count of the wrong variant only " +
            "(timer-growth, with the stack of startCleanup)."
          : `The tracker reported timer-growth ${growth(wrong)} time(s) for wrong and ` +
            `${growth(right)} for right.`,
        ...dumpSentences(wrong, right),
      ],
    };
  },
};
