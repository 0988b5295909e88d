import {
  MAX_TIMER_DELAY_MS,
  checkString,
  defineErrorClass,
  invalidType,
  readOptions,
  startTimer,
} from "../core/internal.js";
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { guardProcess } from "./leftovers.js";
import { DEFAULT_LOG_TAIL_BYTES, LogTail } from "./log-tail.js";
import { DEFAULT_START_TIMEOUT_MS } from "./options.js";

/**
 * A server started from a system binary by {@link startServerProcess}, stopped by
 * {@link ServerProcess.stop}.
 *
 * @example
 * ```ts
 * const server = await startServerProcess("memcached", ["-vv", "-p", "11299"], /listening/, {
 *   name: "memcached",
 * });
 * console.log(server.pid, server.output());
 * await server.stop("SIGTERM", 2000);
 * ```
 */
export interface ServerProcess {
  /** The spawned process. */
  readonly child: ChildProcess;
  /** Its pid (the leader of its own session and process group). */
  readonly pid: number;
  /** The last `logTailBytes` of what the server wrote (stdout and stderr). */
  output(): string;
  /**
   * Sends `signal` (default SIGTERM), waits for the exit, SIGKILL after `graceMs` (default
   * 10 s). Idempotent: later calls return the first call's promise.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Options of {@link startServerProcess}: Node's spawn options, and these. */
export interface ServerProcessOptions extends SpawnOptions {
  /** What error messages call the server, e.g. `"startRedis: redis-server"`. */
  readonly name: string;
  /** How long it may take to print its ready line, in ms. Default 30 000. */
  readonly timeoutMs?: number;
  /** How much of its latest output is kept. Default 16 KiB. */
  readonly logTailBytes?: number;
  /**
   * The signal it gets if this process exits or dies while it runs (SIGKILL follows after 5 s).
   * Default "SIGKILL".
   */
  readonly abandonSignal?: NodeJS.Signals;
}

/**
 * Why a server did not start:
 * - `"exited"`: it exited (or was killed) before it printed its ready line;
 * - `"timeout"`: it did not print it within the time allowed (it is then killed);
 * - `"spawn"`: it could not be started at all (a missing binary, say);
 * - `"watchdog"`: it started, but the watchdog that stops it if this process dies did not.
 */
export type ServerStartFailure = "exited" | "timeout" | "spawn" | "watchdog";

/**
 * A server did not start (see {@link ServerStartFailure}); `log` is the end of its output.
 *
 * @example
 * ```ts
 * try {
 *   await startPostgres({ startTimeoutMs: 5000 });
 * } catch (err) {
 *   if (err instanceof ServerStartError && err.reason === "timeout") console.error(err.log);
 *   throw err;
 * }
 * ```
 */
export class ServerStartError extends Error {
  /** `"TIMEBOUND_ERR_SERVER_START"`. */
  declare readonly code: "TIMEBOUND_ERR_SERVER_START";

  /** `options.cause` is what failed underneath, when something did. */
  constructor(
    message: string,
    /** What went wrong: see {@link ServerStartFailure}. */
    readonly reason: ServerStartFailure,
    /** The end of what the server wrote before it failed (`logTailBytes`). */
    readonly log: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

defineErrorClass(ServerStartError, "ServerStartError", {
  kind: "timebound.ServerStartError",
  code: "TIMEBOUND_ERR_SERVER_START",
});

/** Longest incomplete line kept while looking for the ready line. */
const MAX_PARTIAL_LINE = 64 * 1024;

/**
 * Spawns `command` and resolves once a line of its output matches `ready`, or rejects with a
 * {@link ServerStartError} holding the output so far if it exits or `timeoutMs` passes first (it
 * is then killed). The server leads its own session, so a Ctrl-C in the terminal reaches this
 * process and not the server: this process decides when the server stops. It is never left
 * behind: if this process exits or dies while the server runs, the server gets `abandonSignal`
 * (see `leftovers.ts`). Once ready, it does not keep this process alive by itself.
 *
 * @example
 * ```ts
 * const memcached = await startServerProcess("memcached", ["-vv", "-p", "11299"], /server listening/, {
 *   name: "memcached",
 * });
 * // ...
 * await memcached.stop();
 * ```
 */
export function startServerProcess(
  command: string,
  args: readonly string[],
  ready: RegExp,
  options: ServerProcessOptions,
): Promise<ServerProcess> {
  let checked: CheckedProcessOptions;
  try {
    checked = checkProcessOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  const { name, startTimeoutMs, logTailBytes, abandonSignal, spawnOptions } = checked;
  return new Promise((resolve, reject) => {
    const log = new LogTail(logTailBytes);
    const child = spawn(command, args, {
      ...spawnOptions,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const guard = child.pid === undefined ? undefined : guardProcess(child, abandonSignal);
    let settled = false;
    let stopping: Promise<void> | undefined;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.once("exit", () => guard?.release());
    const timer = startTimer(
      () => fail("timeout", `did not print its ready line within ${startTimeoutMs} ms`),
      startTimeoutMs,
    );
    const server: ServerProcess = {
      child,
      pid: child.pid ?? -1,
      output: () => log.text(),
      stop(signal = "SIGTERM", graceMs = 10_000) {
        stopping ??= (async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.ref(); // until it has exited: `await server.stop()` must not end with the loop
          child.kill(signal);
          const kill = startTimer(() => child.kill("SIGKILL"), graceMs);
          await exited;
          clearTimeout(kill);
        })();
        return stopping;
      },
    };
    function fail(reason: ServerStartFailure, why: string, cause?: unknown): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      const text = log.text();
      reject(
        new ServerStartError(
          `${name} ${why}; its last output:\n${text === "" ? "(none)" : text}`,
          reason,
          text,
          cause === undefined ? undefined : { cause },
        ),
      );
    }
    function succeed(): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Running, it is not work of this process: if the program forgets stop(), its exit
      // stops the server instead of the server keeping it alive.
      child.unref();
      for (const stream of [child.stdout, child.stderr]) (stream as Readable & Unref).unref();
      resolve(server);
    }
    let readyLine = false;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      const decoder = new StringDecoder("utf8");
      stream?.on("data", (chunk: Buffer) => {
        log.append(chunk);
        if (readyLine) return;
        const lines = (partial + decoder.write(chunk)).split("\n");
        partial = (lines.pop() ?? "").slice(-MAX_PARTIAL_LINE);
        if (lines.some((line) => ready.test(line)) || ready.test(partial)) {
          readyLine = true;
          whenWatched();
        }
      });
    }
    // Ready once it printed its line and the watchdog holds it.
    function whenWatched(): void {
      if (guard === undefined) return;
      guard.watched.then(succeed, (err: Error) =>
        fail("watchdog", `started, but ${err.message}`, err),
      );
    }
    child.once("error", (err) => fail("spawn", `could not start (${err.message})`, err));
    child.once("exit", (code, signal) =>
      fail(
        "exited",
        signal === null
          ? `exited with code ${code} before it was ready`
          : `was killed by ${signal} before it was ready`,
      ),
    );
  });
}

interface CheckedProcessOptions {
  readonly name: string;
  readonly startTimeoutMs: number;
  readonly logTailBytes: number;
  readonly abandonSignal: NodeJS.Signals;
  readonly spawnOptions: SpawnOptions;
}

const OWN_KEYS = ["name", "timeoutMs", "logTailBytes", "abandonSignal"] as const;

/** Checks timebound's own keys; the rest are spawn's, passed through as they are. */
function checkProcessOptions(options: ServerProcessOptions): CheckedProcessOptions {
  const fn = "startServerProcess";
  const o = readOptions(options, fn);
  if (options === undefined) throw invalidType(`${fn}: options must be an object, got undefined`);
  const spawnOptions: SpawnOptions & Partial<ServerProcessOptions> = { ...options };
  for (const key of OWN_KEYS) delete spawnOptions[key];
  return {
    name: checkString(options.name, fn, "options.name"),
    startTimeoutMs: o.ms("timeoutMs", DEFAULT_START_TIMEOUT_MS, {
      min: 1,
      max: MAX_TIMER_DELAY_MS,
    }),
    logTailBytes: o.number(
      "logTailBytes",
      DEFAULT_LOG_TAIL_BYTES,
      { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
      "bytes",
    ),
    abandonSignal: o.string("abandonSignal", "SIGKILL") as NodeJS.Signals,
    spawnOptions,
  };
}

interface Unref {
  unref(): void;
}
