// timebound/http against the usual way (fetch with AbortSignal.timeout): a response whose body
// trickles for 2 s, cut off by a 50 ms deadline while the body is being read, many times. Per
// run: deadline → the caller's res.text() rejected, deadline → the server saw its response
// close, and whether the next request on the same pool worked. Plus fetch(ctx)'s cost on a small
// response over loopback, as a ratio against undici's fetch alone (goal: at most 5% slower).
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, fetch as undiciFetch, request } from "undici";
import { background, now, withTimeout } from "../../src/index.js";
import { contextDispatcher, fetch } from "../../src/io/http/index.js";
import { startServerProcess } from "../../src/testing/server-process.js";
import { type Row, comparePaired } from "../harness.js";
import { type CancelSample, type IoBenchEnv, type LatencyRow, summarize } from "./latency.js";

const DEADLINE_MS = 50;
/** The server streams a chunk this often, for this long: the deadline always lands mid-body. */
const CHUNK_EVERY_MS = 5;
const STREAM_MS = 2_000;
/** Give up waiting for the server to see a response close this long after its deadline. */
const WATCH_LIMIT_MS = 3_000;
/** The next request counts as working if it answers within this. */
const NEXT_CALL_LIMIT_MS = 1_000;

/** A loopback server: `/stream/...` trickles for 2 s and reports when each response closed. */
class BenchServer {
  private readonly server: Server;
  private readonly closed = new Map<string, (at: number) => void>();
  url = "";

  constructor() {
    this.server = createServer((req, res) => {
      const path = req.url ?? "";
      if (!path.startsWith("/stream/")) {
        res.end("ok");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.flushHeaders();
      const until = now() + STREAM_MS;
      const timer = setInterval(() => {
        if (now() >= until) res.end();
        else res.write("x".repeat(64));
      }, CHUNK_EVERY_MS);
      res.on("close", () => {
        clearInterval(timer);
        this.closed.get(path)?.(now());
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with when the response at `path` closed, or null past the watch limit. */
  whenClosed(path: string): Promise<number | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), WATCH_LIMIT_MS + STREAM_MS);
      this.closed.set(path, (at) => {
        clearTimeout(timer);
        this.closed.delete(path);
        resolve(at);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One way of reading `/stream/...` under a 50 ms deadline; returns the deadline's instant. */
type Variant = (url: string, pool: Agent) => { deadline: number; done: Promise<unknown> };

const timeboundFetch: Variant = (url, pool) => {
  const ctx = withTimeout(background(), DEADLINE_MS, { name: "bench" });
  const done = fetch(ctx, url, { dispatcher: pool }).then((res) => res.text());
  return { deadline: ctx.deadline!, done: done.finally(() => ctx.cancel()) };
};

const timeboundRequest: Variant = (url, pool) => {
  const ctx = withTimeout(background(), DEADLINE_MS, { name: "bench" });
  const done = request(url, { dispatcher: contextDispatcher(ctx, pool) }).then((res) =>
    res.body.text(),
  );
  return { deadline: ctx.deadline!, done: done.finally(() => ctx.cancel()) };
};

const usualFetch: Variant = (url, pool) => {
  const deadline = now() + DEADLINE_MS;
  const signal = AbortSignal.timeout(DEADLINE_MS);
  return { deadline, done: undiciFetch(url, { signal, dispatcher: pool }).then((r) => r.text()) };
};

async function nextCallWorks(server: BenchServer, pool: Agent): Promise<boolean> {
  try {
    const res = await undiciFetch(`${server.url}/small`, {
      dispatcher: pool,
      signal: AbortSignal.timeout(NEXT_CALL_LIMIT_MS),
    });
    return (await res.text()) === "ok";
  } catch {
    return false;
  }
}

/** `runs` runs of `variant`, one after another, on one pool. */
async function samples(
  server: BenchServer,
  name: string,
  variant: Variant,
  runs: number,
): Promise<CancelSample[]> {
  const pool = new Agent();
  const out: CancelSample[] = [];
  try {
    await nextCallWorks(server, pool); // connected before the first run
    for (let i = 0; i < runs; i++) {
      const path = `/stream/${name}/${i}`;
      const closed = server.whenClosed(path);
      const { deadline, done } = variant(`${server.url}${path}`, pool);
      const released = await done.then(
        () => {
          throw new Error(`bench http: ${name}: a 2 s body was read within ${DEADLINE_MS} ms`);
        },
        () => now(),
      );
      const nextCallOk = await nextCallWorks(server, pool);
      const closedAt = await closed;
      out.push({
        callerMs: released - deadline,
        workMs: closedAt === null ? null : Math.max(0, closedAt - deadline),
        nextCallOk,
      });
    }
  } finally {
    await pool.destroy();
  }
  return out;
}

/**
 * An upstream in a process of its own that answers "ok": as in production, its work (parsing
 * one more header, say) is not the client's, and it runs beside the client instead of taking
 * turns with it on one event loop.
 */
async function upstreamProcess(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = await startServerProcess(
    process.execPath,
    [
      "-e",
      'require("node:http").createServer((q, s) => s.end("ok")).listen(0, "127.0.0.1", function () {' +
        ' console.log("listening " + this.address().port); })',
    ],
    /listening \d+/,
    { name: "bench upstream", timeoutMs: 10_000 },
  );
  const port = /listening (\d+)/.exec(server.output())?.[1];
  if (port === undefined) throw new Error(`bench http: upstream said ${server.output()}`);
  return { url: `http://127.0.0.1:${port}/small`, stop: () => server.stop() };
}

/**
 * fetch(ctx)'s cost on a small response against `url`: 10 requests in flight per call, on one
 * keep-alive pool; with a deadline (so the header is sent), and without; and, for scale, what
 * undici and the server pay for that one header when it is set by hand. Timed pair by pair
 * ({@link comparePaired}): a loopback request is ~100 µs, and a 5% goal cannot be told from noise
 * with rounds of hundreds of ms on a shared machine. `goal`: whether the rows carry the goal.
 */
async function overhead(url: string, where: string, goal: number | undefined): Promise<Row[]> {
  const pool = new Agent();
  const ctx = withTimeout(background(), 600_000, { name: "bench" });
  const batch = 10;
  const many = (get: () => Promise<string>) => () =>
    Promise.all(Array.from({ length: batch }, get));
  const anchor = {
    name: "undici fetch(url) + text()",
    // eslint-disable-next-line timebound/context-propagation -- the anchor this bench measures timebound against
    fn: many(() => undiciFetch(url, { dispatcher: pool }).then((r) => r.text())),
  };
  try {
    const withDeadline = await comparePaired(
      `http fetch(ctx) + text(), ${where}`,
      {
        name: "fetch(ctx, url) + text()",
        fn: many(() => fetch(ctx, url, { dispatcher: pool }).then((r) => r.text())),
      },
      anchor,
      { batch, goal },
    );
    const noDeadline = await comparePaired(
      `http fetch(background()), no header, ${where}`,
      {
        name: "fetch(background(), url) + text()",
        fn: many(() => fetch(background(), url, { dispatcher: pool }).then((r) => r.text())),
      },
      anchor,
      { batch, goal },
    );
    // What the header alone costs undici and the server, for comparison: no goal.
    const byHand = await comparePaired(
      `http undici + header by hand, ${where}`,
      {
        name: "undici fetch(url, { headers }) + text()",
        fn: many(() =>
          // eslint-disable-next-line timebound/context-propagation -- the anchor this bench measures timebound against
          undiciFetch(url, { dispatcher: pool, headers: { "timebound-timeout": "599999m" } }).then(
            (r) => r.text(),
          ),
        ),
      },
      anchor,
      { batch },
    );
    return [withDeadline, noDeadline, byHand];
  } finally {
    ctx.cancel();
    await pool.destroy();
  }
}

/**
 * Cancellation latency of timebound/http beside fetch with AbortSignal.timeout, over `env.runs`
 * runs each, against a loopback server of its own.
 *
 * @example
 * ```ts
 * const { latency, overhead } = await run({ pgUrl: undefined, redisUrl: undefined, runs: 200 });
 * ```
 */
export async function run(env: IoBenchEnv): Promise<{ latency: LatencyRow[]; overhead?: Row[] }> {
  const server = new BenchServer();
  await server.listen();
  try {
    const latency = [
      summarize(
        "http",
        "timebound fetch(ctx) + text()",
        await samples(server, "fetch", timeboundFetch, env.runs),
      ),
      summarize(
        "http",
        "timebound contextDispatcher + request()",
        await samples(server, "request", timeboundRequest, env.runs),
      ),
      summarize(
        "http",
        "undici fetch + AbortSignal.timeout + text()",
        await samples(server, "usual", usualFetch, env.runs),
      ),
    ];
    // The goal is the client's cost, so the upstream runs in a process of its own; the same
    // against the in-process server (which then also pays for parsing the header) for scale.
    const upstream = await upstreamProcess();
    try {
      return {
        latency,
        overhead: [
          ...(await overhead(upstream.url, "upstream process", 0.95)),
          ...(await overhead(`${server.url}/small`, "in-process server", undefined)),
        ],
      };
    } finally {
      await upstream.stop();
    }
  } finally {
    await server.close();
  }
}
