import * as http from "node:http";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineErrorClass, moduleFile, readOptions } from "../core/internal.js";
import { type FaultConfig, CONFIG_KEYS, checkFaultConfig } from "./fault-upstream-profile.js";
import type { FaultUpstreamStats } from "./fault-upstream-stats.js";
import { DEFAULT_LOG_TAIL_BYTES } from "./log-tail.js";
import { DEFAULT_START_TIMEOUT_MS } from "./options.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";

/**
 * Options of {@link startFaultUpstream}: the initial {@link FaultConfig}, and how to start.
 *
 * @example
 * ```ts
 * await using upstream = await startFaultUpstream({ latency: 10, errorRate: 0.05, seed: 1 });
 * ```
 */
export interface FaultUpstreamOptions extends FaultConfig {
  /** How long the process may take to listen, in ms. Default 30 000. */
  readonly startTimeoutMs?: number;
  /** How much of its output is kept for {@link FaultUpstream.log}. Default 16 KiB. */
  readonly logTailBytes?: number;
}

/**
 * A fault-injecting HTTP server in a process of its own, from {@link startFaultUpstream}.
 * `await using` closes it at the end of the block.
 *
 * @example
 * ```ts
 * await using upstream = await startFaultUpstream({ hangRate: 0.5, seed: 7 });
 * const res = await fetch(`${upstream.url}/anything`, { signal: AbortSignal.timeout(100) });
 * console.log((await upstream.stats()).received);
 * ```
 */
export interface FaultUpstream extends AsyncDisposable {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it serves on (a free one, picked by its process). */
  readonly port: number;
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /**
   * `http://127.0.0.1:adminPort`, its admin server (not counted, never faulty): `GET /stats`,
   * `POST /stats/reset`, `PUT /config` with a {@link FaultConfig} as JSON (answers 400 with
   * `{ error }` if it is refused). For a program in another process, a shell, a lab.
   */
  readonly adminUrl: string;
  /** Its process id. */
  readonly pid: number;
  /** What it counted: see {@link FaultUpstreamStats}. Rejects with a FaultUpstreamError once closed. */
  stats(): Promise<FaultUpstreamStats>;
  /** Starts every count again from zero (`peakInFlight` from the requests in progress). */
  resetStats(): Promise<void>;
  /**
   * Replaces the whole configuration (default profile and routes) for the requests that arrive
   * from now on; requests in progress finish as they began. Outage windows count from now. With
   * a `seed`, the draws restart from it; without one, each route goes on with its generator.
   * Rejects on a bad configuration (nothing changes then).
   */
  configure(config: FaultConfig): Promise<void>;
  /** The end of its output (its ready line, or what it wrote as it crashed). */
  log(): string;
  /** Stops the process (SIGTERM, SIGKILL after 2 s); its connections are cut. Idempotent. */
  close(): Promise<void>;
  /** {@link FaultUpstream.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The fault-injecting upstream could not be reached for an admin call (it was closed, or its
 * process died or did not answer), or could not be started because its program was not found.
 *
 * @example
 * ```ts
 * import { FaultUpstreamError, startFaultUpstream } from "timebound/testing";
 *
 * const upstream = await startFaultUpstream();
 * await upstream.close();
 * await upstream.stats().catch((err: unknown) => {
 *   if (!(err instanceof FaultUpstreamError)) throw err; // "FaultUpstream.stats: the upstream is closed"
 * });
 * ```
 */
export class FaultUpstreamError extends Error {
  /** `"TIMEBOUND_ERR_FAULT_UPSTREAM"`. */
  declare readonly code: "TIMEBOUND_ERR_FAULT_UPSTREAM";
}
defineErrorClass(FaultUpstreamError, "FaultUpstreamError", {
  kind: "timebound.FaultUpstreamError",
  code: "TIMEBOUND_ERR_FAULT_UPSTREAM",
});

/** How long an admin call may take before it is given up. */
const ADMIN_TIMEOUT_MS = 10_000;
const READY = /^fault-upstream ready (\{.*\})$/m;

/**
 * Starts a fault-injecting HTTP/1.1 server in a process of its own, on a free 127.0.0.1 port:
 * a stand-in for a dependency that is slow (latency from a heavy-tailed distribution, slower
 * with its load), fails (an error status, with `Retry-After`), hangs, resets connections, or
 * goes down on a schedule, with per-route profiles so that one process plays several
 * dependencies. Deterministic with a `seed`. See {@link FaultProfile} for what happens to a
 * request, and docs/testing-faults.md.
 *
 * Its own process (a bare node:http server, a few thousand requests a second) so that its timers
 * and its load do not share the event loop of the code under test. Like {@link startRedis}, it
 * never outlives this process, whatever way this process ends, and does not keep it alive.
 * `close()` or `await using` stops it.
 *
 * Rejects (never throws) on bad options (a TypeError or RangeError naming the option), or with
 * a ServerStartError if the process does not start.
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import assert from "node:assert/strict";
 * import { startFaultUpstream } from "timebound/testing";
 *
 * test("a client survives a sick upstream", async () => {
 *   await using upstream = await startFaultUpstream({
 *     latency: { type: "lognormal", medianMs: 20, sigma: 0.8 },
 *     errorRate: 0.1,
 *     seed: 42,
 *     routes: { "/optional": { hangRate: 1 } },
 *   });
 *   const res = await fetch(`${upstream.url}/required`);
 *   assert.ok([200, 503].includes(res.status), `status ${res.status}`);
 *   await upstream.configure({ outages: [{ fromMs: 0, toMs: 5_000, mode: "reset" }] });
 *   const stats = await upstream.stats();
 *   assert.equal(stats.received, 1);
 * });
 * ```
 */
export async function startFaultUpstream(options?: FaultUpstreamOptions): Promise<FaultUpstream> {
  const fn = "startFaultUpstream";
  const known = [
    ...CONFIG_KEYS,
    "startTimeoutMs",
    "logTailBytes",
  ] as (keyof FaultUpstreamOptions)[];
  const o = readOptions(options, fn, known);
  const startTimeoutMs = o.ms("startTimeoutMs", DEFAULT_START_TIMEOUT_MS, {
    min: 1,
    max: 2 ** 31 - 1,
  });
  const logTailBytes = o.number(
    "logTailBytes",
    DEFAULT_LOG_TAIL_BYTES,
    { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
    "bytes",
  );
  const { startTimeoutMs: _t, logTailBytes: _l, ...config } = options ?? {};
  const checked = checkFaultConfig(fn, config);
  const script = childScript();
  if (script === undefined) {
    throw new FaultUpstreamError(
      `${fn}: cannot find fault-upstream-child beside fault-upstream (was the package copied partially?)`,
    );
  }
  const args = script.endsWith(".ts") ? ["--import", "tsx", script] : [script];
  const server = await startServerProcess(
    process.execPath,
    [...args, JSON.stringify(checked)],
    READY,
    {
      name: `${fn}: fault upstream`,
      timeoutMs: startTimeoutMs,
      logTailBytes,
      abandonSignal: "SIGKILL",
    },
  );
  const { port, adminPort } = JSON.parse(READY.exec(server.output())?.[1] ?? "{}") as {
    port: number;
    adminPort: number;
  };
  return new RunningUpstream(server, port, adminPort);
}

/** The child's file: beside this one, `.ts` under tsx, `.js` in a build. */
function childScript(): string | undefined {
  const self = moduleFile();
  if (self === undefined) return undefined;
  const path = self.startsWith("file:") ? fileURLToPath(self) : self;
  const ext = path.endsWith(".ts") ? ".ts" : ".js";
  const child = join(dirname(path), `fault-upstream-child${ext}`);
  return existsSync(child) ? child : undefined;
}

class RunningUpstream implements FaultUpstream {
  readonly host = "127.0.0.1";
  readonly url: string;
  readonly adminUrl: string;
  readonly pid: number;
  #server: ServerProcess;
  #adminPort: number;
  #closed = false;

  constructor(
    server: ServerProcess,
    readonly port: number,
    adminPort: number,
  ) {
    this.#server = server;
    this.#adminPort = adminPort;
    this.pid = server.pid;
    this.url = `http://${this.host}:${port}`;
    this.adminUrl = `http://${this.host}:${adminPort}`;
  }

  async stats(): Promise<FaultUpstreamStats> {
    return JSON.parse(await this.#admin("stats", "GET", "/stats")) as FaultUpstreamStats;
  }

  async resetStats(): Promise<void> {
    await this.#admin("resetStats", "POST", "/stats/reset");
  }

  async configure(config: FaultConfig): Promise<void> {
    checkFaultConfig("FaultUpstream.configure", config, "config"); // refused here, with our name
    // Checked again over there (JSON has no Infinity: the largest number stands for it).
    const json = JSON.stringify(config, (_key, v: unknown) =>
      v === Infinity ? Number.MAX_VALUE : v,
    );
    await this.#admin("configure", "PUT", "/config", json);
  }

  log(): string {
    return this.#server.output();
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#server.stop("SIGTERM", 2000);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #admin(method: string, verb: string, path: string, body?: string): Promise<string> {
    const fn = `FaultUpstream.${method}`;
    if (this.#closed)
      return Promise.reject(new FaultUpstreamError(`${fn}: the upstream is closed`));
    return new Promise((resolve, reject) => {
      const fail = (why: string, cause?: unknown): void =>
        reject(
          new FaultUpstreamError(
            `${fn}: the upstream (pid ${this.pid}) ${why}`,
            cause === undefined ? undefined : { cause },
          ),
        );
      const req = http.request(
        {
          host: this.host,
          port: this.#adminPort,
          method: verb,
          path,
          agent: false,
          timeout: ADMIN_TIMEOUT_MS,
          headers: body === undefined ? {} : { "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            if (res.statusCode !== undefined && res.statusCode < 300) return resolve(text);
            fail(`refused the call (${res.statusCode}): ${text}`);
          });
          res.on("error", (err) => fail(`did not answer in full (${err.message})`, err));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${ADMIN_TIMEOUT_MS} ms`)));
      req.on("error", (err) =>
        fail(`did not answer (${err.message}); its output:\n${this.log()}`, err),
      );
      req.end(body);
    });
  }
}
