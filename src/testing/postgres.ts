import { checkBoolean } from "../core/internal.js";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkPortFree, freePort, portError } from "./free-port.js";
import { guardFolder } from "./leftovers.js";
import { type CheckedServerOptions, checkServerOptions, type ServerOptions } from "./options.js";
import { POSTGRES_USER, type RunAs, forgetCachedCluster, makeCluster } from "./postgres-cluster.js";
import { type ServerProcess, ServerStartError, startServerProcess } from "./server-process.js";

/**
 * A throwaway PostgreSQL server on a loopback port, from {@link startPostgres}. `await using`
 * stops it at the end of the block.
 *
 * @example
 * ```ts
 * const server = await startPostgres();
 * const pool = new pg.Pool({ connectionString: server.url });
 * try {
 *   await pool.query("CREATE TABLE jobs (id serial PRIMARY KEY)");
 * } catch (err) {
 *   console.error(server.log()); // what the server said
 *   throw err;
 * } finally {
 *   await pool.end();
 *   await server.stop();
 * }
 * ```
 */
export interface PostgresServer extends AsyncDisposable {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on: the `port` option, or a free one picked at start. */
  readonly port: number;
  /** The superuser, `postgres`; no password (trust authentication, loopback only). */
  readonly user: string;
  /** `postgres` */
  readonly database: string;
  /** `postgres://postgres@127.0.0.1:port/postgres` */
  readonly url: string;
  /** The postmaster's pid. */
  readonly pid: number;
  /**
   * The temporary folder that holds the cluster (`data/`) and the server's Unix socket; removed
   * by {@link PostgresServer.stop}.
   */
  readonly directory: string;
  /** The end of the server's log (see {@link ServerOptions.logTailBytes}). */
  log(): string;
  /**
   * Fast shutdown (open transactions are rolled back, clients disconnected), then removes
   * {@link PostgresServer.directory}. Idempotent: later calls return the first call's promise.
   */
  stop(): Promise<void>;
  /** {@link PostgresServer.stop}: `await using pg = await startPostgres()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Options of {@link startPostgres}.
 *
 * @example
 * ```ts
 * await using pg = await startPostgres({ port: 55432, clusterCache: true });
 * ```
 */
export interface PostgresOptions extends ServerOptions {
  /**
   * Whether to copy a cached pristine cluster instead of running initdb (about 0.1 s instead of
   * 1 s). Default false: nothing is left on disk. With true, the first start runs initdb and
   * keeps a copy of its result (about 28 MB) in `<tmpdir>/timebound-pg-cache-<uid>/`, on
   * purpose: one per PostgreSQL binary, reused by every later start, rebuilt if it fails to
   * start. Delete that folder to clear it. Worth it for a suite that starts many servers
   * (timebound's own test run sets it).
   */
  readonly clusterCache?: boolean;
}

/**
 * Where the server binaries are: `$TIMEBOUND_PG_BIN`, or the newest /usr/lib/postgresql/N/bin.
 *
 * @example
 * ```ts
 * test("with PostgreSQL", { skip: findPostgresBin() === undefined && "no PostgreSQL here" }, async () => {
 *   await using server = await startPostgres();
 * });
 * ```
 */
export function findPostgresBin(): string | undefined {
  const fromEnv = process.env.TIMEBOUND_PG_BIN;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

/** Settings for a server that only tests use: fast, nothing kept safe on disk. */
const SETTINGS = {
  listen_addresses: "127.0.0.1",
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  max_connections: "200",
  shared_buffers: "32MB",
};

/** How many free ports are tried when another program takes the one picked before postgres binds it. */
const PORT_ATTEMPTS = 3;

/**
 * Starts PostgreSQL from the system's binaries (Debian's `postgresql` package; see
 * {@link findPostgresBin}) on a loopback port, tuned for tests (no fsync): a fresh cluster in a
 * temporary folder (`<tmpdir>/timebound-pg-*`), superuser `postgres` without a password. As root,
 * the server runs as the `postgres` user (or `nobody`), since PostgreSQL refuses root. Takes about
 * 1 s, or 0.3 s with the cluster cache (see {@link PostgresOptions.clusterCache}).
 *
 * Nothing is left behind: {@link PostgresServer.stop} (or `await using`) stops the server and
 * removes its folder. If this process ends first, the same happens, however it ends: at its
 * `exit` event (a natural end, `process.exit()`, an uncaught exception) before it is gone, and
 * after a fatal signal (SIGINT, SIGTERM, SIGHUP, even SIGKILL) or a crash in native code within
 * moments, by a small watchdog process (`node`) started with the server, which exits once every
 * server is stopped. No signal handler is installed: signals keep Node's default behaviour, and
 * a program's own handlers decide. The server runs in its own session, so a Ctrl-C in the
 * terminal reaches this process, not the server. Once ready, the server does not keep this
 * process alive: a program that forgets `stop()` still exits, and its exit stops the server.
 *
 * Rejects (never throws) with a clear error on bad options, a taken `port`, missing binaries, or a
 * server that fails to start (the error ends with its log, see {@link ServerStartError}).
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import assert from "node:assert/strict";
 * import pg from "pg";
 * import { startPostgres } from "timebound/testing";
 *
 * test("counts rows", async () => {
 *   await using server = await startPostgres();
 *   const client = new pg.Client({ connectionString: server.url });
 *   await client.connect();
 *   try {
 *     const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_class");
 *     assert.ok(rows[0].n > 0, "the catalog has tables");
 *   } finally {
 *     await client.end();
 *   }
 * }); // the server is stopped and its folder removed here, even if the test failed
 * ```
 */
export async function startPostgres(options?: PostgresOptions): Promise<PostgresServer> {
  const fn = "startPostgres";
  const checked = checkServerOptions(fn, options, ["clusterCache"]);
  const clusterCache = options?.clusterCache ?? false;
  checkBoolean(clusterCache, fn, "options.clusterCache");
  const bin = findPostgresBin();
  if (bin === undefined) {
    throw new Error(
      `${fn}: no PostgreSQL server binaries found (install Debian's postgresql package, ` +
        "or set TIMEBOUND_PG_BIN to the folder holding initdb and postgres)",
    );
  }
  if (checked.port !== undefined) await checkPortFree(fn, checked.port);
  const runAs = process.getuid?.() === 0 ? unprivilegedUser(fn) : undefined;

  const directory = await mkdtemp(join(tmpdir(), "timebound-pg-"));
  const folder = guardFolder(directory);
  let started: Postmaster;
  try {
    await folder.watched.catch((err: Error) => {
      throw new Error(`${fn}: ${err.message}`, { cause: err });
    });
    if (runAs !== undefined) await chown(directory, runAs.uid, runAs.gid);
    const data = join(directory, "data");
    const made = await makeCluster(fn, bin, data, runAs, clusterCache);
    try {
      started = await startPostmaster(fn, bin, directory, runAs, checked);
    } catch (err) {
      if (made !== "cache" || !(err instanceof ServerStartError && err.reason === "exited")) {
        throw err;
      }
      // A broken cached cluster (a temp cleaner took files from it?): rebuild it, once.
      await forgetCachedCluster(bin, runAs);
      await rm(data, { recursive: true, force: true });
      await makeCluster(fn, bin, data, runAs, true);
      started = await startPostmaster(fn, bin, directory, runAs, checked);
    }
  } catch (err) {
    await rm(directory, { recursive: true, force: true, maxRetries: 5 });
    folder.release();
    throw err;
  }

  const { server, port } = started;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await server.stop("SIGINT"); // fast shutdown: roll back, disconnect clients, exit
      await rm(directory, { recursive: true, force: true, maxRetries: 5 });
      folder.release();
    })());
  const host = "127.0.0.1";
  return {
    host,
    port,
    user: POSTGRES_USER,
    database: "postgres",
    url: `postgres://${POSTGRES_USER}@${host}:${port}/postgres`,
    pid: server.pid,
    directory,
    log: () => server.output(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

interface Postmaster {
  readonly server: ServerProcess;
  readonly port: number;
}

/** `postgres` on `options.port`, or on a free port (another if the one picked was taken). */
async function startPostmaster(
  fn: string,
  bin: string,
  directory: string,
  runAs: RunAs | undefined,
  options: CheckedServerOptions,
): Promise<Postmaster> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const args = ["-D", join(directory, "data"), "-p", String(port)];
    const settings = { ...SETTINGS, unix_socket_directories: directory };
    for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
    try {
      const server = await startServerProcess(
        join(bin, "postgres"),
        args,
        /database system is ready to accept connections/,
        {
          name: `${fn}: postgres`,
          ...runAs,
          timeoutMs: options.startTimeoutMs,
          logTailBytes: options.logTailBytes,
          // Immediate shutdown: the postmaster stops its backends at once, then exits.
          abandonSignal: "SIGQUIT",
        },
      );
      return { server, port };
    } catch (err) {
      const taken = err instanceof ServerStartError && /Address already in use/i.test(err.log);
      if (!taken) throw err;
      if (options.port !== undefined) throw portError(fn, port, "EADDRINUSE");
      if (attempt === PORT_ATTEMPTS) throw err;
    }
  }
}

let runAsUser: RunAs | undefined;

/** The user to run PostgreSQL as when this process is root: `postgres`, or `nobody`. */
function unprivilegedUser(fn: string): RunAs {
  if (runAsUser !== undefined) return runAsUser;
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", name]).toString().trim());
      return (runAsUser = { uid, gid });
    } catch {
      // try the next one
    }
  }
  throw new Error(`${fn}: running as root and found neither a postgres nor a nobody user`);
}
