// The front service of the fan-out scenario: a node:http server that, for each request, calls the
// five dependencies under one deadline, the way one strategy says, and counts what happened. Every
// strategy makes its calls with the same client (node:http with the call's context's signal, a
// cheap client: the machine's CPU goes to the load, not to the client), so only the time each call
// is given differs.
import { Agent, type Server, createServer, get } from "node:http";
import { LatencyTracker, batch } from "../fanout/index.js";
import { type Context, DeadlineExceeded, background, now, withTimeout } from "../core/index.js";
import { closeNow, listenLoopback } from "../testing/loopback.js";
import { DEPENDENCIES, FAN_OUT_DEADLINE_MS } from "./fan-out-graph.js";

/** @internal How a request's calls are timed. */
export type Strategy = "static" | "whole" | "dynamic";

/** @internal What the front service counted while one strategy served. */
export interface FrontCounts {
  /** Requests answered. */
  requests: number;
  /** Requests whose required parts all answered within the deadline. */
  succeeded: number;
  /** Optional parts present in the successful answers. */
  optionalPresent: number;
  /** Calls made. */
  calls: number;
  /** Calls ended by their deadline (a timeout or budget) before they were answered. */
  cutOff: number;
  /** The sum of those calls' durations: time held on calls whose answer nobody got. */
  cutOffMs: number;
}

/** @internal Options of the dynamic strategy's latency tracker: a short window for a short run. */
export const TRACKER_WINDOW = { windowMs: 2_000, slices: 4 } as const;

/** @internal The strategies, in the order the table shows them. */
export const STRATEGIES: readonly Strategy[] = ["static", "whole", "dynamic"];

/**
 * @internal A node:http front service on loopback. It serves the three strategies at once, each
 * on a path of its own (`/static`, `/whole`, `/dynamic`) and calling dependencies of its own (the
 * upstream's `/static/users`...): the strategies share the machine's load, hiccups included, but
 * not their dependencies' in-flight counts.
 */
export class FrontService {
  readonly #server: Server;
  /** Keep-alive connections to the upstream, as many as the calls in flight need. */
  readonly #pool = new Agent({ keepAlive: true });
  readonly #upstreamUrl: string;
  /** The dynamic strategy's latency history. */
  #tracker = new LatencyTracker(TRACKER_WINDOW);
  #counts = new Map<Strategy, FrontCounts>();
  #firstRequest: (() => void) | undefined;
  url = "";

  constructor(upstreamUrl: string) {
    this.#upstreamUrl = upstreamUrl;
    this.reset();
    this.#server = createServer((req, res) => {
      req.resume();
      const strategy = STRATEGIES.find((s) => req.url?.startsWith(`/${s}`));
      if (strategy === undefined) {
        res.writeHead(404);
        res.end();
        return;
      }
      const first = this.#firstRequest;
      this.#firstRequest = undefined;
      first?.();
      void this.#serve(strategy).then(
        (body) => {
          res.writeHead(body === undefined ? 504 : 200, { "content-type": "application/json" });
          res.end(body ?? '{"error":"a required part is missing"}');
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  }

  listen(): Promise<void> {
    return listenLoopback(this.#server).then((url) => {
      this.url = url;
    });
  }

  async close(): Promise<void> {
    await closeNow(this.#server);
    this.#pool.destroy();
  }

  /**
   * Counts from zero, and the dynamic strategy starts with no history; `onFirstRequest` runs
   * when the next request arrives.
   */
  reset(onFirstRequest?: () => void): void {
    for (const s of STRATEGIES) this.#counts.set(s, emptyCounts());
    this.#tracker = new LatencyTracker(TRACKER_WINDOW);
    this.#firstRequest = onFirstRequest;
  }

  /** What `strategy` counted since the last {@link FrontService.reset}. */
  counts(strategy: Strategy): FrontCounts {
    const c = this.#counts.get(strategy) ?? emptyCounts();
    return { ...c };
  }

  /** One request: the body to answer with, or undefined if a required part is missing. */
  async #serve(strategy: Strategy): Promise<string | undefined> {
    const c = this.#counts.get(strategy) ?? emptyCounts();
    using ctx = withTimeout(background(), FAN_OUT_DEADLINE_MS, { name: "fan-out request" });
    const parts =
      strategy === "dynamic" ? await this.#dynamic(ctx, c) : await this.#fixed(ctx, strategy, c);
    c.requests++;
    // Every call ran under a context that ended by the deadline: an answer is in time.
    if (!DEPENDENCIES.every((d) => d.optional || parts.has(d.name))) return undefined;
    c.succeeded++;
    c.optionalPresent += DEPENDENCIES.filter((d) => d.optional && parts.has(d.name)).length;
    return JSON.stringify(Object.fromEntries(parts));
  }

  /** Strategies 1 and 2: every call at once with a fixed timeout, then whatever answered. */
  async #fixed(request: Context, strategy: Strategy, c: FrontCounts): Promise<Map<string, string>> {
    const settled = await Promise.allSettled(
      DEPENDENCIES.map(async (d) => {
        // "static": the config's timeout, counted from the call's start, as most clients do;
        // "whole": the request's deadline for every call.
        using ctx =
          strategy === "static"
            ? // eslint-disable-next-line timebound/no-new-root-context -- the "static" strategy the lab compares: a timeout counted from the call's start, not the request's
              withTimeout(background(), d.staticTimeoutMs, { name: d.name })
            : withTimeout(request, FAN_OUT_DEADLINE_MS, { name: d.name });
        return [d.name, await this.#call(ctx, `/${strategy}${d.path}`, c)] as const;
      }),
    );
    return new Map(settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : [])));
  }

  /** Strategy 3: a batch with budgets from live latency, drift compensation, optional parts. */
  async #dynamic(request: Context, c: FrontCounts): Promise<Map<string, string>> {
    const calls = Object.fromEntries(
      DEPENDENCIES.map((d) => [
        d.name,
        {
          run: (ctx: Context) => this.#call(ctx, `/dynamic${d.path}`, c),
          dependency: d.name,
          optional: d.optional,
          weight: d.weight,
          // A required call never gets less than its static timeout: the config it replaces.
          ...(d.optional ? {} : { floorMs: d.staticTimeoutMs }),
        },
      ]),
    );
    try {
      const { values } = await batch(request, calls, { tracker: this.#tracker, name: "fan-out" });
      return new Map(
        Object.entries(values).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : [])),
      );
    } catch {
      return new Map(); // a required part is missing: the answer is an error either way
    }
  }

  /** One call; counts it, and its duration if its context ended before it was answered. */
  async #call(ctx: Context, path: string, c: FrontCounts): Promise<string> {
    const start = now();
    c.calls++;
    try {
      const { status, body } = await getText(ctx, `${this.#upstreamUrl}${path}/1`, this.#pool);
      if (status !== 200) throw new Error(`${path} answered ${status}`);
      return body;
    } catch (err) {
      // Ended by its deadline (a timeout or budget), not by a batch that no longer needed it.
      if (ctx.err instanceof DeadlineExceeded) {
        c.cutOff++;
        c.cutOffMs += now() - start;
      }
      throw err;
    }
  }
}

function emptyCounts(): FrontCounts {
  return {
    requests: 0,
    succeeded: 0,
    optionalPresent: 0,
    calls: 0,
    cutOff: 0,
    cutOffMs: 0,
  };
}

/** GET `url` and read its body, abandoned (socket destroyed) when `ctx` ends. */
function getText(
  ctx: Context,
  url: string,
  agent: Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    if (ctx.err !== undefined) {
      reject(ctx.err);
      return;
    }
    const req = get(url, { agent, signal: ctx.signal }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}
