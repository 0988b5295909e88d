import type { IncomingMessage, ServerResponse } from "node:http";
import { describeValue, invalidType, readOptions } from "../core/internal.js";
import { findingMarkers, toGrowthCsv, toGrowthSvg } from "./curves.js";
import { escapeHtml, toFlameGraphHtml } from "./flamegraph.js";
import { toFolded } from "./folded.js";
import type { Snapshot } from "./model.js";
import { type SnapshotBounds, resolveBounds } from "./options.js";
import { toPprof } from "./pprof.js";
import { ProfileBusyError, cpuProfile, heapProfile } from "./runtime-profiles.js";
import { toJson } from "./report-json.js";
import { NOT_TRACKING, toTextReport } from "./report-text.js";
import { activeTracking } from "./track.js";

/** Options of {@link debugHandler}. */
export interface DebugHandlerOptions {
  /** Path the handler answers under; other paths are passed on. Default "/debug/timebound". */
  readonly prefix?: string;
  /** Snapshot bounds for every route. Default: the tracking options' bounds. */
  readonly bounds?: SnapshotBounds;
  /**
   * What to do with paths outside the prefix: "pass" leaves them to the caller (or `next`);
   * "404" answers them, for a server of its own. Default "pass".
   */
  readonly otherPaths?: "pass" | "404";
}

type Body = string | Buffer;
interface Reply {
  readonly type: string;
  readonly body: Body;
  readonly filename?: string;
}

const TEXT = "text/plain; charset=utf-8";

/** Routes that need a snapshot, by path under the prefix. */
const ROUTES: Readonly<Record<string, (s: Snapshot, debug: 1 | 2) => Reply | Promise<Reply>>> = {
  "/contexts": (s, debug) => ({
    type: TEXT,
    body: toTextReport(s, { debug, sections: ["contexts"] }),
  }),
  "/operations": (s, debug) => ({
    type: TEXT,
    body: toTextReport(s, { debug, sections: ["operations"] }),
  }),
  "/findings": (s, debug) => ({
    type: TEXT,
    body: toTextReport(s, { debug, sections: ["findings"] }),
  }),
  "/timers": (s, debug) => ({
    type: TEXT,
    body: toTextReport(s, { debug, sections: ["timers"] }),
  }),
  "/alive": (s, debug) => ({
    type: TEXT,
    body: toTextReport(s, { debug, sections: ["alive"] }),
  }),
  "/dump": (s, debug) => ({ type: TEXT, body: toTextReport(s, { debug }) }),
  "/snapshot.json": (s) => ({ type: "application/json; charset=utf-8", body: toJson(s) }),
  "/profile.pb.gz": async (s) => ({
    type: "application/octet-stream",
    body: await toPprof(s),
    filename: `timebound-${s.pid}.pb.gz`,
  }),
  "/findings.pb.gz": async (s) => ({
    type: "application/octet-stream",
    body: await toPprof(s, { items: "findings" }),
    filename: `timebound-${s.pid}-findings.pb.gz`,
  }),
  "/stacks.folded": (s) => ({ type: TEXT, body: toFolded(s) }),
  "/flamegraph.html": (s) => ({
    type: "text/html; charset=utf-8",
    body: toFlameGraphHtml(s, { title: `timebound: pid ${s.pid} at ${s.takenAtWall}` }),
  }),
  "/growth.csv": (s) => ({
    type: "text/csv; charset=utf-8",
    body: toGrowthCsv(s.samples, { markers: findingMarkers(s) }),
  }),
  "/growth.svg": (s) => ({
    type: "image/svg+xml",
    body: toGrowthSvg(s.samples, { markers: findingMarkers(s) }),
  }),
};

/** Routes that run a V8 profiler for `?seconds=N` (default, max) and answer gzipped pprof. */
const PROFILES: Readonly<
  Record<
    string,
    { readonly take: typeof cpuProfile; readonly seconds: number; readonly name: string }
  >
> = {
  "/profile": { take: cpuProfile, seconds: 30, name: "cpu" },
  "/heap": { take: heapProfile, seconds: 10, name: "heap" },
};
const MAX_PROFILE_SECONDS = 600;
const MIN_PROFILE_SECONDS = 0.1;

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  "/goroutine":
    "Go's name: pprof of live contexts and operations (go tool pprof <url>); ?debug=1 grouped text, ?debug=2 every item",
  "/profile": "CPU profile of the next ?seconds=N (default 30), pprof: go tool pprof <url>",
  "/heap": "sampled allocations of the next ?seconds=N (default 10) still live at the end, pprof",
  "/cmdline": "the process's command line, arguments separated by NUL, as Go's",
  "/contexts":
    "live contexts grouped by creation stack (?debug=2: each with state, age, created by)",
  "/operations": "operations in progress: waits, adapter work, ambient fetches and timers",
  "/findings":
    "never canceled, collected uncanceled, ignored cancellation, leaked timers, late deadlines, growth",
  "/timers":
    "timers still armed (setTimeout sampled, every setInterval), grouped by creation stack",
  "/alive": "what keeps the process alive: resources by type, servers and sockets, timers by stack",
  "/dump": "all of the above in one text",
  "/snapshot.json": "the snapshot as JSON",
  "/profile.pb.gz": "pprof profile of live contexts and operations (go tool pprof, speedscope)",
  "/findings.pb.gz": "pprof profile of the findings, each weighing what it found",
  "/stacks.folded": "folded stacks (flamegraph.pl, speedscope)",
  "/flamegraph.html": "flame graph, self-contained",
  "/growth.csv": "growth samples as CSV",
  "/growth.svg": "growth curves as SVG",
};

/**
 * Runs a profiler for `?seconds=N` and answers its pprof; 400 for a bad `seconds`, 409 while
 * one of the same kind runs, 500 when the inspector is unavailable. A client that goes away
 * stops the profiler early.
 */
function serveProfile(
  url: URL,
  res: ServerResponse,
  profile: (typeof PROFILES)[string],
  head: boolean,
): void {
  const given = url.searchParams.get("seconds");
  const seconds = given === null ? profile.seconds : Number(given);
  if (
    given !== null &&
    (!/^(\d+(\.\d*)?|\.\d+)$/.test(given) ||
      seconds < MIN_PROFILE_SECONDS ||
      seconds > MAX_PROFILE_SECONDS)
  ) {
    const body = `seconds must be a number from ${MIN_PROFILE_SECONDS} to ${MAX_PROFILE_SECONDS}, got ${JSON.stringify(given)}\n`;
    send(res, 400, { type: TEXT, body }, head);
    return;
  }
  const type = "application/octet-stream";
  if (head) {
    send(res, 200, { type, body: "" }, true);
    return;
  }
  const stopped = new AbortController();
  res.once("close", () => stopped.abort(new Error("the client went away")));
  profile.take(seconds, stopped.signal).then(
    (body) =>
      send(
        res,
        200,
        { type, body, filename: `timebound-${process.pid}-${profile.name}.pb.gz` },
        false,
      ),
    (err: unknown) => {
      if (stopped.signal.aborted) return;
      const status = err instanceof ProfileBusyError ? 409 : 500;
      const text = `timebound: ${profile.name} profile failed: ${err instanceof Error ? err.message : String(err)}\n`;
      send(res, status, { type: TEXT, body: text }, false);
    },
  );
}

function send(res: ServerResponse, status: number, reply: Reply, head: boolean): void {
  const headers: Record<string, string | number> = {
    "content-type": reply.type,
    "content-length": Buffer.byteLength(reply.body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };
  if (reply.filename !== undefined) {
    headers["content-disposition"] = `attachment; filename="${reply.filename}"`;
  }
  res.writeHead(status, headers);
  res.end(head ? undefined : reply.body);
}

function indexPage(prefix: string, s: Snapshot | undefined): string {
  const summary =
    s === undefined
      ? `<pre>${escapeHtml(NOT_TRACKING)}</pre>`
      : `<p>pid ${s.pid}: ${s.findings.length + s.omitted.findings} findings, ` +
        `${s.contexts.length + s.omitted.contexts} live contexts, ` +
        `${s.operations.length + s.omitted.operations} operations.</p>`;
  const links = Object.entries(DESCRIPTIONS)
    .map(([path, what]) => {
      const href = `${prefix}${path}`;
      const debug2 =
        path === "/contexts" || path === "/operations"
          ? ` (<a href="${href}?debug=2">debug=2</a>)`
          : "";
      return `<li><a href="${href}">${path.slice(1)}</a>${debug2}: ${escapeHtml(what)}</li>`;
    })
    .join("\n");
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>timebound diagnostics</title></head>` +
    `<body><h1>timebound diagnostics</h1>${summary}<ul>\n${links}\n</ul></body></html>\n`
  );
}

function normalizePrefix(prefix: unknown): string {
  if (typeof prefix !== "string" || !prefix.startsWith("/")) {
    throw invalidType(
      `debugHandler: options.prefix must be a path starting with "/", got ${describeValue(prefix)}`,
    );
  }
  return prefix.replace(/\/+$/, "");
}

/**
 * A request handler for node:http (and Express or Connect, which pass `next`) that serves the
 * diagnostics under `/debug/timebound/`, as net/http/pprof serves `/debug/pprof/`: an index page,
 * `contexts`, `operations`, `findings` and `dump` as text (`?debug=1` grouped by stack with
 * counts, `?debug=2` item by item), `snapshot.json`, `profile.pb.gz`, `stacks.folded`,
 * `flamegraph.html`, `growth.csv` and `growth.svg`; and Go's names, so that `go tool pprof
 * http://host/debug/timebound/goroutine` works: `goroutine` (pprof, `?debug=1|2` text),
 * `profile?seconds=N` (a CPU profile), `heap?seconds=N` (sampled live allocations), `cmdline`.
 * Returns true when it answered; other paths are passed to `next`, if given, and return false
 * (or, with `otherPaths: "404"`, are answered 404). While nothing is tracked, the snapshot
 * routes answer 503 with how to turn tracking on (the CPU and heap profiles work regardless). The pages show code locations: mount it
 * on an internal port.
 *
 * @example
 * ```ts
 * const debug = debugHandler();
 * http.createServer((req, res) => debug(req, res) || app(req, res)).listen(6060, "127.0.0.1");
 * ```
 */
export function debugHandler(
  options: DebugHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => boolean {
  const fn = "debugHandler";
  const o = readOptions(options, fn, ["prefix", "bounds", "otherPaths"]);
  const prefix = normalizePrefix(o.raw("prefix") ?? "/debug/timebound");
  const bounds = o.raw("bounds");
  if (bounds !== undefined) resolveBounds(bounds, fn, "options.bounds");
  const otherPaths = o.oneOf("otherPaths", "pass", ["pass", "404"] as const);
  return (req, res, next) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) {
      if (otherPaths === "404") {
        send(res, 404, { type: TEXT, body: `not found: ${path}; try ${prefix}/\n` }, false);
        return true;
      }
      next?.();
      return false;
    }
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      res.setHeader("allow", "GET, HEAD");
      send(
        res,
        405,
        { type: TEXT, body: `method ${String(req.method)} not allowed; use GET\n` },
        head,
      );
      return true;
    }
    const route = path.slice(prefix.length) || "/";
    const tracking = activeTracking();
    if (route === "/") {
      send(
        res,
        200,
        {
          type: "text/html; charset=utf-8",
          body: indexPage(prefix, tracking?.snapshot(bounds)),
        },
        head,
      );
      return true;
    }
    if (route === "/cmdline") {
      send(res, 200, { type: TEXT, body: process.argv.join("\u0000") }, head);
      return true;
    }
    const profile = PROFILES[route];
    if (profile !== undefined) {
      serveProfile(url, res, profile, head);
      return true;
    }
    // Go's goroutine profile: pprof without ?debug (what go tool pprof fetches), text with it.
    const goroutine = route === "/goroutine";
    const debugParam = url.searchParams.get("debug") ?? (goroutine ? "0" : "1");
    const render = goroutine
      ? ROUTES[debugParam === "0" ? "/profile.pb.gz" : "/dump"]
      : ROUTES[route];
    if (render === undefined) {
      const known = [...Object.keys(DESCRIPTIONS)].map((r) => `${prefix}${r}`).join(", ");
      send(
        res,
        404,
        { type: TEXT, body: `not found: ${path}\nroutes: ${prefix}/, ${known}\n` },
        head,
      );
      return true;
    }
    if (debugParam !== "1" && debugParam !== "2" && !(goroutine && debugParam === "0")) {
      const allowed = goroutine ? "0, 1 or 2" : "1 or 2";
      send(
        res,
        400,
        { type: TEXT, body: `debug must be ${allowed}, got ${JSON.stringify(debugParam)}\n` },
        head,
      );
      return true;
    }
    if (tracking === undefined) {
      send(res, 503, { type: TEXT, body: NOT_TRACKING }, head);
      return true;
    }
    Promise.resolve()
      .then(() => render(tracking.snapshot(bounds), debugParam === "2" ? 2 : 1))
      .then(
        (reply) => send(res, 200, reply, head),
        (err: unknown) => {
          const text = `timebound: ${route} failed: ${err instanceof Error ? err.message : String(err)}\n`;
          if (!res.headersSent) send(res, 500, { type: TEXT, body: text }, head);
          else res.destroy();
        },
      );
    return true;
  };
}
