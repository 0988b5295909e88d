// timebound/redis over a node-redis 5 cluster (`createCluster`). Commands that do not block go
// through the cluster (its routing and redirections), with the stand-in abort signal passed down
// to the node client that queues them; blocking ones run on dedicated connections to the master
// serving their key's slot, and CLIENT UNBLOCK goes to that node.
import type { RedisDriver, Route } from "../driver.js";
import { keySlot } from "../slot.js";
import { clusterKey } from "./cluster-key.js";
import { openNodeRedisConnection } from "./connection.js";
import { decodeBuffers, toNodeRedisArgs } from "./decode.js";
import { type NodeRedisOptionsHolder, nodeRedis5 } from "./flavours.js";
import { type Send, runOnNodeRedis } from "./on-client.js";
import type { NodeRedisArgument, NodeRedisClient } from "./types.js";

/** A node of the cluster as node-redis 5 describes it. */
interface ClusterNode {
  readonly address: string;
}

/**
 * The parts of node-redis 5's RedisCluster the adapter uses.
 *
 * @internal
 */
export interface NodeRedisCluster extends NodeRedisOptionsHolder {
  readonly isOpen: boolean;
  readonly _self?: NodeRedisCluster;
  readonly slots: readonly ({ readonly master?: ClusterNode } | undefined)[];
  readonly masters: readonly ClusterNode[];
  readonly nodeByAddress: ReadonlyMap<string, ClusterNode>;
  nodeClient(node: ClusterNode): Promise<NodeRedisClient> | NodeRedisClient;
  sendCommand(
    firstKey: NodeRedisArgument | undefined,
    isReadonly: boolean | undefined,
    args: NodeRedisArgument[],
    options?: object,
  ): Promise<unknown>;
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

const CLIENT_CLOSED = "The client is closed";

const routes = new WeakMap<NodeRedisCluster, Map<string, Route>>();

/** Sends `redisArgs` (name first) through `cluster`, routed by `key`. */
function sendThrough(
  cluster: NodeRedisCluster,
  redisArgs: NodeRedisArgument[],
  key: NodeRedisArgument | undefined,
): Send {
  return (options) => cluster.sendCommand(key, false, redisArgs, options);
}

/** `key` as node-redis takes it (a number's decimal text). */
function asKey(key: string | number | Buffer | undefined): NodeRedisArgument | undefined {
  return typeof key === "number" ? String(key) : key;
}

/**
 * timebound/redis over a node-redis 5 cluster.
 *
 * @internal
 */
export const nodeRedis5ClusterDriver: RedisDriver<NodeRedisCluster> = {
  name: "node-redis 5 cluster",
  identity: (cluster) => nodeRedis5.identity(cluster),
  runOnClient(ctx, cluster, name, args, encoding) {
    const self = nodeRedis5.identity(cluster);
    const send = sendThrough(self, toNodeRedisArgs(name, args), asKey(clusterKey(name, args)));
    const typeMapping = nodeRedis5.typeMapping(self);
    return runOnNodeRedis(
      this,
      nodeRedis5,
      ctx,
      cluster,
      undefined,
      typeMapping,
      send,
      name,
      args,
      encoding,
    );
  },
  route(_ctx, cluster, key) {
    const self = nodeRedis5.identity(cluster);
    const node = key === undefined ? self.masters[0] : self.slots[keySlot(key)]?.master;
    if (node === undefined) {
      throw new Error("timebound/redis: the cluster knows no node for this command's slot yet");
    }
    let byNode = routes.get(self);
    if (byNode === undefined) {
      byNode = new Map();
      routes.set(self, byNode);
    }
    const address = node.address;
    let route = byNode.get(address);
    if (route === undefined) {
      const typeMapping = nodeRedis5.typeMapping(self);
      route = {
        node: address,
        open: async (role) => {
          // The cluster may have replaced its node objects since (a rediscovery).
          const current = self.nodeByAddress.get(address);
          if (current === undefined) {
            throw new Error(`timebound/redis: the cluster no longer has a node at ${address}`);
          }
          const base = await self.nodeClient(current);
          return openNodeRedisConnection(nodeRedis5, base, role, typeMapping);
        },
      };
      byNode.set(address, route);
    }
    return route;
  },
  sendRaw(cluster, name, args) {
    const self = nodeRedis5.identity(cluster);
    const options = nodeRedis5.sendOptions(nodeRedis5.typeMapping(self), null);
    return self.sendCommand(
      asKey(clusterKey(name, args)),
      false,
      toNodeRedisArgs(name, args),
      options,
    );
  },
  decode: (cluster, reply, encoding) =>
    encoding !== null && nodeRedis5.decodesRaw(nodeRedis5.typeMapping(cluster))
      ? decodeBuffers(reply)
      : reply,
  keyPrefix: () => "",
  closedError: (cluster) => (cluster.isOpen ? undefined : new Error(CLIENT_CLOSED)),
  onEnd(cluster, listener) {
    const self = nodeRedis5.identity(cluster);
    self.once("disconnect", listener);
    return () => void self.off("disconnect", listener);
  },
};
