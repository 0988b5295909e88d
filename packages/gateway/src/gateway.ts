// The gateway as a value: a node:http request handler over a compiled configuration, which a
// reload swaps for new requests while requests in flight finish under the one they started with.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import {
  type CancelableContext,
  type Context,
  afterFunc,
  background,
  isCanceled,
  isDeadlineExceeded,
  now,
  withCancel,
  withValue,
} from "timebound";
import { requestContexts } from "timebound/http";
import type { GatewayConfig } from "./config/types.js";
import { type GatewayReason, answer } from "./proxy/answer.js";
import { BodyTooLargeError, limitedBody } from "./proxy/body-limit.js";
import { addDeadlineHeaders, upstreamRequestHeaders } from "./proxy/headers.js";
import { tunnelUpgrade } from "./proxy/upgrade.js";
import type { Duplex } from "node:stream";
import { checkPath } from "./route/path.js";
import {
  CLIENT_KEY,
  type CompiledRoute,
  REQUEST_KEY,
  compileRoute,
  isIdempotent,
} from "./route/compile.js";
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type CircuitState,
  ConcurrencyLimitError,
  RateLimitedError,
} from "timebound/resilience";
import { RouteTable } from "./route/table.js";
import { Cluster, type Target } from "./upstream/cluster.js";
import type { UpstreamExchange } from "./upstream/exchange.js";
import { type RouteAnswer, UpstreamStatusError, isBuffered } from "./upstream/answers.js";
import { writeBuffered } from "./proxy/buffered.js";
import { Redis } from "ioredis";
import { type FallbackReason, SharedRateLimit } from "./limit/shared-rate-limit.js";
import { LatencyTracker } from "timebound/fanout";
import {
  AggregateFailedError,
  type MissingEntry,
  aggregate,
  publicEntry,
} from "./aggregate/aggregate.js";

/** Time kept back from what is sent upstream, for the answer's way back. */
const UPSTREAM_MARGIN_MS = 5;

/** How a request ended, for metrics and logs. */
export type EndReason = GatewayReason | "answered" | "client-closed" | "fallback" | "stale";

/** What the gateway tells observers about each request once it is over. */
export interface RequestRecord {
  readonly requestId: string;
  readonly route: string | undefined;
  readonly upstream: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly reason: EndReason;
  readonly durationMs: number;
  /** Time left of the request's deadline when the answer went out (negative: late). */
  readonly timeLeftMs: number | undefined;
  /** Upstream attempts made (retries and hedges included; 0 when none was made). */
  readonly attempts: number;
  /** An aggregation route's parts that had no value, and why. */
  readonly missing: readonly MissingEntry[] | undefined;
}

/** Something the gateway noticed that is not a request: for logs and metrics. */
export type GatewayEvent =
  | {
      readonly type: "rate-limit-fallback";
      readonly route: string;
      readonly reason: FallbackReason;
      readonly error: unknown;
      /** The first fallback since Redis last answered (log it; count them all). */
      readonly first: boolean;
    }
  | { readonly type: "rate-limit-recovered"; readonly route: string };

/** A configuration compiled: routes, their table, the clusters, the Redis client. */
class Generation {
  readonly config: GatewayConfig;
  readonly clusters: Map<string, Cluster>;
  readonly routes: readonly CompiledRoute[];
  readonly table: RouteTable<CompiledRoute>;
  /** Each route's request contexts (the caller's deadline headers, cut to the route's deadline). */
  readonly contexts = new Map<
    CompiledRoute,
    (req: IncomingMessage, res: ServerResponse) => CancelableContext
  >();
  /** Shared rate limits, by route. */
  readonly shared = new Map<CompiledRoute, SharedRateLimit>();
  readonly #redis: Redis | undefined;
  inflight = 0;
  /** A request's response `close` listener: one function for all, no closure per request. */
  readonly leaveOnClose = (): void => this.leave();
  #retired: (() => void) | undefined;

  constructor(
    config: GatewayConfig,
    root: Context,
    onEvent: ((e: GatewayEvent) => void) | undefined,
  ) {
    this.config = config;
    this.clusters = new Map([...config.upstreams].map(([n, u]) => [n, new Cluster(u)]));
    this.routes = config.routes.map((r) => compileRoute(r, this.clusters));
    this.table = new RouteTable(this.routes);
    for (const route of this.routes) {
      const rc = route.config;
      this.contexts.set(
        route,
        requestContexts({
          parent: root,
          name: rc.name,
          header: config.deadline.headers,
          maxTimeoutMs: rc.timeoutMs,
          defaultTimeoutMs: rc.timeoutMs,
        }),
      );
    }
    const sharing = this.routes.filter((r) => r.config.rateLimit?.shared === true);
    const redis = config.redis;
    if (redis !== undefined && sharing.length > 0) {
      const client = new Redis(redis.url, {
        // While disconnected a command waits in ioredis' queue until its slice of the deadline
        // ends; timebound/redis then withdraws it (it is never sent late).
        maxRetriesPerRequest: null,
        retryStrategy: (times) => Math.min(times * 100, 2_000),
        lazyConnect: false,
        // Connected is ready: a server that accepts and never answers shows as timeouts.
        enableReadyCheck: false,
      });
      client.on("error", () => undefined); // reported per call, as a fallback with its reason
      this.#redis = client;
      for (const route of sharing) {
        const limit = route.config.rateLimit!;
        const name = route.config.name;
        this.shared.set(
          route,
          new SharedRateLimit({
            route: name,
            client,
            // "connect": the socket is up, the server has not answered yet.
            connected: () => client.status === "ready" || client.status === "connect",
            keyPrefix: redis.keyPrefix,
            ratePerSecond: limit.ratePerSecond,
            burst: limit.burst,
            timeoutMs: redis.timeoutMs,
            local: route.rateLimit!,
            onFallback: (reason, error, first) =>
              onEvent?.({ type: "rate-limit-fallback", route: name, reason, error, first }),
            onRecover: () => onEvent?.({ type: "rate-limit-recovered", route: name }),
          }),
        );
      }
    }
  }

  enter(): void {
    this.inflight++;
  }

  leave(): void {
    if (--this.inflight === 0) this.#retired?.();
  }

  /** Closes the clusters once the requests in flight are over. */
  retire(): Promise<void> {
    const drained =
      this.inflight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#retired = resolve;
          });
    return drained.then(async () => {
      this.#redis?.disconnect();
      await Promise.all([...this.clusters.values()].map((c) => c.close()));
    });
  }
}

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Parent of every request context: ending it cancels every request. Default background(). */
  readonly context?: Context;
  /** Called once per request, after its answer (for access logs and metrics). */
  readonly onRequest?: (record: RequestRecord) => void;
  /** Told of what happens besides requests (a shared rate limit falling back to local limits). */
  readonly onEvent?: (event: GatewayEvent) => void;
}

/** A gateway: the request handler, and its life (reload, close). */
export interface Gateway {
  /** The node:http request handler. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The node:http `upgrade` handler: WebSocket pass-through on routes that allow it. */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** The configuration new requests get. */
  readonly config: GatewayConfig;
  /** Requests in flight, over every configuration still draining. */
  readonly inflight: number;
  /** Each route's circuit breaker state now (routes with a breaker, current configuration). */
  breakerStates(): { route: string; state: CircuitState }[];
  /** Each upstream target now: in rotation or not, and how often outlier detection ejected it. */
  targetStates(): { upstream: string; target: string; available: boolean; ejections: number }[];
  /** Replaces the configuration for new requests; requests in flight finish under the old one. */
  reload(config: GatewayConfig): Promise<void>;
  /**
   * Stops: new requests get 503, in-flight ones have `drainMs` to finish, then what remains is
   * canceled (their upstream requests closed). Resolves to whether everything drained in time.
   */
  close(drainMs?: number): Promise<boolean>;
}

let requestCounter = 0;
const requestPrefix = randomBytes(4).toString("hex");

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  if (typeof given === "string" && given.length <= 128 && /^[\w.:-]+$/.test(given)) return given;
  return `${requestPrefix}-${(++requestCounter).toString(36)}`;
}

function hostOf(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (host === undefined) return undefined;
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : host.indexOf(":");
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/**
 * Creates a gateway over a checked configuration (see `parseConfig`/`loadConfigFile`).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createGateway, parseConfig } from "@timebound/gateway";
 * const gateway = createGateway(parseConfig(`
 * listen: { port: 8080 }
 * upstreams: { api: { targets: ["http://127.0.0.1:9000"] } }
 * routes: [{ path: "/*", upstream: api, timeoutMs: 800 }]
 * `));
 * createServer(gateway.handle).listen(8080, "127.0.0.1");
 * ```
 */
export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  const root: CancelableContext = withCancel(options.context ?? background(), { name: "gateway" });
  const onRequest = options.onRequest;
  const onEvent = options.onEvent;
  let current = new Generation(config, root, onEvent);
  const draining = new Set<Generation>();
  const tunnels = new Set<() => void>();
  // Latency per upstream for aggregation budgets: kept across reloads, the upstreams' history
  // does not change with the configuration.
  const latency = new LatencyTracker();
  let closing = false;
  for (const cluster of current.clusters.values()) void cluster.checkHealth(root);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = now();
    const requestId = requestIdOf(req);
    const method = req.method ?? "GET";
    const target = req.url ?? "/";
    // Known once the route matched; read by `finish` for whatever ended the request.
    let routeName: string | undefined = undefined;
    let upstreamName: string | undefined = undefined;
    let ctx: CancelableContext | undefined = undefined;
    let attempts = 0;
    let missing: MissingEntry[] | undefined = undefined;
    const finish = (status: number, reason: EndReason): void => {
      if (onRequest === undefined) return;
      const ended = now();
      onRequest({
        requestId,
        route: routeName,
        upstream: upstreamName,
        method,
        path: target,
        status,
        reason,
        durationMs: ended - started,
        // Not remaining(), which stops at 0: a late answer shows by how late.
        timeLeftMs: ctx?.deadline === undefined ? undefined : ctx.deadline - ended,
        attempts,
        missing,
      });
    };
    const refuse = (
      reason: GatewayReason,
      message: string,
      retryAfterS?: number,
      extra?: Record<string, unknown>,
      status?: number,
    ): void => {
      answer(res, reason, { route: routeName, requestId, message, retryAfterS, extra }, status);
      finish(res.statusCode, reason);
    };

    if (closing) return refuse("shutting-down", "the gateway is shutting down");
    const checked = checkPath(target);
    if (typeof checked === "string")
      return refuse("bad-request", `request target refused: ${checked}`);
    const gen = current;
    const table = gen.table;
    const match = table.find(method, checked.path, table.matchesHost ? hostOf(req) : undefined);
    if (match === undefined) return refuse("not-found", `no route for ${method} ${checked.path}`);
    const route = match.route;
    const rc = route.config;
    routeName = rc.name;
    upstreamName = rc.upstream;
    const length = Number(req.headers["content-length"] ?? 0);
    if (length > rc.maxBodyBytes) {
      return refuse(
        "body-too-large",
        `request body of ${length} bytes is over the route's ${rc.maxBodyBytes}`,
      );
    }

    // The caller's deadline headers (earliest wins), cut to the route's deadline.
    ctx = gen.contexts.get(route)!(req, res);
    const routeCtx = ctx;
    gen.enter();
    res.on("close", gen.leaveOnClose); // a response closes once

    const chunked = req.headers["transfer-encoding"] !== undefined;
    const hasBody = length > 0 || chunked;
    const body = !hasBody ? null : chunked ? limitedBody(req, rc.maxBodyBytes) : req;
    const path = rewritePath(checked.path, rc.rewrite) + checked.query;
    const hop = {
      address: req.socket.remoteAddress,
      proto: "http" as const,
      host: req.headers.host,
      requestId,
    };
    let lastTarget: Target | undefined;
    // 5xx answers held in case no attempt does better (a large one paused with its connection
    // busy, past the read-ahead): once the answer is decided, the ones not passed on are
    // closed, or their connections would stay taken until the gateway stops.
    const failed: UpstreamExchange[] = [];
    const release = (kept?: UpstreamExchange): void => {
      for (const e of failed) if (e !== kept) e.abort(new Error("answer not used"));
      failed.length = 0;
    };
    // Promise chains, not an async function: one reaction per attempt on the way back.
    const proxyAttempt = (attemptCtx: Context): Promise<RouteAnswer> => {
      const cluster = route.cluster!;
      if (hasBody && attempts > 0) {
        // The body was streamed to the first attempt; it cannot be sent again.
        return Promise.reject(
          new Error("the request body was sent to the first attempt and cannot be sent again"),
        );
      }
      attempts++;
      const t = cluster.pick(lastTarget);
      lastTarget = t;
      let exchange: UpstreamExchange;
      try {
        const headers = upstreamRequestHeaders(
          req.headers,
          hop,
          rc.hostHeader === "upstream" ? t.host : undefined,
        );
        addDeadlineHeaders(
          headers,
          attemptCtx.remaining() - UPSTREAM_MARGIN_MS,
          cluster.config.grpc === true,
        );
        exchange = cluster.send(t, { method, path, headers, body });
      } catch (err) {
        return Promise.reject(err);
      }
      const stop = afterFunc(attemptCtx, () => exchange.abort(attemptCtx.err!));
      return exchange.head.then(
        (head): RouteAnswer | Promise<RouteAnswer> => {
          stop();
          t.record(head.status < 500, cluster.config);
          if (head.status >= 500) {
            failed.push(head);
            throw new UpstreamStatusError(head);
          }
          return route.buffers ? bufferAnswer(head, attemptCtx, rc.maxBodyBytes) : head;
        },
        (err: unknown) => {
          stop();
          t.record(false, cluster.config);
          throw attemptCtx.err ?? err;
        },
      );
    };
    // Made only on an aggregation route: every closure a request makes costs its bytes
    // (docs/benchmarks.md).
    const attempt =
      rc.aggregate === undefined
        ? proxyAttempt
        : (attemptCtx: Context): Promise<RouteAnswer> => {
            attempts++;
            // Parts are GETs: nothing of the client's body goes with them.
            const headers = upstreamRequestHeaders(req.headers, hop, undefined, true);
            missing = [];
            return aggregate(attemptCtx, {
              route: rc.name,
              parts: rc.aggregate!,
              clusters: gen.clusters,
              params: match.params,
              headers,
              upstreamHost: rc.hostHeader === "upstream",
              maxBytes: rc.maxBodyBytes,
              tracker: latency,
              onMissing: (m) => missing!.push(m),
            });
          };

    const policy = isIdempotent(method) ? route.idempotent : route.other;
    let work: Context = routeCtx;
    if (route.buffers) work = withValue(work, REQUEST_KEY, `${method} ${path}`);
    let client: string | undefined;
    if (rc.rateLimit !== undefined) {
      const key = rc.rateLimit.key;
      client =
        key.kind === "ip" ? (req.socket.remoteAddress ?? "") : String(req.headers[key.name] ?? "");
      work = withValue(work, CLIENT_KEY, client);
    }
    // A local rate limit is the pipeline's first policy; a shared one decides before it.
    const shared = client === undefined ? undefined : gen.shared.get(route);
    const answered: Promise<RouteAnswer> =
      shared === undefined
        ? policy.execute(work, attempt)
        : shared.execute(work, client!, (ctx) => policy.execute(ctx, attempt));
    answered.then(
      (result: RouteAnswer) => {
        release();
        if (isBuffered(result)) {
          writeBuffered(res, result, requestId);
          finish(result.status, result.servedAs === undefined ? "answered" : result.servedAs);
          return;
        }
        stream(result);
      },
      (err: unknown) => {
        const status = upstreamStatus(err);
        release(status?.exchange);
        if (
          res.destroyed ||
          (isCanceled(err) && routeCtx.err !== undefined && !isDeadlineExceeded(routeCtx.err))
        ) {
          // Canceled with the client still here: the gateway closed past its drain time.
          if (!res.destroyed && closing) {
            return refuse("shutting-down", "the gateway shut down before the upstream answered");
          }
          finish(499, "client-closed");
          return;
        }
        if (status !== undefined) {
          // Nothing did better than the upstream's own answer (retries used up): pass it on.
          stream(status.exchange);
          return;
        }
        if (
          err instanceof BodyTooLargeError ||
          (err as Error)?.cause instanceof BodyTooLargeError
        ) {
          return refuse(
            "body-too-large",
            `the request body is over the route's limit of ${rc.maxBodyBytes} bytes`,
          );
        }
        if (err instanceof AggregateFailedError) {
          return refuse(
            err.status === 504 ? "deadline-exceeded" : "upstream-failed",
            err.message,
            undefined,
            { missing: err.missing.map(publicEntry) },
            err.status,
          );
        }
        if (err instanceof RateLimitedError) {
          return refuse(
            "rate-limited",
            "too many requests from this client",
            err.retryAfterMs / 1000,
          );
        }
        if (err instanceof BrokenCircuitError) {
          return refuse("circuit-open", err.message, (err.retryAfterMs ?? 1000) / 1000);
        }
        if (err instanceof BulkheadRejectedError || err instanceof ConcurrencyLimitError) {
          return refuse("overloaded", err.message);
        }
        if (isDeadlineExceeded(err) || isDeadlineExceeded(routeCtx.err)) {
          const fallbackAnswer = route.fallbackAnswer;
          if (fallbackAnswer !== undefined) {
            // The client is still here: its answer is the fallback, however late the timer was.
            writeBuffered(res, fallbackAnswer, requestId);
            finish(fallbackAnswer.status, "fallback");
            return;
          }
          return refuse(
            "deadline-exceeded",
            "the route's deadline passed before the upstream answered",
          );
        }
        return refuse(
          "upstream-failed",
          `the upstream failed: ${(err as Error)?.message ?? String(err)}`,
        );
      },
    );

    function stream(exchange: UpstreamExchange): void {
      const stop = afterFunc(routeCtx, () => exchange.abort(routeCtx.err!));
      exchange.pipeTo(res, ["x-request-id", requestId], (err) => {
        stop();
        finish(exchange.status, err === undefined ? "answered" : "upstream-failed");
      });
    }
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (closing) return refuse(503, "Service Unavailable");
    const checked = checkPath(req.url ?? "/");
    if (typeof checked === "string") return refuse(400, "Bad Request");
    const gen = current;
    const match = gen.table.find(req.method ?? "GET", checked.path, hostOf(req));
    const rc = match?.route.config;
    const cluster = match?.route.cluster;
    if (rc?.websocket === undefined || cluster === undefined) return refuse(404, "Not Found");
    const t = cluster.pick();
    const hop = {
      address: req.socket.remoteAddress,
      proto: "http" as const,
      host: req.headers.host,
      requestId: requestIdOf(req),
    };
    const headers = upstreamRequestHeaders(
      req.headers,
      hop,
      rc.hostHeader === "upstream" ? t.host : undefined,
    );
    gen.enter();
    t.inflight++;
    const close = tunnelUpgrade(
      req,
      socket,
      head,
      t.origin,
      rewritePath(checked.path, rc.rewrite) + checked.query,
      headers,
      rc.websocket.maxLifetimeMs,
      () => {
        tunnels.delete(close);
        t.inflight--;
        gen.leave();
      },
    );
    tunnels.add(close);
  };

  return {
    handle,
    upgrade,
    get config() {
      return current.config;
    },
    breakerStates() {
      return current.routes.flatMap((r) =>
        r.breaker === undefined ? [] : [{ route: r.config.name, state: r.breaker.state }],
      );
    },
    targetStates() {
      const now = Date.now();
      return [...current.clusters.values()].flatMap((c) =>
        c.targets.map((t) => ({
          upstream: c.config.name,
          target: t.origin,
          available: t.available(now),
          ejections: t.ejections,
        })),
      );
    },
    get inflight() {
      let n = current.inflight;
      for (const g of draining) n += g.inflight;
      return n;
    },
    async reload(next: GatewayConfig): Promise<void> {
      const old = current;
      current = new Generation(next, root, onEvent);
      for (const cluster of current.clusters.values()) void cluster.checkHealth(root);
      draining.add(old);
      await old.retire();
      draining.delete(old);
    },
    async close(drainMs = current.config.shutdown.drainMs): Promise<boolean> {
      closing = true;
      const generations = [current, ...draining];
      const all = Promise.all(generations.map((g) => g.retire()));
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        all.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(resolve, drainMs, false);
        }),
      ]);
      clearTimeout(timer);
      root.cancel();
      for (const close of [...tunnels]) close();
      if (!inTime)
        await Promise.all(
          generations.flatMap((g) => [...g.clusters.values()].map((c) => c.destroy())),
        );
      return inTime;
    },
  };
}

/** The stale cache keeps whole answers: reads one in, under the attempt's context. */
function bufferAnswer(
  head: UpstreamExchange,
  attemptCtx: Context,
  maxBytes: number,
): Promise<RouteAnswer> {
  const stopBody = afterFunc(attemptCtx, () => head.abort(attemptCtx.err!));
  return head.buffer(maxBytes).finally(stopBody);
}

/** The upstream's own 5xx answer behind `err` (itself, or the cause retry gave up on). */
function upstreamStatus(err: unknown): UpstreamStatusError | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (e instanceof UpstreamStatusError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function rewritePath(path: string, rewrite: CompiledRoute["config"]["rewrite"]): string {
  if (rewrite === undefined) return path;
  let out = path;
  if (rewrite.stripPrefix !== undefined && out.startsWith(rewrite.stripPrefix)) {
    out = out.slice(rewrite.stripPrefix.length);
    if (!out.startsWith("/")) out = `/${out}`;
  }
  if (rewrite.addPrefix !== undefined) out = rewrite.addPrefix.replace(/\/$/, "") + out;
  return out;
}
