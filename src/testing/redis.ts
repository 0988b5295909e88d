import { execFileSync } from "node:child_process";
import { freePort } from "./free-port.js";
import { startServerProcess } from "./server-process.js";

/** A throwaway Redis server on a loopback port. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:port` */
  readonly url: string;
  stop(): Promise<void>;
}

/** The redis-server binary: `$TIMEBOUND_REDIS_SERVER`, or `redis-server` on the PATH. */
export function findRedisServer(): string | undefined {
  const fromEnv = process.env.TIMEBOUND_REDIS_SERVER;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"]).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts redis-server (Debian's `redis-server` package) on a free 127.0.0.1 port, with no
 * persistence.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * const client = new Redis(redis.port, redis.host);
 * ```
 */
export async function startRedis(): Promise<RedisServer> {
  const bin = findRedisServer();
  if (bin === undefined) {
    throw new Error(
      "startRedis: redis-server not found (install Debian's redis-server package, or set " +
        "TIMEBOUND_REDIS_SERVER to its path)",
    );
  }
  const port = await freePort();
  const host = "127.0.0.1";
  const server = await startServerProcess(
    bin,
    [
      "--port",
      String(port),
      "--bind",
      host,
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
      "--daemonize",
      "no",
    ],
    /Ready to accept connections/,
    { name: "redis-server" },
  );
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    stop: () => server.stop("SIGTERM"),
  };
}
