import type { Redis, RedisOptions } from "ioredis";
import type {
  ConnectionRole,
  DedicatedConnection,
  RedisArgument,
  ReplyEncoding,
} from "../driver.js";
import { createCommand } from "./internals.js";

/** A dedicated connection over an ioredis client of its own. */
class IoredisConnection implements DedicatedConnection {
  constructor(
    readonly redis: Redis,
    readonly id: number,
  ) {}

  isUsable(): boolean {
    return this.redis.status === "ready";
  }

  isClosed(): boolean {
    return this.redis.status === "end";
  }

  send(name: string, args: readonly RedisArgument[], encoding: ReplyEncoding): Promise<unknown> {
    const command = createCommand(this.redis, name, args, encoding, this.redis.options.keyPrefix);
    void this.redis.sendCommand(command);
    return command.promise as Promise<unknown>;
  }

  /** Quits an idle connection politely; disconnects one that is busy (QUIT would wait behind it). */
  close(): Promise<void> {
    const redis = this.redis;
    if (redis.status === "end") return Promise.resolve();
    const ended = new Promise<void>((resolve) => redis.once("end", () => resolve()));
    if (redis.status === "ready" && redis.commandQueue.length === 0) {
      redis.quit().catch(() => redis.disconnect());
    } else {
      redis.disconnect();
    }
    return ended;
  }

  destroy(): void {
    this.redis.disconnect();
  }

  onClose(listener: () => void): void {
    this.redis.once("end", listener);
  }
}

/**
 * Opens a connection like `base` (same server, credentials, database, key prefix unless
 * `keyPrefix` says otherwise) for the adapter's own use. It never reconnects and never resends,
 * so a broken link cannot replay a canceled BLPOP or storm the server with reconnects. It has no
 * command timeout of its own: the context bounds it.
 *
 * @internal
 */
export async function openIoredisConnection(
  base: Redis,
  role: ConnectionRole,
  keyPrefix: string | undefined = base.options.keyPrefix,
): Promise<DedicatedConnection> {
  const name = base.options.connectionName;
  const overrides: Partial<RedisOptions> = {
    lazyConnect: true,
    db: base.condition?.select ?? base.options.db ?? 0,
    connectionName: `${name ? `${name}:` : ""}timebound-${role}`,
    keyPrefix,
    retryStrategy: () => null,
    reconnectOnError: null,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    enableAutoPipelining: false,
    // The control connection may be asked to unblock while it connects; blocking ones are only
    // used once ready.
    enableOfflineQueue: role === "control",
    commandTimeout: undefined,
    blockingTimeout: undefined,
    socketTimeout: undefined,
    disableClientInfo: true,
    monitor: false,
    readOnly: false,
  };
  const redis = base.duplicate(overrides);
  // Errors show up as a failed connect() or a rejected command; without a listener ioredis
  // would also print each one.
  redis.on("error", () => {});
  try {
    await redis.connect();
    const id = await redis.client("ID");
    return new IoredisConnection(redis, id);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
