import { background } from "../core/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../sync/sleep.js";
import { freePort } from "./free-port.js";
import { guardFolder } from "./leftovers.js";
import { findRedisServer } from "./redis.js";
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

/** A throwaway Redis Cluster on loopback ports. */
export interface RedisCluster {
  /** The masters, in the order of their slots. */
  readonly nodes: readonly RedisClusterNode[];
  /** Stops every node and removes their files. Idempotent. */
  stop(): Promise<void>;
}

const SLOTS = 16_384;
const READY_TIMEOUT_MS = 10_000;

/**
 * Starts a Redis Cluster of `masters` nodes (default 3, no replicas) from the system's
 * redis-server, on free 127.0.0.1 ports, with no persistence and its cluster config files in a
 * temporary directory. Slots are split evenly and assigned by hand (CLUSTER ADDSLOTSRANGE,
 * SET-CONFIG-EPOCH, MEET), which is what `redis-cli --cluster create` does without its
 * one-second polls; resolves once every node sees the cluster as ok (Redis makes a new master
 * wait 2 s before it says so). Needs Redis >= 7.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
 * // ...
 * client.disconnect();
 * await cluster.stop();
 * ```
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  if (!Number.isInteger(masters) || masters < 1 || masters > 16) {
    throw new RangeError(
      `startRedisCluster: masters must be an integer from 1 to 16, got ${masters}`,
    );
  }
  const server = findRedisServer();
  if (server === undefined) {
    throw new Error(
      "startRedisCluster: redis-server not found (install Debian's redis-server package, or " +
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
    const run = (port: number, ...args: string[]): Promise<string> => ask(host, port, args);
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
    return { nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

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
    name: `startRedisCluster: node on port ${port}`,
    timeoutMs: READY_TIMEOUT_MS,
  });
}

/**
 * Sends one command to a node on a connection of its own and resolves with its reply (a status,
 * an integer or a bulk string, as text); an error reply rejects. Enough to set a cluster up,
 * without a client library.
 */
function ask(host: string, port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let data = Buffer.alloc(0);
    const done = (err: Error | undefined, reply?: string): void => {
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(reply ?? "");
    };
    socket.on("error", (err) => done(err));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const reply = parseReply(data);
      if (reply === undefined) return;
      if (reply.error) done(new Error(`startRedisCluster: ${args.join(" ")}: ${reply.text}`));
      else done(undefined, reply.text);
    });
    socket.write(
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`,
    );
  });
}

/** One RESP2 reply of a simple type, or undefined while incomplete. */
function parseReply(data: Buffer): { text: string; error: boolean } | undefined {
  const eol = data.indexOf("\r\n");
  if (eol === -1) return undefined;
  const line = data.toString("utf8", 1, eol);
  const type = String.fromCharCode(data[0]!);
  if (type !== "$") return { text: line, error: type === "-" };
  const length = Number(line);
  if (length < 0) return { text: "", error: false };
  if (data.length < eol + 2 + length + 2) return undefined;
  return { text: data.toString("utf8", eol + 2, eol + 2 + length), error: false };
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
      throw new Error(
        `startRedisCluster: the cluster did not become ok in time:\n${infos.join("\n")}`,
      );
    }
    await sleep(background(), 20);
  }
}
