import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { startServerProcess } from "./server-process.js";

/** A throwaway PostgreSQL server on a loopback port. */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** `postgres://user@127.0.0.1:port/database` */
  readonly url: string;
  /** Fast shutdown, then removes the data directory. */
  stop(): Promise<void>;
}

/** Where the server binaries are: `$TIMEBOUND_PG_BIN`, or the newest /usr/lib/postgresql/N/bin. */
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

/**
 * Starts PostgreSQL from the system's binaries (Debian's `postgresql` package): `initdb` into a
 * temporary directory, then `postgres` on a free 127.0.0.1 port, tuned for tests (no fsync).
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (or `nobody`).
 *
 * @example
 * ```ts
 * const pg = await startPostgres();
 * const pool = new Pool({ connectionString: pg.url });
 * // ...
 * await pool.end();
 * await pg.stop();
 * ```
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (bin === undefined) {
    throw new Error(
      "startPostgres: no PostgreSQL server binaries found (install Debian's postgresql package, " +
        "or set TIMEBOUND_PG_BIN to the folder holding initdb and postgres)",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "timebound-pg-"));
  const ids = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  if (ids !== undefined) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, "data");
  const user = "postgres";
  try {
    execFileSync(
      join(bin, "initdb"),
      ["-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
      { stdio: "pipe", ...ids },
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`startPostgres: initdb failed: ${stderr || String(err)}`, { cause: err });
  }
  const port = await freePort();
  const settings = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dir,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "200",
    shared_buffers: "32MB",
  };
  const args = ["-D", data, "-p", String(port)];
  for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
  const server = await startServerProcess(
    join(bin, "postgres"),
    args,
    /database system is ready to accept connections/,
    { name: "postgres", ...ids },
  );
  const host = "127.0.0.1";
  return {
    host,
    port,
    user,
    database: "postgres",
    url: `postgres://${user}@${host}:${port}/postgres`,
    async stop() {
      await server.stop("SIGINT"); // fast shutdown: roll back, disconnect clients, exit
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function unprivilegedUser(): { uid: number; gid: number } {
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", name]).toString().trim());
      return { uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error("startPostgres: running as root and found neither a postgres nor a nobody user");
}
