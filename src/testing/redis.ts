import { execFileSync } from "node:child_process";
import { checkPortFree, freePort, portError } from "./free-port.js";
import { checkServerOptions, type ServerOptions } from "./options.js";
import { type ServerProcess, ServerStartError, startServerProcess } from "./server-process.js";

/**
 * A throwaway Redis server on a loopback port, from {@link startRedis}. `await using` stops it at
 * the end of the block.
 *
 * @example
 * ```ts
 * const server = await startRedis();
 * const client = new Redis(server.url);
 * // ...
 * client.disconnect();
 * await server.stop();
 * ```
 */
export interface RedisServer extends AsyncDisposable {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on: the `port` option, or a free one picked at start. */
  readonly port: number;
  /** `redis://127.0.0.1:port` */
  readonly url: string;
  /** The server's pid. */
  readonly pid: number;
  /** The end of the server's log (see {@link ServerOptions.logTailBytes}). */
  log(): string;
  /** Stops the server (SIGTERM; it saves nothing). Idempotent. */
  stop(): Promise<void>;
  /** {@link RedisServer.stop}: `await using redis = await startRedis()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The redis-server binary: `$TIMEBOUND_REDIS_SERVER`, or `redis-server` on the PATH.
 *
 * @example
 * ```ts
 * const skip = findRedisServer() === undefined && "no redis-server here";
 * test("with Redis", { skip }, async () => {
 *   await using server = await startRedis();
 * });
 * ```
 */
export function findRedisServer(): string | undefined {
  const fromEnv = process.env.TIMEBOUND_REDIS_SERVER;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"]).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** How many free ports are tried when another program takes the one picked before Redis binds it. */
const PORT_ATTEMPTS = 3;

/**
 * Starts redis-server (Debian's `redis-server` package; see {@link findRedisServer}) on a loopback
 * port, with no persistence (it writes no file) and protected mode on. Takes about 50 ms.
 *
 * Nothing is left behind, as for {@link startPostgres}: `stop()` or `await using` stops it, and
 * so does this process's end, whatever it is (at its `exit` event, or within moments by the
 * watchdog after a fatal signal, SIGKILL included, or a native crash). It runs in its own session
 * and, once ready, does not keep this process alive.
 *
 * Rejects (never throws) on bad options, a taken `port`, a missing binary, or a server that fails
 * to start (with its log).
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import assert from "node:assert/strict";
 * import { Redis } from "ioredis";
 * import { startRedis } from "timebound/testing";
 *
 * test("remembers a key", async () => {
 *   await using server = await startRedis();
 *   const redis = new Redis(server.port, server.host);
 *   try {
 *     await redis.set("k", "v");
 *     assert.equal(await redis.get("k"), "v");
 *   } finally {
 *     redis.disconnect();
 *   }
 * });
 * ```
 */
export async function startRedis(options?: ServerOptions): Promise<RedisServer> {
  const fn = "startRedis";
  const checked = checkServerOptions(fn, options);
  const bin = findRedisServer();
  if (bin === undefined) {
    throw new Error(
      `${fn}: redis-server not found (install Debian's redis-server package, or set ` +
        "TIMEBOUND_REDIS_SERVER to its path)",
    );
  }
  if (checked.port !== undefined) await checkPortFree(fn, checked.port);
  const host = "127.0.0.1";
  let server: ServerProcess;
  let port: number;
  for (let attempt = 1; ; attempt++) {
    port = checked.port ?? (await freePort());
    const args = ["--port", String(port), "--bind", host, "--save", "", "--appendonly", "no"];
    args.push("--protected-mode", "yes", "--daemonize", "no");
    try {
      server = await startServerProcess(bin, args, /Ready to accept connections/, {
        name: `${fn}: redis-server`,
        timeoutMs: checked.startTimeoutMs,
        logTailBytes: checked.logTailBytes,
      });
      break;
    } catch (err) {
      const taken = err instanceof ServerStartError && /Address already in use/i.test(err.log);
      if (!taken) throw err;
      if (checked.port !== undefined) throw portError(fn, port, "EADDRINUSE");
      if (attempt === PORT_ATTEMPTS) throw err;
    }
  }
  const stop = (): Promise<void> => server.stop("SIGTERM");
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    pid: server.pid,
    log: () => server.output(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
