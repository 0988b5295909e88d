// The gateway as a process: the traffic server, the admin server, reload on SIGHUP and on a
// change of the configuration file, and a graceful stop on SIGTERM/SIGINT.
import { type Server, createServer } from "node:http";
import { watch, type FSWatcher } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { loadConfigFile } from "./config/load.js";
import { ConfigError } from "./config/errors.js";
import type { GatewayConfig, ListenConfig } from "./config/types.js";
import { createAdminServer } from "./admin/server.js";
import { createGateway, type Gateway } from "./gateway.js";
import { logRequest } from "./observe/access-log.js";
import { GatewayMetrics } from "./observe/metrics.js";

/** Options of {@link startGateway}. */
export interface StartOptions {
  /** The configuration file: read at start, and again on SIGHUP or when it changes. */
  readonly configFile?: string;
  /** A configuration already checked (instead of a file; no reload from disk). */
  readonly config?: GatewayConfig;
  /** Access and event logs; none when undefined. */
  readonly log?: Logger;
  /** React to SIGHUP/SIGTERM/SIGINT (the CLI does; an embedding program may not want to). */
  readonly signals?: boolean;
}

/** A running gateway process. */
export interface RunningGateway {
  readonly gateway: Gateway;
  readonly metrics: GatewayMetrics;
  /** `http://host:port` of the traffic port. */
  readonly url: string;
  /** `http://host:port` of the admin port, if any. */
  readonly adminUrl: string | undefined;
  /** Reads the configuration file again; an invalid one is refused (the old kept) and thrown. */
  reload(): Promise<void>;
  /** Stops as on SIGTERM; resolves to whether in-flight requests drained in time. */
  stop(): Promise<boolean>;
}

function listenOn(server: Server, at: ListenConfig): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => {
      server.off("error", reject);
      const a = server.address() as AddressInfo;
      const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
      resolve(`http://${host}:${a.port}`);
    });
  });
}

/**
 * Starts the gateway: checks the configuration, listens, and serves until stopped.
 *
 * @example
 * ```ts
 * import { startGateway } from "@timebound/gateway";
 * const running = await startGateway({ configFile: "gateway.yaml", signals: true });
 * console.log(`gateway on ${running.url}`);
 * ```
 */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const file = options.configFile;
  const config = options.config ?? (file !== undefined ? await loadConfigFile(file) : undefined);
  if (config === undefined)
    throw new TypeError("startGateway: give options.configFile or options.config");
  const log = options.log;
  let draining = false;
  // eslint-disable-next-line prefer-const -- assigned right below, read by the metrics gauge
  let gateway: Gateway;
  const metrics = new GatewayMetrics(undefined, {
    inflight: () => gateway.inflight,
    targetStates: () => gateway.targetStates(),
  });
  gateway = createGateway(config, {
    onRequest: (r) => {
      metrics.record(r);
      if (log !== undefined) logRequest(log, r);
    },
    onEvent: (e) => {
      if (e.type === "rate-limit-fallback") {
        metrics.rateLimitFallback(e.route, e.reason);
        if (e.first) {
          log?.warn(
            {
              route: e.route,
              reason: e.reason,
              err: String((e.error as Error)?.message ?? e.error),
            },
            "shared rate limit: Redis could not decide; local limits apply",
          );
        }
      } else log?.info({ route: e.route }, "shared rate limit: Redis answers again");
    },
  });
  const limits = config.limits;
  const traffic = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: 0, // each route's deadline bounds its request
      keepAliveTimeout: limits.idleTimeoutMs,
      // How often slow heads are looked for (Node's default, 30 s, would let a slowloris
      // connection sit far past headersTimeoutMs).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, limits.headersTimeoutMs / 4)),
    },
    gateway.handle,
  );
  traffic.on("upgrade", gateway.upgrade);
  traffic.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // Malformed requests, huge headers, slow heads: a plain 4xx, then the connection goes.
    const status =
      err.code === "HPE_HEADER_OVERFLOW"
        ? 431
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? 408
          : 400;
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request"}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
    } else socket.destroy();
  });
  const url = await listenOn(traffic, config.listen);
  let admin: Server | undefined;
  let adminUrl: string | undefined;
  if (config.admin !== undefined) {
    admin = createAdminServer({ registry: metrics.registry, ready: () => !draining });
    adminUrl = await listenOn(admin, config.admin);
  }
  log?.info({ url, adminUrl, routes: config.routes.length }, "gateway listening");

  const reload = async (): Promise<void> => {
    if (file === undefined) return;
    try {
      const next = await loadConfigFile(file);
      void gateway.reload(next);
      metrics.reload("applied");
      log?.info({ file, routes: next.routes.length }, "configuration reloaded");
    } catch (err) {
      metrics.reload("refused");
      log?.error(
        { file, err: err instanceof ConfigError ? err.message : String(err) },
        "configuration refused; the old one stays",
      );
      throw err;
    }
  };

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (file !== undefined) {
    watcher = watch(file, () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => void reload().catch(() => undefined), 100);
    });
    watcher.unref();
  }

  let stopped: Promise<boolean> | undefined;
  const stop = (): Promise<boolean> => {
    stopped ??= (async () => {
      draining = true;
      watcher?.close();
      clearTimeout(debounce);
      traffic.close();
      const inTime = await gateway.close();
      traffic.closeAllConnections();
      admin?.close();
      admin?.closeAllConnections();
      metrics.stop();
      log?.info(
        { drained: inTime },
        inTime
          ? "stopped: every request finished"
          : "stopped: requests canceled at the drain deadline",
      );
      return inTime;
    })();
    return stopped;
  };

  if (options.signals === true) {
    process.on("SIGHUP", () => void reload().catch(() => undefined));
    const onStop = (): void => {
      void stop().then((inTime) => {
        process.exitCode = inTime ? 0 : 3;
      });
    };
    process.once("SIGTERM", onStop);
    process.once("SIGINT", onStop);
  }
  return { gateway, metrics, url, adminUrl, reload, stop };
}
