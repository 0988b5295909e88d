import { background } from "../core/index.js";
import { checkNumber, readOptions } from "../core/internal.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../sync/sleep.js";
import { freePort } from "./free-port.js";
import { guardFolder } from "./leftovers.js";
import { findRedisServer } from "./redis.js";
import { sendCommand } from "./resp.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";

/** One master of a {@link RedisCluster}. */
export interface RedisClusterNode {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on for clients (the cluster bus is this port + 10000). */
  readonly port: number;
  /** `redis://127.0.0.1:port` */
  readonly url: string;
  /** The slots it serves, as [first, last]. */
  readonly slots: readonly [number, number];
}

/**
 * A throwaway Redis Cluster on loopback ports, from {@link startRedisCluster}. `await using`
 * stops it at the end of the block.
 */
export interface RedisCluster extends AsyncDisposable {
  /** The masters, in the order of their slots. */
  readonly nodes: readonly RedisClusterNode[];
  /** Stops every node and removes their files. Idempotent. */
  stop(): Promise<void>;
  /** {@link RedisCluster.stop}: `await using cluster = await startRedisCluster()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Options of {@link startRedisCluster}.
 *
 * @example
 * ```ts
 * await using cluster = await startRedisCluster({ masters: 2 });
 * ```
 */
export interface RedisClusterOptions {
  /** How many masters (no replicas), from 1 to 16. Default 3. */
  readonly masters?: number;
}

const FN = "startRedisCluster";
const SLOTS = 16_384;
const READY_TIMEOUT_MS = 10_000;

/**
 * Starts a Redis Cluster of `options.masters` nodes (default 3, no replicas) from the system's
 * redis-server, on free 127.0.0.1 ports, with no persistence and its cluster config files in a
 * temporary directory. Slots are split evenly and assigned by hand (CLUSTER ADDSLOTSRANGE,
 * SET-CONFIG-EPOCH, MEET), which is what `redis-cli --cluster create` does without its
 * one-second polls; resolves once every node sees the cluster as ok (Redis makes a new master
 * wait 2 s before it says so). Needs Redis >= 7. Nothing is left behind, as for
 * {@link startRedis}: `stop()`, `await using` or this process's end stops the nodes.
 *
 * Rejects (never throws) on bad options, a missing binary, or a cluster that fails to start.
 *
 * @example
 * ```ts
 * await using cluster = await startRedisCluster({ masters: 3 });
 * const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
 * try {
 *   await client.set("k", "v");
 * } finally {
 *   client.disconnect();
 * }
 * ```
 */
export async function startRedisCluster(options?: RedisClusterOptions): Promise<RedisCluster>;
/** @deprecated pass `{ masters }`: `startRedisCluster({ masters: 3 })`. */
export async function startRedisCluster(masters: number): Promise<RedisCluster>;
export async function startRedisCluster(
  options?: RedisClusterOptions | number,
): Promise<RedisCluster> {
  // The number form is the old call; it keeps its message ("masters must be ...").
  const masters =
    typeof options === "number"
      ? checkNumber(options, FN, "masters", MASTERS_RANGE)
      : readOptions(options, FN, ["masters"]).number("masters", 3, MASTERS_RANGE);
  const server = findRedisServer();
  if (server === undefined) {
    throw new Error(
      `${FN}: redis-server not found (install Debian's redis-server package, or ` +
        "set TIMEBOUND_REDIS_SERVER to its path)",
    );
  }
  // The nodes and their folder are guarded as startRedis's are: nothing outlives this process.
  const dir = mkdtempSync(join(tmpdir(), "timebound-redis-cluster-"));
  const folder = guardFolder(dir);
  const children: ServerProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(children.map((child) => child.stop("SIGTERM", 5_000)));
      rmSync(dir, { recursive: true, force: true });
      folder.release();
    })());
  try {
    const ports = await distinctFreePorts(masters);
    const host = "127.0.0.1";
    const nodes = ports.map((port, i): RedisClusterNode => {
      const first = Math.floor((SLOTS * i) / masters);
      const last = Math.floor((SLOTS * (i + 1)) / masters) - 1;
      return { host, port, url: `redis://${host}:${port}`, slots: [first, last] };
    });
    await Promise.all(
      nodes.map(async ({ port }) => children.push(await startNode(server, dir, host, port))),
    );
    const run = (port: number, ...args: string[]): Promise<string> =>
      sendCommand(host, port, args, FN);
    await Promise.all(
      nodes.map(async ({ port, slots }, i) => {
        await run(port, "CLUSTER", "ADDSLOTSRANGE", String(slots[0]), String(slots[1]));
        await run(port, "CLUSTER", "SET-CONFIG-EPOCH", String(i + 1));
      }),
    );
    // Every node meets every later one: no waiting for gossip to spread the news.
    await Promise.all(
      nodes.flatMap(({ port }, i) =>
        nodes.slice(i + 1).map((other) => run(port, "CLUSTER", "MEET", host, String(other.port))),
      ),
    );
    await waitUntilOk(nodes, run);
    return { nodes, stop, [Symbol.asyncDispose]: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const MASTERS_RANGE = { min: 1, max: 16, integer: true };

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  // A cluster node also listens on its port + 10000 (the cluster bus): keep those free too.
  while (ports.size < n) {
    const port = await freePort();
    if (port + 10_000 <= 65_535) ports.add(port);
  }
  return [...ports];
}

function startNode(
  server: string,
  dir: string,
  host: string,
  port: number,
): Promise<ServerProcess> {
  const args = [
    "--port", String(port),
    "--bind", host,
    "--dir", dir,
    "--cluster-enabled", "yes",
    "--cluster-config-file", `nodes-${port}.conf`,
    "--cluster-node-timeout", "5000",
    "--cluster-announce-ip", host,
    "--save", "",
    "--appendonly", "no",
    "--protected-mode", "yes",
    "--daemonize", "no",
  ]; // prettier-ignore
  return startServerProcess(server, args, /Ready to accept connections/, {
    name: `${FN}: node on port ${port}`,
    timeoutMs: READY_TIMEOUT_MS,
  });
}

/** Polls until every node says the cluster is ok and knows every node. */
async function waitUntilOk(
  nodes: readonly RedisClusterNode[],
  run: (port: number, ...args: string[]) => Promise<string>,
): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const infos = await Promise.all(nodes.map(({ port }) => run(port, "CLUSTER", "INFO")));
    const ok = infos.every(
      (info) =>
        /cluster_state:ok/.test(info) &&
        Number(/cluster_known_nodes:(\d+)/.exec(info)?.[1]) === nodes.length,
    );
    if (ok) return;
    if (performance.now() > deadline) {
      throw new Error(`${FN}: the cluster did not become ok in time:\n${infos.join("\n")}`);
    }
    await sleep(background(), 20);
  }
}
