import type {
  ConnectionRole,
  DedicatedConnection,
  RedisArgument,
  ReplyEncoding,
} from "../driver.js";
import { toNodeRedisArgs } from "./decode.js";
import type { Flavour } from "./flavours.js";
import type { NodeRedisClient, TypeMapping } from "./types.js";

/** A dedicated connection over a node-redis client of its own. */
class NodeRedisConnection implements DedicatedConnection {
  constructor(
    readonly flavour: Flavour,
    readonly client: NodeRedisClient,
    readonly id: number,
    /** The reply types of the client the caller uses (a cluster's own are not its nodes'). */
    readonly typeMapping: TypeMapping | undefined,
  ) {}

  isUsable(): boolean {
    return this.client.isReady;
  }

  isClosed(): boolean {
    return !this.client.isOpen;
  }

  send(name: string, args: readonly RedisArgument[], encoding: ReplyEncoding): Promise<unknown> {
    const options = this.flavour.sendOptions(this.typeMapping, encoding);
    return this.client.sendCommand(toNodeRedisArgs(name, args), options);
  }

  /** Nothing to be polite about: node-redis closes an idle client by closing its socket too. */
  close(): Promise<void> {
    return this.flavour.destroy(this.client);
  }

  destroy(): void {
    void this.flavour.destroy(this.client);
  }

  onClose(listener: () => void): void {
    onceClosed(this.client, listener);
  }
}

/**
 * Calls `listener` once when `client` closes: "end" when closed on purpose; a broken connection
 * that will not reconnect only says "error", and is no longer open.
 */
function onceClosed(client: NodeRedisClient, listener: () => void): void {
  let called = false;
  const call = (): void => {
    if (called) return;
    called = true;
    client.off("end", call);
    client.off("error", onError);
    listener();
  };
  const onError = (): void => {
    if (!client.isOpen) call();
  };
  client.on("end", call);
  client.on("error", onError);
}

/**
 * Opens a connection like `base` (same server, credentials, database, RESP version) for the
 * adapter's own use, replying with `typeMapping` (node-redis 5). It never reconnects, so a broken link cannot replay a canceled BLPOP
 * or storm the server with reconnects; blocking ones have no offline queue (they are only used
 * when ready), the control one does (it may be asked to unblock while it connects).
 *
 * @internal
 */
export async function openNodeRedisConnection(
  flavour: Flavour,
  base: NodeRedisClient,
  role: ConnectionRole,
  typeMapping: TypeMapping | undefined,
): Promise<DedicatedConnection> {
  const options = base.options ?? {};
  const name = options.name;
  const client = base.duplicate({
    name: `${name ? `${name}:` : ""}timebound-${role}`,
    socket: { ...options.socket, reconnectStrategy: false },
    disableOfflineQueue: role === "blocking",
    pingInterval: undefined,
    commandsQueueMaxLength: undefined,
    readonly: false,
    disableClientInfo: true,
    // node-redis 5: no client-side cache, no maintenance push notifications on our connections.
    clientSideCache: undefined,
    emitInvalidate: false,
    maintNotifications: "disabled",
    // node-redis 4: the promise API.
    legacyMode: false,
  });
  // Errors show up as a failed connect() or a rejected command; without a listener node-redis
  // would throw them.
  client.on("error", () => {});
  try {
    await client.connect();
    const id = Number(await client.sendCommand(["CLIENT", "ID"]));
    return new NodeRedisConnection(flavour, client, id, typeMapping);
  } catch (err) {
    await flavour.destroy(client);
    throw err;
  }
}
