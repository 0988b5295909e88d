import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guardFolder } from "./leftovers.js";
import { runCommand } from "./run-command.js";

/**
 * The user PostgreSQL runs as (set when this process is root, which initdb refuses).
 *
 * @internal
 */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * The superuser name of every cluster.
 *
 * @internal
 */
export const POSTGRES_USER = "postgres";

/**
 * initdb's arguments besides the folder. WAL segments of 1 MB instead of 16 keep a cluster at
 * about 28 MB instead of 39.
 */
const INITDB_ARGS = [
  "-U",
  POSTGRES_USER,
  "-A",
  "trust",
  "-E",
  "UTF8",
  "--locale=C",
  "--no-sync",
  "--no-instructions",
  "--wal-segsize=1",
];

/**
 * Where this user's pristine clusters are kept: `<tmpdir>/timebound-pg-cache-<uid>/`, one folder
 * per PostgreSQL binary (path, size, date), user and initdb arguments.
 *
 * @internal
 */
export function clusterCacheRoot(): string {
  return join(tmpdir(), `timebound-pg-cache-${process.getuid?.() ?? "user"}`);
}

/**
 * Makes a new cluster in `data` (a folder that must not exist yet, in a folder `runAs` owns).
 * With `useCache`, copies the cached cluster when there is one (about 0.1 s instead of initdb's
 * 1 s), or runs initdb and caches its result for the next time. Says where it came from.
 *
 * @internal
 */
export async function makeCluster(
  fn: string,
  bin: string,
  data: string,
  runAs: RunAs | undefined,
  useCache: boolean,
): Promise<"cache" | "initdb"> {
  const cached = useCache ? await cachedClusterPath(bin, runAs) : undefined;
  if (cached !== undefined && (await isCluster(cached))) {
    try {
      // cp -a keeps owners (the postgres user's, when root copies) and the 0700 modes.
      await runCommand(`${fn}: copying the cached cluster`, "cp", ["-a", cached, data]);
      return "cache";
    } catch {
      await rm(data, { recursive: true, force: true }); // half a copy: make a fresh one
    }
  }
  try {
    await runCommand(`${fn}: initdb failed`, join(bin, "initdb"), ["-D", data, ...INITDB_ARGS], {
      ...runAs,
    });
  } catch (err) {
    if (runAs === undefined || !String(err).includes("Permission denied")) throw err;
    throw new Error(
      `${(err as Error).message}\n(${fn} runs PostgreSQL as uid ${runAs.uid} because this ` +
        `process is root; that user must be able to reach ${tmpdir()}: set TMPDIR to a folder ` +
        "every user can enter, such as /tmp)",
      { cause: err },
    );
  }
  if (cached !== undefined) await keepCopy(data, cached);
  return "initdb";
}

/**
 * Removes the cached cluster that `bin` would use (it failed to start).
 *
 * @internal
 */
export async function forgetCachedCluster(bin: string, runAs: RunAs | undefined): Promise<void> {
  const cached = await cachedClusterPath(bin, runAs);
  if (cached !== undefined) await rm(cached, { recursive: true, force: true });
}

/**
 * The cache folder for `bin`, or undefined when the cache root cannot be trusted: it must be a
 * real folder of this user that nobody else can write into (a cluster is code PostgreSQL runs).
 */
async function cachedClusterPath(
  bin: string,
  runAs: RunAs | undefined,
): Promise<string | undefined> {
  const root = clusterCacheRoot();
  try {
    await mkdir(root, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
  }
  try {
    const info = await lstat(root);
    const uid = process.getuid?.();
    if (
      !info.isDirectory() ||
      (uid !== undefined && info.uid !== uid) ||
      (info.mode & 0o022) !== 0
    ) {
      return undefined;
    }
    const postgres = await stat(join(bin, "postgres"));
    const key = createHash("sha256")
      .update(JSON.stringify([bin, postgres.size, postgres.mtimeMs, runAs, INITDB_ARGS]))
      .digest("hex")
      .slice(0, 16);
    return join(root, key);
  } catch {
    return undefined;
  }
}

async function isCluster(path: string): Promise<boolean> {
  try {
    await stat(join(path, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies the fresh cluster `data` to `cached`, whole or not at all: into a folder of its own,
 * then renamed. Another process may have done the same meanwhile; then its copy stays.
 */
async function keepCopy(data: string, cached: string): Promise<void> {
  const building = `${cached}.building-${randomBytes(4).toString("hex")}`;
  const guard = guardFolder(building);
  try {
    await runCommand("copying the new cluster to the cache", "cp", ["-a", data, building]);
    await rename(building, cached);
  } catch {
    // not cached this time; the next start tries again
  } finally {
    await rm(building, { recursive: true, force: true });
    guard.release();
  }
}
