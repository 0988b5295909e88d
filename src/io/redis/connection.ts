import type { Redis, RedisOptions } from "ioredis";

/** What a connection the adapter opens is for; also the suffix of its CLIENT SETNAME. */
export type ConnectionRole = "blocking" | "control";

/** A connection of the adapter's own, with the id the server knows it by. */
export interface DedicatedConnection {
  readonly redis: Redis;
  /** `CLIENT ID`: what `CLIENT UNBLOCK` needs. Ids are never reused while the server runs. */
  readonly id: number;
}

/**
 * Opens a connection like `client` (same server, credentials, database, key prefix) for the
 * adapter's own use. It never reconnects and never resends: a dedicated connection that breaks is
 * dropped and a fresh one opened on demand, so a broken link cannot replay a canceled BLPOP or
 * storm the server with reconnects. It has no command timeout of its own: the context bounds it.
 */
export async function openConnection(
  client: Redis,
  role: ConnectionRole,
): Promise<DedicatedConnection> {
  const base = client.options.connectionName;
  const overrides: Partial<RedisOptions> = {
    lazyConnect: true,
    db: client.condition?.select ?? client.options.db ?? 0,
    connectionName: `${base ? `${base}:` : ""}timebound-${role}`,
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
  };
  const redis = client.duplicate(overrides);
  // Errors show up as a failed connect() or a rejected command; without a listener ioredis
  // would also print each one.
  redis.on("error", () => {});
  try {
    await redis.connect();
    const id = await redis.client("ID");
    return { redis, id };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}

/** Whether `connection` can take a command now. */
export function isUsable(connection: DedicatedConnection): boolean {
  return connection.redis.status === "ready";
}
