// fetch() resolves at the headers. A timeout that is not given to it (a Promise.race) releases
// the caller while the response goes on streaming and holds its connection; a signal that is
// given to it but fires while the body is read later reaches the body only as a bare AbortError
// (nodejs/undici#3296), or not at all (nodejs/node#56917). This scenario measures both beside
// timebound/http's fetch(ctx), from the caller's side and from the upstream's own log.
import { startInterval } from "../core/internal.js";
import { type Server, type ServerResponse, createServer } from "node:http";
import type { Agent } from "undici";
import type * as HttpAdapter from "../io/http/index.js";
import { background, now, withTimeout, withoutCancel } from "../core/index.js";
import { formatCount, formatMs } from "./format.js";
import { raceTimer } from "./race-timer.js";
import { sleep } from "../sync/sleep.js";
import { scaled } from "./nested-deadlines.js";
import type { LabOptions } from "./options.js";
import type { Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { skippedResult } from "./skipped.js";
import { closeNow, listenLoopback } from "../testing/loopback.js";

/** The caller's deadline and how long the upstream streams its body, unscaled. */
const DEADLINE_MS = 1_000;
const STREAM_MS = 8_000;
/** The upstream writes a chunk this often (not scaled: it is the grain of the measurement). */
const CHUNK_EVERY_MS = 20;
const CHUNK = "x".repeat(64);

type Fetch = (input: string, init?: Record<string, unknown>) => Promise<Response>;
type Adapter = typeof HttpAdapter;

/** The upstream's own log of one response. */
interface UpstreamLog {
  readonly startedAt: number;
  closedAt: number | undefined;
  finished: boolean;
  /** When each chunk was written. */
  readonly writes: number[];
  closed: Promise<void>;
}

/** An in-process upstream on a loopback port that logs what it sent, and when. */
class Upstream {
  /** By request path: the variants run at once, each on a path of its own. */
  readonly logs = new Map<string, UpstreamLog>();
  readonly #server: Server;
  url = "";

  readonly #streamMs: number;

  constructor(streamMs: number) {
    this.#streamMs = streamMs;
    this.#server = createServer((req, res) => {
      if (req.url === "/small") {
        res.end("ok");
        return;
      }
      this.#stream(req.url ?? "", res);
    });
  }

  async listen(): Promise<void> {
    this.url = await listenLoopback(this.#server);
  }

  close(): Promise<void> {
    return closeNow(this.#server);
  }

  #stream(path: string, res: ServerResponse): void {
    let closed: () => void = () => {};
    const log: UpstreamLog = {
      startedAt: now(),
      closedAt: undefined,
      finished: false,
      writes: [],
      closed: new Promise((resolve) => (closed = resolve)),
    };
    this.logs.set(path, log);
    res.writeHead(200, { "content-type": "text/plain" });
    res.flushHeaders();
    const until = log.startedAt + this.#streamMs;
    const timer = startInterval(() => {
      if (now() >= until) {
        res.end();
        return;
      }
      res.write(CHUNK);
      log.writes.push(now());
    }, CHUNK_EVERY_MS);
    res.on("close", () => {
      clearInterval(timer);
      log.closedAt = now();
      log.finished = res.writableFinished;
      closed();
    });
  }
}

/** @internal What one variant did, as the caller and as the upstream saw it. */
export interface FetchOutcome {
  /** The measured wait of the caller (what it is depends on the case). */
  readonly callerMs: number;
  /** What the caller got: the error's class and the start of its message. */
  readonly error: string;
  /** Deadline → the upstream's response closed; null: still open at the end of the run. */
  readonly upstreamAfterDeadlineMs: number | null;
  /** Bytes the upstream wrote after the deadline. */
  readonly bytesAfterDeadline: number;
  /** The next request on the same pool, issued as soon as the caller got control back. */
  readonly next: { readonly ok: boolean; readonly ms: number; readonly error: string | undefined };
}

/** One side of a case: makes the call under `deadlineMs`; resolves when the caller is released. */
type Call = (url: string, deadlineMs: number, pool: Agent) => Promise<{ waitedMs: number }>;

interface Case {
  readonly key: string;
  readonly label: string;
  /** What `callerMs` measures, for the table. */
  readonly callerMeasure: string;
  readonly wrong: (fetch: Fetch) => Call;
  readonly right: (adapter: Adapter) => Call;
}

/** Times `work` from now to its end, whichever way it ends; rethrows its error. */
async function timed(work: () => Promise<unknown>): Promise<{ waitedMs: number }> {
  const start = now();
  try {
    await work();
  } catch (err) {
    if (err instanceof Error) throw Object.assign(err, { waitedMs: now() - start });
    throw err;
  }
  return { waitedMs: now() - start };
}

const CASES: readonly Case[] = [
  {
    key: "a",
    label: "fetch + res.text() inside a Promise.race with a timer, no signal",
    callerMeasure: "caller waited",
    wrong: (fetch) => (url, deadlineMs, pool) => {
      const read = fetch(url, { dispatcher: pool }).then((res) => res.text());
      read.catch(() => {}); // it outlives the race; its end is the upstream's business
      return timed(() => raceTimer(read, deadlineMs));
    },
    right: (adapter) => (url, deadlineMs, pool) =>
      timed(async () => {
        using ctx = withTimeout(background(), deadlineMs, { name: "lab fetch" });
        const res = await adapter.fetch(ctx, url, { dispatcher: pool });
        return await res.text(); // await: `using` cancels ctx when the function returns
      }),
  },
  {
    key: "b",
    label: "fetch with AbortSignal.timeout, the body read after the deadline",
    callerMeasure: "res.text(), called after the deadline, took",
    wrong: (fetch) => async (url, deadlineMs, pool) => {
      const res = await fetch(url, { signal: AbortSignal.timeout(deadlineMs), dispatcher: pool });
      await sleep(background(), deadlineMs * 1.5); // the application does something else first
      return timed(() => res.text());
    },
    right: (adapter) => async (url, deadlineMs, pool) => {
      using ctx = withTimeout(background(), deadlineMs, { name: "lab fetch" });
      const res = await adapter.fetch(ctx, url, { dispatcher: pool });
      // The application does something else first, past the deadline on purpose: withoutCancel.
      await sleep(withoutCancel(ctx), deadlineMs * 1.5);
      return await timed(() => res.text()); // await: `using` cancels ctx when the function returns
    },
  },
];

/**
 * An error's class (and its name, where that says more: a DOMException's name is the whole story)
 * and the first clause of its message.
 */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cls = err.constructor.name;
  const what = err.name === cls ? cls : `${cls} (${err.name})`;
  return `${what}: ${err.message.split(/[:;]/)[0]!.trim()}`;
}

async function measure(
  AgentClass: new (options: { connections: number }) => Agent,
  upstream: Upstream,
  call: Call,
  path: string,
  deadlineMs: number,
  streamMs: number,
): Promise<FetchOutcome> {
  // One connection per origin: a bounded pool, as a service client would have.
  const pool = new AgentClass({ connections: 1 });
  try {
    const small = await fetchWith(pool, `${upstream.url}/small`); // connected before the clock
    if (small !== "ok") throw new Error(`lab: upstream answered ${small}`);
    const start = now();
    const deadline = start + deadlineMs;
    let error = "none (unexpected: it returned)";
    let callerMs: number;
    try {
      callerMs = (await call(`${upstream.url}${path}`, deadlineMs, pool)).waitedMs;
    } catch (err) {
      error = errorText(err);
      callerMs = (err as { waitedMs?: number }).waitedMs ?? now() - start;
    }
    const nextStart = now();
    const next = await raceTimer(fetchWith(pool, `${upstream.url}/small`), streamMs * 2).then(
      () => ({ ok: true, ms: now() - nextStart, error: undefined }),
      (err: unknown) => ({ ok: false, ms: now() - nextStart, error: errorText(err) }),
    );
    const log = upstream.logs.get(path);
    if (log === undefined) throw new Error("lab: the upstream saw no request");
    await raceTimer(log.closed, streamMs * 2).catch(() => {});
    return {
      callerMs,
      error,
      upstreamAfterDeadlineMs:
        log.closedAt === undefined ? null : Math.max(0, log.closedAt - deadline),
      bytesAfterDeadline: log.writes.filter((t) => t > deadline).length * CHUNK.length,
      next,
    };
  } finally {
    await pool.destroy();
  }
}

async function fetchWith(pool: Agent, url: string): Promise<string> {
  const undici = await import("undici");
  const res = await undici.fetch(url, { dispatcher: pool });
  return res.text();
}

interface CaseResult {
  readonly c: Case;
  readonly wrong: FetchOutcome;
  readonly right: FetchOutcome;
}

function rows(r: CaseResult): ResultRow[] {
  const group = `(${r.c.key}) ${r.c.label}`;
  const key = r.c.key;
  const upstream = (o: FetchOutcome): { value: number | null; text: string } =>
    o.upstreamAfterDeadlineMs === null
      ? { value: null, text: "still sending at the end" }
      : { value: o.upstreamAfterDeadlineMs, text: formatMs(o.upstreamAfterDeadlineMs) };
  const next = (o: FetchOutcome): { value: number; text: string } => ({
    value: o.next.ms,
    text: o.next.ok
      ? `answered after ${formatMs(o.next.ms)}`
      : `failed after ${formatMs(o.next.ms)} (${o.next.error ?? "?"})`,
  });
  return [
    {
      key: `${key}.caller`,
      group,
      measure: r.c.callerMeasure,
      unit: "ms",
      wrong: { value: r.wrong.callerMs, text: formatMs(r.wrong.callerMs) },
      right: { value: r.right.callerMs, text: formatMs(r.right.callerMs) },
    },
    {
      key: `${key}.error`,
      group,
      measure: "caller got",
      wrong: { value: r.wrong.error, text: r.wrong.error },
      right: { value: r.right.error, text: r.right.error },
    },
    {
      key: `${key}.upstream`,
      group,
      measure: "upstream kept sending after the deadline (its own log)",
      unit: "ms",
      wrong: upstream(r.wrong),
      right: upstream(r.right),
    },
    {
      key: `${key}.bytes`,
      group,
      measure: "bytes the upstream sent after the deadline",
      unit: "bytes",
      wrong: { value: r.wrong.bytesAfterDeadline, text: formatCount(r.wrong.bytesAfterDeadline) },
      right: { value: r.right.bytesAfterDeadline, text: formatCount(r.right.bytesAfterDeadline) },
    },
    {
      key: `${key}.next`,
      group,
      measure: "next request on the same pool (1 connection)",
      unit: "ms",
      wrong: next(r.wrong),
      right: next(r.right),
    },
  ];
}

function findings(results: readonly CaseResult[], streamMs: number): string[] {
  const out: string[] = [];
  const streamedOn = results.filter(
    (r) =>
      r.wrong.upstreamAfterDeadlineMs === null || r.wrong.upstreamAfterDeadlineMs > streamMs / 2,
  );
  if (streamedOn.length > 0) {
    out.push(
      `In ${streamedOn.map((r) => `(${r.c.key})`).join(", ")} the caller was released at the ` +
        `deadline but the response streamed on to its end (${formatMs(streamMs)}): nothing told ` +
        `the connection to close.`,
    );
  }
  const wedged = results.filter((r) => !r.wrong.next.ok || r.wrong.next.ms > streamMs / 4);
  if (wedged.length > 0) {
    out.push(
      `In ${wedged.map((r) => `(${r.c.key})`).join(", ")} the next request waited behind the ` +
        `abandoned response: the pool's one connection was still busy with it.`,
    );
  }
  const bare = results.filter((r) => !r.wrong.error.startsWith("DeadlineExceeded"));
  const b = results.find((r) => r.c.key === "b");
  if (b !== undefined && bare.includes(b)) {
    out.push(
      `In (b) the signal did reach the body, but the caller got "${b.wrong.error}": nothing ` +
        `says which deadline passed, or that it was one.`,
    );
  }
  const rights = results.map((r) => r.right);
  const worstUpstream = Math.max(...rights.map((r) => r.upstreamAfterDeadlineMs ?? Infinity));
  const worstNext = Math.max(...rights.map((r) => (r.next.ok ? r.next.ms : Infinity)));
  out.push(
    worstUpstream === Infinity ||
      worstNext === Infinity ||
      rights.some((r) => !r.error.startsWith("DeadlineExceeded"))
      ? "Unexpected: with timebound the upstream streamed on, the next request failed, or the " +
          "caller got something other than DeadlineExceeded."
      : `With timebound the caller got DeadlineExceeded at the deadline (also when it read the ` +
          `body later), the upstream saw its connection close within ` +
          `${formatMs(worstUpstream)} of it, and the next request answered in ` +
          `${formatMs(worstNext)} or less.`,
  );
  return out;
}

async function load(): Promise<
  | { AgentClass: new (options: { connections: number }) => Agent; adapter: Adapter; fetch: Fetch }
  | string
> {
  try {
    // Loaded here: undici is an optional peer dependency, and the lab must run without it.
    const [undici, adapter] = await Promise.all([import("undici"), import("../io/http/index.js")]);
    return {
      AgentClass: undici.Agent,
      adapter,
      fetch: undici.fetch as unknown as Fetch,
    };
  } catch (err) {
    return `undici is not installed (${errorText(err)})`;
  }
}

/** @internal Seed section 2.3: does a timeout stop the I/O underneath? Here, an HTTP client's. */
export const httpFetch: Scenario = {
  id: "http-fetch",
  title: "an HTTP call whose timeout releases the caller but not the response",
  goArticle:
    "section 2.3 compares an HTTP client, a database driver and a channel: whether the timeout " +
    "interrupts the I/O underneath, and whether the connection is fit for the next call",
  wrong: "fetch, timed out the usual way",
  right: "fetch(ctx, url)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const loaded = await load();
    if (typeof loaded === "string") return skippedResult("http-fetch", loaded);
    const { AgentClass, adapter, fetch } = loaded;
    const deadlineMs = scaled(DEADLINE_MS, options.scale);
    const streamMs = scaled(STREAM_MS, options.scale);
    const upstream = new Upstream(streamMs);
    await upstream.listen();
    const results: CaseResult[] = [];
    try {
      for (const c of CASES) {
        progress.step(`http-fetch: (${c.key}) ${c.label}, about ${formatMs(streamMs)}`);
        const [wrong, right] = await Promise.all([
          measure(AgentClass, upstream, c.wrong(fetch), `/${c.key}/wrong`, deadlineMs, streamMs),
          measure(AgentClass, upstream, c.right(adapter), `/${c.key}/right`, deadlineMs, streamMs),
        ]);
        results.push({ c, wrong, right });
      }
    } finally {
      await upstream.close();
    }
    return {
      setup:
        `an upstream on loopback sends its headers, then ${CHUNK.length} B every ` +
        `${CHUNK_EVERY_MS} ms for ${formatMs(streamMs)}; the caller's deadline is ` +
        `${formatMs(deadlineMs)} (times scaled by x${options.scale}); each variant has its own ` +
        `undici Agent of one connection per origin, and both run at once`,
      rows: results.flatMap(rows),
      findings: findings(results, streamMs),
    };
  },
};
