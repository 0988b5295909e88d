// The fault-injecting upstream's own process (started by startFaultUpstream): a bare node:http
// server that applies the profile to each request, and an admin server on a second port that
// reads the counts and changes the profile. argv[2] is the checked configuration as JSON. It
// prints one line when both listen: `fault-upstream ready {"port":…,"adminPort":…}`.
import * as http from "node:http";
import { startTimer } from "../core/internal.js";
import {
  type CheckedConfig,
  type CheckedOutage,
  type CheckedProfile,
  checkFaultConfig,
  sampleLatency,
} from "./fault-upstream-profile.js";
import { SeededRandom } from "./fault-upstream-random.js";
import {
  type FaultRouteStats,
  type FaultUpstreamStats,
  PerSecond,
  routeStats,
} from "./fault-upstream-stats.js";

const HOST = "127.0.0.1";
const DEFAULT_ROUTE = "default";

/** A route as it serves now: its profile, its generator and its counters. */
interface Route {
  readonly prefix: string;
  readonly profile: CheckedProfile;
  readonly random: SeededRandom;
  readonly stats: FaultRouteStats;
}

class Upstream {
  #routes: Route[] = [];
  #fallback!: Route;
  #seed = 0;
  #configuredAt = 0;
  #since = performance.now();
  #routeStats = new Map<string, FaultRouteStats>();
  #all = routeStats();
  #byStatus: Record<string, number> = {};
  #injected = { errors: 0, outageFailures: 0, hangs: 0, resets: 0 };
  #perSecond = new PerSecond();

  constructor(config: CheckedConfig) {
    this.#seed = config.seed ?? (Math.random() * 2 ** 32) >>> 0;
    this.configure(config, false);
  }

  /** `keep`: a configuration without a seed goes on drawing from the generators it had. */
  configure(config: CheckedConfig, keep = config.seed === undefined): void {
    if (config.seed !== undefined) this.#seed = config.seed;
    const seedOf = (i: number): number => (this.#seed + Math.imul(i, 0x9e3779b1)) >>> 0;
    const randomFor = (prefix: string, i: number): SeededRandom =>
      (keep ? this.#find(prefix)?.random : undefined) ?? new SeededRandom(seedOf(i));
    this.#routes = config.routes.map((r, i) => ({
      prefix: r.prefix,
      profile: r.profile,
      random: randomFor(r.prefix, i + 1),
      stats: this.#statsOf(r.prefix),
    }));
    this.#fallback = {
      prefix: DEFAULT_ROUTE,
      profile: config.profile,
      random: randomFor(DEFAULT_ROUTE, 0),
      stats: this.#statsOf(DEFAULT_ROUTE),
    };
    this.#configuredAt = performance.now();
  }

  #find(prefix: string): Route | undefined {
    if (prefix === DEFAULT_ROUTE) return this.#fallback;
    return this.#routes.find((r) => r.prefix === prefix);
  }

  #statsOf(prefix: string): FaultRouteStats {
    let s = this.#routeStats.get(prefix);
    if (s === undefined) this.#routeStats.set(prefix, (s = routeStats()));
    return s;
  }

  #second(now: number): number {
    return Math.floor((now - this.#since) / 1000);
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const now = performance.now();
    const url = req.url ?? "/";
    let route = this.#fallback;
    for (const r of this.#routes) {
      if (url.startsWith(r.prefix)) {
        route = r;
        break;
      }
    }
    const { profile, random, stats } = route;
    const all = this.#all;
    const inFlightBefore = stats.inFlight;
    all.received++;
    stats.received++;
    if (++all.inFlight > all.peakInFlight) all.peakInFlight = all.inFlight;
    if (++stats.inFlight > stats.peakInFlight) stats.peakInFlight = stats.inFlight;
    this.#perSecond.add(this.#perSecond.received, this.#second(now));
    // Always five draws, whatever happens: one fault does not shift the next request's draws.
    const uReset = random.next();
    const uHang = random.next();
    const uError = random.next();
    const u1 = random.next();
    const u2 = random.next();
    const request = new Pending(this, res, all, stats);
    res.once("close", () => request.closed());
    req.resume(); // a body is read and dropped

    const outage = activeOutage(profile.outages, now - this.#configuredAt);
    let factor = 1;
    if (outage !== undefined) {
      switch (outage.mode) {
        case "fail":
          this.#injected.outageFailures++;
          request.answer(
            outage.status,
            "fault-upstream: outage\n",
            "outage",
            0,
            profile.retryAfterSeconds,
          );
          return;
        case "hang":
          this.#injected.hangs++;
          return;
        case "reset":
          this.#injected.resets++;
          request.reset(req);
          return;
        case "slow":
          factor = outage.factor;
      }
    }
    if (uReset < profile.resetRate) {
      this.#injected.resets++;
      request.reset(req);
      return;
    }
    if (uHang < profile.hangRate) {
      this.#injected.hangs++;
      return;
    }
    let delay = sampleLatency(profile.latency, u1, u2) * factor;
    if (profile.capacity > 0) delay *= 1 + inFlightBefore / profile.capacity;
    const error = uError < profile.errorRate;
    if (error) {
      this.#injected.errors++;
      if (profile.failFast) delay = 0;
    }
    const status = error ? profile.errorStatus : profile.status;
    const body = error ? "fault-upstream: injected error\n" : profile.body;
    request.answerAfter(
      delay,
      status,
      body,
      error ? "error" : "ok",
      error ? profile.retryAfterSeconds : undefined,
    );
  }

  /** A response went out in full. */
  answered(status: number, now: number): void {
    this.#byStatus[status] = (this.#byStatus[status] ?? 0) + 1;
    this.#perSecond.add(this.#perSecond.answered, this.#second(now));
  }

  cancelled(now: number): void {
    this.#perSecond.add(this.#perSecond.cancelled, this.#second(now));
  }

  stats(): FaultUpstreamStats {
    const now = performance.now();
    const p = this.#perSecond;
    return {
      ...this.#all,
      seed: this.#seed,
      sinceMs: now - this.#since,
      configuredMsAgo: now - this.#configuredAt,
      byStatus: { ...this.#byStatus },
      injected: { ...this.#injected },
      perSecond: {
        firstSecond: p.firstSecond,
        received: [...p.received],
        answered: [...p.answered],
        cancelled: [...p.cancelled],
      },
      routes: Object.fromEntries([...this.#routeStats].map(([k, v]) => [k, { ...v }])),
    };
  }

  resetStats(): void {
    const fresh = (s: FaultRouteStats): void => {
      Object.assign(s, routeStats(s.inFlight));
    };
    fresh(this.#all);
    for (const s of this.#routeStats.values()) fresh(s);
    this.#byStatus = {};
    this.#injected = { errors: 0, outageFailures: 0, hangs: 0, resets: 0 };
    this.#perSecond = new PerSecond();
    this.#since = performance.now();
  }
}

/** One request in progress: it ends once, by an answer, a reset or the client's leaving. */
class Pending {
  #timer: ReturnType<typeof startTimer> | undefined;
  #done = false;
  #reset = false;

  constructor(
    readonly upstream: Upstream,
    readonly res: http.ServerResponse,
    readonly all: FaultRouteStats,
    readonly route: FaultRouteStats,
  ) {}

  answerAfter(
    delayMs: number,
    status: number,
    body: string,
    kind: string,
    retryAfter: number | undefined,
  ): void {
    if (delayMs <= 0) {
      this.answer(status, body, kind, 0, retryAfter);
      return;
    }
    this.#timer = startTimer(() => {
      this.#timer = undefined;
      this.answer(status, body, kind, delayMs, retryAfter);
    }, delayMs);
  }

  answer(
    status: number,
    body: string,
    kind: string,
    delayMs: number,
    retryAfter: number | undefined,
  ): void {
    const headers: http.OutgoingHttpHeaders = {
      "content-type": "text/plain; charset=utf-8",
      "x-fault": kind,
      "x-fault-delay-ms": delayMs.toFixed(3),
    };
    if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  reset(req: http.IncomingMessage): void {
    this.#reset = true;
    req.socket.resetAndDestroy();
  }

  closed(): void {
    if (this.#done) return;
    this.#done = true;
    const now = performance.now();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.all.inFlight--;
    this.route.inFlight--;
    if (this.res.writableFinished) {
      this.all.answered++;
      this.route.answered++;
      this.upstream.answered(this.res.statusCode, now);
    } else if (!this.#reset) {
      this.all.cancelled++;
      this.route.cancelled++;
      this.upstream.cancelled(now);
    }
  }
}

function activeOutage(outages: readonly CheckedOutage[], t: number): CheckedOutage | undefined {
  for (const w of outages) {
    const at = w.everyMs > 0 ? t % w.everyMs : t;
    if (at >= w.fromMs && at < w.toMs) return w;
  }
  return undefined;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > 16 * 1024 * 1024) req.destroy(new Error("admin request too large"));
    });
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

function admin(upstream: Upstream): http.RequestListener {
  const reply = (res: http.ServerResponse, status: number, body?: unknown): void => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json" }).end(text);
  };
  return (req, res) => {
    const route = `${req.method} ${req.url}`;
    if (route === "GET /stats") return reply(res, 200, upstream.stats());
    if (route === "POST /stats/reset") {
      upstream.resetStats();
      return reply(res, 204);
    }
    if (route === "PUT /config") {
      readBody(req).then(
        (text) => {
          try {
            upstream.configure(checkFaultConfig("configure", JSON.parse(text), "config"));
            reply(res, 204);
          } catch (err) {
            reply(res, 400, { error: err instanceof Error ? err.message : String(err) });
          }
        },
        () => reply(res, 400, { error: "could not read the request body" }),
      );
      return;
    }
    reply(res, 404, { error: `no ${route}; try GET /stats, POST /stats/reset, PUT /config` });
  };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

// Checked by startFaultUpstream already.
const upstream = new Upstream(JSON.parse(process.argv[2] ?? "") as CheckedConfig);
const server = http.createServer((req, res) => upstream.handle(req, res));
// Longer than a client's idle keep-alive (undici: 4 s), so the client closes first, never racing us.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0; // a hang lasts until the client goes
const adminServer = http.createServer(admin(upstream));
// No top-level await: this file is also built as CommonJS.
void Promise.all([listen(server), listen(adminServer)]).then(([port, adminPort]) => {
  process.stdout.write(`fault-upstream ready ${JSON.stringify({ port, adminPort })}\n`);
});
