import type { RedisDriver, Route } from "../driver.js";
import { openNodeRedisConnection } from "./connection.js";
import { decodeBuffers, toNodeRedisArgs } from "./decode.js";
import { type Flavour, nodeRedis4, nodeRedis5 } from "./flavours.js";
import { runOnNodeRedis, sendOn } from "./on-client.js";
import type { NodeRedisClient } from "./types.js";

/** As node-redis answers a command on a client that is not open. */
const CLIENT_CLOSED = "The client is closed";

function standaloneDriver(flavour: Flavour): RedisDriver<NodeRedisClient> {
  const routes = new WeakMap<NodeRedisClient, Route>();
  return {
    name: flavour.name,
    identity: (client) => flavour.identity(client),
    runOnClient(ctx, client, name, args, encoding) {
      const send = sendOn(client, name, args);
      const typeMapping = flavour.typeMapping(client);
      return runOnNodeRedis(
        this,
        flavour,
        ctx,
        client,
        client,
        typeMapping,
        send,
        name,
        args,
        encoding,
      );
    },
    route(_ctx, client) {
      const self = flavour.identity(client);
      let route = routes.get(self);
      if (route === undefined) {
        const typeMapping = flavour.typeMapping(self);
        route = {
          node: "",
          open: (role) => openNodeRedisConnection(flavour, self, role, typeMapping),
        };
        routes.set(self, route);
      }
      return route;
    },
    sendRaw(client, name, args) {
      const options = flavour.sendOptions(flavour.typeMapping(client), null);
      return client.sendCommand(toNodeRedisArgs(name, args), options);
    },
    decode: (client, reply, encoding) =>
      encoding !== null && flavour.decodesRaw(flavour.typeMapping(client))
        ? decodeBuffers(reply)
        : reply,
    keyPrefix: () => "",
    closedError: (client) => (client.isOpen ? undefined : new Error(CLIENT_CLOSED)),
    onEnd(client, listener) {
      const self = flavour.identity(client);
      self.once("end", listener);
      return () => void self.off("end", listener);
    },
  };
}

/**
 * timebound/redis over a node-redis 5 client (`createClient` of `redis` 5).
 *
 * @internal
 */
export const nodeRedis5Driver = standaloneDriver(nodeRedis5);

/**
 * timebound/redis over a node-redis 4 client (`createClient` of `redis` 4).
 *
 * @internal
 */
export const nodeRedis4Driver = standaloneDriver(nodeRedis4);
