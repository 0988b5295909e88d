// The service of the three-tier scenario: a node:http server on loopback whose every request
// calls one upstream (the fault-injecting one) through a variant's policies, and a log of how
// each request ended, kept on the service's side so that requests still open when the load stops
// are counted too (a load generator forgets them).
import * as http from "node:http";
import {
  type Context,
  type Key,
  background,
  createKey,
  now,
  withCancel,
  withValue,
} from "../core/index.js";
import { closeNow, listenLoopback } from "../testing/loopback.js";

/** @internal What a variant answers: the upstream's body, or a stand-in for it. */
export interface Answer {
  readonly body: string;
  /** True when a fallback (cache or default) answered instead of the upstream. */
  readonly fallback: boolean;
}

/** @internal How one request to the service ended. */
export interface RequestRecord {
  /** When it arrived, ms from the start of the load. */
  readonly startMs: number;
  /** When it ended (answered, client gone, or still open at the stop), same clock. */
  readonly endMs: number;
  /** `fresh`: the upstream's answer; `fallback`: a stand-in; `error`: anything else. */
  readonly outcome: "fresh" | "fallback" | "error";
  /**
   * Still waiting when the load stopped (the load generator closed its connection, or the
   * service closed): its latency is a lower bound and its outcome unknown.
   */
  readonly open: boolean;
}

/**
 * @internal One call to the upstream for `ctx`'s item, which obeys `ctx` unless `ignoreContext`
 * (the unprotected variant: it waits whatever happens); rejects on a non-200 status.
 */
export type UpstreamCall = (
  ctx: Context,
  options?: { readonly ignoreContext?: boolean },
) => Promise<Answer>;

/** @internal A variant's handler: answers one request, calling the upstream through its policies. */
export type Handler = (request: Context, call: UpstreamCall) => Promise<Answer>;

/** @internal The upstream path a request asks for (`/items/7`): also the stale cache's key. */
export const ItemKey: Key<string> = createKey<string>("three-tier item");

/** @internal A non-200 answer of the upstream, as an error carrying its status (retry reads it). */
export class UpstreamStatusError extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

/**
 * @internal The service: listens on loopback, runs `handler` for each request, and logs every
 * request's end. `stop()` closes it and logs the requests still open as errors.
 */
export class ThreeTierService {
  readonly records: RequestRecord[] = [];
  url = "";
  readonly #server: http.Server;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  readonly #open = new Set<{ startMs: number }>();
  #zero = now();
  #stopped = false;
  #loadEndMs: number | undefined;

  constructor(upstreamUrl: string, handler: Handler) {
    const call = this.#call.bind(this, upstreamUrl);
    this.#server = http.createServer((req, res) => {
      const entry = { startMs: now() - this.#zero };
      this.#open.add(entry);
      const path = req.url ?? "/";
      const request = withCancel(background(), { name: "three-tier request" });
      let done = false;
      const finish = (outcome: RequestRecord["outcome"]): void => {
        if (done) return;
        done = true;
        this.#open.delete(entry);
        const endMs = now() - this.#zero;
        const cut =
          outcome === "error" && this.#loadEndMs !== undefined && endMs >= this.#loadEndMs;
        this.records.push({ ...entry, endMs, outcome, open: cut });
        request.cancel(); // the client has its answer or has gone: the work may stop
      };
      res.on("close", () => finish("error")); // the client went away first (or the load stopped)
      const item = /^\/items\/\w+$/.test(path) ? path : "/items/none";
      const ctx = withValue(request, ItemKey, item);
      handler(ctx, call).then(
        (answer) => {
          res.writeHead(answer.fallback ? 203 : 200, { "content-type": "text/plain" });
          res.end(answer.body, () => finish(answer.fallback ? "fallback" : "fresh"));
        },
        (err: unknown) => {
          if (res.destroyed) return;
          res.writeHead(err instanceof Error && err.name === "TimeoutError" ? 504 : 502);
          res.end(() => finish("error"));
        },
      );
    });
  }

  async listen(): Promise<void> {
    this.url = await listenLoopback(this.#server);
  }

  /** Starts the clock the records use: call it as the load starts. */
  startClock(): void {
    this.#zero = now();
  }

  /**
   * When the load generator stops, on the records' clock: a request whose client goes away
   * from then on was cut by the stop, not given up on, and is logged as open.
   */
  expectLoadEnd(ms: number): void {
    this.#loadEndMs = ms;
  }

  /** Closes the service and its upstream connections; logs still-open requests as errors. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const stopMs = now() - this.#zero;
    for (const entry of this.#open) {
      this.records.push({ ...entry, endMs: stopMs, outcome: "error", open: true });
    }
    this.#open.clear();
    this.#agent.destroy(); // hung upstream calls end here, so the upstream's count settles
    await closeNow(this.#server);
  }

  #call(
    upstreamUrl: string,
    ctx: Context,
    options?: { readonly ignoreContext?: boolean },
  ): Promise<Answer> {
    const signal = options?.ignoreContext === true ? undefined : ctx.signal;
    const path = ctx.value(ItemKey) ?? "/items/none";
    return new Promise<Answer>((resolve, reject) => {
      const req = http.get(`${upstreamUrl}${path}`, { agent: this.#agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          if (res.statusCode === 200) {
            resolve({ body: Buffer.concat(chunks).toString("utf8"), fallback: false });
          } else reject(new UpstreamStatusError(res.statusCode ?? 0));
        });
      });
      req.on("error", (err) => reject((signal !== undefined ? ctx.err : undefined) ?? err));
    });
  }
}
