// A fetch made inside run(ctx, …) without ctx.signal keeps going after the context ended: the
// caller waits, the upstream keeps sending. The tracker sees it as an operation of ctx still
// running after ctx ended (ignored-cancellation); timebound/http's fetch(ctx) stops with ctx.
import { startInterval, startTimer } from "../core/internal.js";
import { type Server, type ServerResponse, createServer } from "node:http";
import { type Context, background, run, withTimeout } from "../core/index.js";
import type * as HttpAdapter from "../io/http/index.js";
import { sleep } from "../sync/sleep.js";
import { formatCount, formatMs } from "./format.js";
import type { LabOptions } from "./options.js";
import type { Progress, Scenario, ScenarioResult } from "./scenario.js";
import { errorText, skippedResult } from "./skipped.js";
import {
  dumpSentences,
  findingsRow,
  findingsOf,
  labTrackOptions,
  numberRow,
  textRow,
} from "./tracked.js";
import { type VariantName, trackedPair } from "./tracked-pair.js";
import { closeNow, listenLoopback } from "../testing/loopback.js";

/** The caller's deadline, unscaled. */
const DEADLINE_MS = 600;
/** The upstream thinks this long before its headers, then trickles its body, unscaled. */
const HEADERS_AFTER_MS = 1_600;
const BODY_MS = 3_200;
/** The upstream writes a chunk this often (the grain of the measurement; not scaled). */
const CHUNK_EVERY_MS = 20;
const CHUNK = "x".repeat(256);
/** The snapshot is taken this long after the deadline, while the wrong fetch still waits. */
const SNAPSHOT_AFTER_DEADLINE_MS = 150;

/** What the upstream sent for one request, and when. */
interface UpstreamLog {
  readonly writes: { at: number; bytes: number }[];
  closedAt: number | undefined;
}

/** A loopback upstream that is slow to answer and slow to send, logging every write. */
class SlowUpstream {
  readonly logs = new Map<string, UpstreamLog>();
  readonly #server: Server;
  url = "";

  readonly #headersAfterMs: number;
  readonly #bodyMs: number;

  constructor(headersAfterMs: number, bodyMs: number) {
    this.#headersAfterMs = headersAfterMs;
    this.#bodyMs = bodyMs;
    this.#server = createServer((req, res) => this.#answer(req.url ?? "", res));
  }

  async listen(): Promise<void> {
    this.url = await listenLoopback(this.#server);
  }

  close(): Promise<void> {
    return closeNow(this.#server);
  }

  #answer(path: string, res: ServerResponse): void {
    const log: UpstreamLog = { writes: [], closedAt: undefined };
    this.logs.set(path, log);
    let timer: NodeJS.Timeout | undefined;
    const start = performance.now();
    const headers = startTimer(() => {
      res.writeHead(200, { "content-type": "text/plain" });
      timer = startInterval(() => {
        if (performance.now() - start >= this.#headersAfterMs + this.#bodyMs) {
          res.end();
          return;
        }
        res.write(CHUNK);
        log.writes.push({ at: performance.now(), bytes: CHUNK.length });
      }, CHUNK_EVERY_MS);
    }, this.#headersAfterMs);
    res.on("close", () => {
      clearTimeout(headers);
      clearInterval(timer);
      log.closedAt = performance.now();
    });
  }
}

/** ❌ The program's own fetch, inside run(ctx, …), without ctx.signal: it ignores the deadline. */
async function fetchReportIgnoringCtx(ctx: Context, url: string): Promise<string> {
  return run(ctx, async () => {
    // eslint-disable-next-line timebound/context-propagation -- the lab's wrong variant, on purpose
    const response = await globalThis.fetch(url);
    return response.text();
  });
}

/** ✅ timebound/http's fetch(ctx): the deadline covers the headers and the whole body. */
function fetchReport(adapter: typeof HttpAdapter) {
  return async (ctx: Context, url: string): Promise<string> => {
    const response = await adapter.fetch(ctx, url);
    return response.text();
  };
}

type Call = (ctx: Context, url: string) => Promise<string>;

interface Outcome {
  readonly callerMs: number;
  readonly result: string;
  readonly bytesAfterDeadline: number;
  /** Deadline → the upstream's response closed. */
  readonly upstreamAfterDeadlineMs: number;
  /** Operations of an ended context still running at the snapshot (the tracker's count). */
  readonly runningAfterEnd: number;
}

async function callOnce(
  call: Call,
  upstream: SlowUpstream,
  path: string,
  deadlineMs: number,
  takeSnapshot: () => void,
): Promise<Omit<Outcome, "runningAfterEnd">> {
  const start = performance.now();
  const ctx = withTimeout(background(), deadlineMs, { name: "report" });
  const deadlineAt = start + deadlineMs;
  let endedAt = 0;
  const pending = call(ctx, upstream.url + path).then(
    (body) => `${formatCount(body.length)} B body`,
    (err: unknown) => errorText(err),
  );
  void pending.finally(() => (endedAt = performance.now()));
  await sleep(background(), deadlineMs + SNAPSHOT_AFTER_DEADLINE_MS);
  takeSnapshot();
  const result = await pending;
  ctx.cancel();
  const log = upstream.logs.get(path);
  // Wait for the upstream to see the connection close (the right variant aborted it).
  for (let i = 0; i < 50 && log !== undefined && log.closedAt === undefined; i++)
    await sleep(background(), 20);
  const bytesAfterDeadline = (log?.writes ?? [])
    .filter((w) => w.at > deadlineAt)
    .reduce((sum, w) => sum + w.bytes, 0);
  return {
    callerMs: endedAt - start,
    result,
    bytesAfterDeadline,
    upstreamAfterDeadlineMs: Math.max(0, (log?.closedAt ?? performance.now()) - deadlineAt),
  };
}

async function loadAdapter(): Promise<typeof HttpAdapter | string> {
  try {
    await import("undici");
    return await import("../io/http/index.js");
  } catch (err) {
    return `timebound/http needs undici (${errorText(err)})`;
  }
}

/** @internal Seed section 2.3: a call that is not given the context keeps going after its deadline. */
export const fetchSignal: Scenario = {
  id: "fetch-signal",
  title: "a fetch inside run(ctx) that is not given the context's signal",
  goArticle:
    "section 2.3: http.Client.Do(req.WithContext(ctx)) stops at the deadline (DNS, TLS, " +
    "reading the body); a call that is not given ctx keeps going, and only a goroutine dump shows it",
  wrong: "run(ctx, () => fetch(url))",
  right: "fetch(ctx, url) (timebound/http)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const adapter = await loadAdapter();
    if (typeof adapter === "string") return skippedResult("fetch without the signal", adapter);
    const deadlineMs = DEADLINE_MS * options.scale;
    const headersAfterMs = HEADERS_AFTER_MS * options.scale;
    const bodyMs = BODY_MS * options.scale;
    const upstream = new SlowUpstream(headersAfterMs, bodyMs);
    await upstream.listen();
    const calls: Record<VariantName, Call> = {
      wrong: fetchReportIgnoringCtx,
      right: fetchReport(adapter),
    };
    let pair;
    try {
      const detail = `deadline ${formatMs(deadlineMs)}`;
      pair = await trackedPair("fetch-signal", options, progress, detail, (name) => ({
        track: labTrackOptions({ ignoredCancellationMs: SNAPSHOT_AFTER_DEADLINE_MS / 2 }),
        body: async (tracking, takeSnapshot) => {
          let running = 0;
          const outcome = await callOnce(calls[name], upstream, `/${name}`, deadlineMs, () => {
            takeSnapshot();
            running = tracking
              .findings()
              .filter((f) => f.kind === "ignored-cancellation")
              .reduce(
                (n, f) => n + (typeof f.details?.count === "number" ? f.details.count : 1),
                0,
              );
          });
          return { ...outcome, runningAfterEnd: running };
        },
      }));
    } finally {
      await upstream.close();
    }
    const { wrong, right } = pair;
    const w = wrong.value;
    const r = right.value;
    const ignored = findingsOf(wrong.snapshot, "ignored-cancellation")[0];
    return {
      setup:
        `a loopback upstream answers after ${formatMs(headersAfterMs)}, then sends ` +
        `${CHUNK.length} B every ${CHUNK_EVERY_MS} ms for ${formatMs(bodyMs)}; the caller's ` +
        `deadline is ${formatMs(deadlineMs)} (times scaled by x${options.scale}); the tracker's ` +
        `snapshot is taken ${formatMs(SNAPSHOT_AFTER_DEADLINE_MS)} after the deadline`,
      rows: [
        numberRow("caller", "caller waited", "ms", w.callerMs, r.callerMs, formatMs),
        textRow("result", "what the caller got", w.result, r.result),
        numberRow(
          "running",
          "operations still running after their context ended (tracker)",
          "count",
          w.runningAfterEnd,
          r.runningAfterEnd,
          formatCount,
        ),
        numberRow(
          "bytes",
          "bytes the upstream sent after the deadline",
          "bytes",
          w.bytesAfterDeadline,
          r.bytesAfterDeadline,
          (n) => `${formatCount(n)} B`,
        ),
        numberRow(
          "upstream",
          "upstream busy after the deadline",
          "ms",
          w.upstreamAfterDeadlineMs,
          r.upstreamAfterDeadlineMs,
          formatMs,
        ),
        findingsRow(wrong, right),
      ],
      findings: [
        `Without the signal the caller waited ${formatMs(w.callerMs)} against a ` +
          `${formatMs(deadlineMs)} deadline and the upstream sent ` +
          `${formatCount(w.bytesAfterDeadline)} B after it; fetch(ctx) returned after ` +
          `${formatMs(r.callerMs)} and the upstream sent ${formatCount(r.bytesAfterDeadline)} B.`,
        ignored === undefined
          ? "The tracker did not report the ignored cancellation (unexpected)."
          : `The tracker: ${ignored.message}`,
        ...dumpSentences(wrong, right),
      ],
    };
  },
};
