import type { Redis } from "ioredis";
import { decodeReply } from "./decode.js";
import type { RedisDriver, Route } from "../driver.js";
import { openIoredisConnection } from "./connection.js";
import { createCommand } from "./internals.js";
import { runOnIoredis } from "./on-client.js";

/** As ioredis answers a command on a client that has ended. */
const CONNECTION_CLOSED = "Connection is closed.";

const routes = new WeakMap<Redis, Route>();

/**
 * timebound/redis over a standalone ioredis 5 client (`new Redis(...)`).
 *
 * @internal
 */
export const ioredisDriver: RedisDriver<Redis> = {
  name: "ioredis",
  identity: (client) => client,
  runOnClient(ctx, client, name, args, encoding) {
    return runOnIoredis(this, ctx, client, name, args, encoding);
  },
  route(_ctx, client) {
    let route = routes.get(client);
    if (route === undefined) {
      route = { node: "", open: (role) => openIoredisConnection(client, role) };
      routes.set(client, route);
    }
    return route;
  },
  sendRaw(client, name, args) {
    const command = createCommand(client, name, args, null, undefined);
    void client.sendCommand(command);
    return command.promise as Promise<unknown>;
  },
  decode: (_client, reply, encoding) => decodeReply(reply, encoding),
  keyPrefix: (client) => client.options.keyPrefix ?? "",
  closedError: (client) => (client.status === "end" ? new Error(CONNECTION_CLOSED) : undefined),
  onEnd(client, listener) {
    client.once("end", listener);
    return () => void client.off("end", listener);
  },
};
