// timebound/redis over an ioredis Cluster. Commands that do not block go through the Cluster
// (its routing, redirections and retries); blocking ones run on dedicated connections to the node
// that serves their key's slot, and CLIENT UNBLOCK goes to that node: a server only unblocks its
// own clients.
import type { Context, ContextError } from "../../../core/index.js";
import type { Cluster, Command, Redis } from "ioredis";
import { raceContext } from "../../race.js";
import { decodeReply } from "./decode.js";
import type {
  DedicatedConnection,
  RedisArgument,
  RedisDriver,
  ReplyEncoding,
  Route,
} from "../driver.js";
import { handleLateReply } from "../late-reply.js";
import { takesData } from "../restore.js";
import { keySlot, prefixKey } from "../slot.js";
import { abandon } from "./abandoned.js";
import { openIoredisConnection } from "./connection.js";
import { awaitsReply, createCommand, withdraw, withdrawFromCluster } from "./internals.js";

const CONNECTION_CLOSED = "Connection is closed.";

/**
 * timebound/redis over an ioredis 5 Cluster (`new Cluster(...)`).
 *
 * @internal
 */
export const ioredisClusterDriver: RedisDriver<Cluster> = {
  name: "ioredis Cluster",
  identity: (cluster) => cluster,
  runOnClient(ctx, cluster, name, args, encoding) {
    return runOnCluster(this, ctx, cluster, name, args, encoding);
  },
  route(ctx, cluster, key) {
    if (cluster.status === "ready") return routeFor(cluster, key);
    return ready(ctx, cluster).then(() => routeFor(cluster, key));
  },
  sendRaw(cluster, name, args) {
    const command = createCommand(cluster, name, args, null, undefined);
    void cluster.sendCommand(command);
    return command.promise as Promise<unknown>;
  },
  decode: (_cluster, reply, encoding) => decodeReply(reply, encoding),
  keyPrefix: (cluster) => cluster.options.keyPrefix ?? "",
  closedError: (cluster) => (cluster.status === "end" ? new Error(CONNECTION_CLOSED) : undefined),
  onEnd(cluster, listener) {
    cluster.once("end", listener);
    return () => void cluster.off("end", listener);
  },
};

/**
 * Waits, under `ctx`, for `cluster` to be ready (its slots known); rejects if it ends first. Stops
 * listening when `ctx` ends, so that callers giving up on a cluster that stays down leave nothing.
 */
function ready(ctx: Context, cluster: Cluster): Promise<void> {
  let stop = (): void => {};
  return raceContext(
    ctx,
    () =>
      new Promise<void>((resolve, reject) => {
        const onReady = (): void => {
          stop();
          resolve();
        };
        const onEnd = (): void => {
          stop();
          reject(new Error(CONNECTION_CLOSED));
        };
        stop = () => {
          cluster.off("ready", onReady);
          cluster.off("end", onEnd);
        };
        cluster.once("ready", onReady);
        cluster.once("end", onEnd);
      }),
    () => stop(),
  );
}

const routes = new WeakMap<Cluster, Map<string, Route>>();

/**
 * The master serving `key`'s slot (the key prefixed as the server sees it); for a command without
 * a key (WAIT), any master.
 */
function routeFor(cluster: Cluster, key: RedisArgument | undefined): Route {
  const prefix = cluster.options.keyPrefix ?? "";
  const node =
    key === undefined
      ? nodeKeyOf(cluster.nodes("master")[0])
      : cluster.slots[keySlot(prefixKey(prefix, key))]?.[0];
  if (node === undefined) {
    throw new Error("timebound/redis: the cluster knows no node for this command's slot yet");
  }
  let byNode = routes.get(cluster);
  if (byNode === undefined) {
    byNode = new Map();
    routes.set(cluster, byNode);
  }
  let route = byNode.get(node);
  if (route === undefined) {
    route = {
      node,
      open: async (role) => {
        const connection = await openIoredisConnection(
          nodeClient(cluster, node),
          role,
          prefix || undefined,
        );
        return refreshingOnMoved(connection, cluster);
      },
    };
    byNode.set(node, route);
  }
  return route;
}

function nodeKeyOf(redis: Redis | undefined): string | undefined {
  return redis === undefined ? undefined : `${redis.options.host}:${redis.options.port}`;
}

/** The Cluster's own client for `node` (`host:port`): what dedicated connections copy. */
function nodeClient(cluster: Cluster, node: string): Redis {
  const found = cluster.nodes("all").find((redis) => nodeKeyOf(redis) === node);
  if (found === undefined)
    throw new Error(`timebound/redis: the cluster has no client for ${node}`);
  return found;
}

/**
 * `connection`, telling `cluster` to refresh its slots when a command is told its slot has moved
 * (MOVED, ASK): the command fails with that error, and the next one is routed anew.
 */
function refreshingOnMoved(connection: DedicatedConnection, cluster: Cluster): DedicatedConnection {
  const send = connection.send.bind(connection);
  connection.send = (name, args, encoding) =>
    send(name, args, encoding).catch((err: unknown) => {
      if (err instanceof Error && /^(MOVED|ASK) /.test(err.message)) cluster.refreshSlotsCache();
      throw err;
    });
  return connection;
}

/**
 * Runs a command that does not block through `cluster`, under `ctx`. When `ctx` ends first the
 * caller is released at once. A command still queued (by the Cluster while it connects, or by a
 * node's client) is withdrawn; a written one is left to finish and its late reply handled, and it
 * is redirected or retried no more: an error it gets from then on is final.
 */
function runOnCluster(
  driver: RedisDriver<Cluster>,
  ctx: Context,
  cluster: Cluster,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
): Promise<unknown> {
  let sent: { command: Command; stopRetries: () => void } | undefined;
  // A pop's reply is kept as Buffers until the caller has it, so a late one goes back byte for byte.
  const raw = encoding !== null && takesData(name);
  return raceContext(
    ctx,
    () => {
      const command = createCommand(
        cluster,
        name,
        args,
        raw ? null : encoding,
        cluster.options.keyPrefix,
      );
      const settle = command.reject;
      void cluster.sendCommand(command);
      // The Cluster replaced reject with its retry and redirection logic; keep it until the
      // caller has gone.
      const retrying = command.reject;
      let retries = true;
      command.reject = (err: Error) => (retries ? retrying(err) : settle(err));
      sent = { command, stopRetries: () => void (retries = false) };
      const reply = command.promise as Promise<unknown>;
      return raw ? reply.then((r) => decodeReply(r, encoding)) : reply;
    },
    (err) => {
      if (sent === undefined) return;
      sent.stopRetries();
      letGo(driver, cluster, sent.command, name, args, encoding, err);
    },
  );
}

function letGo(
  driver: RedisDriver<Cluster>,
  cluster: Cluster,
  command: Command,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
  err: ContextError,
): void {
  const nodes = cluster.nodes("all");
  if (withdrawFromCluster(cluster, command) || nodes.some((node) => withdraw(node, command))) {
    command.reject(err);
    return;
  }
  const holder = nodes.find((node) => awaitsReply(node, command));
  if (holder !== undefined) abandon(holder, command, err);
  handleLateReply(driver, cluster, command.promise as Promise<unknown>, name, args, encoding);
}
