// The client libraries the adapter's suites run against: each suite is written once and run per
// kind (`for (const kind of KINDS) describe(...)`), against the test run's real Redis.
import { Redis } from "ioredis";
import { createClient as createClient5 } from "redis";
import { createClient as createClient4 } from "redis4";
import type { RedisClientLike } from "../../../src/io/redis/index.js";
import { redisUrl } from "../../services.js";

export interface TestClientOptions {
  /** A port on 127.0.0.1 other than the test Redis' (a proxy in front of it). */
  readonly port?: number;
  /** ioredis' keyPrefix (node-redis has none: see {@link ClientKind.keyPrefix}). */
  readonly keyPrefix?: string;
  /** "fast": reconnect every 10 ms, forever; "never": no reconnect. Default: the library's. */
  readonly reconnect?: "fast" | "never";
}

/** One client library (and protocol version) a suite runs against. */
export interface ClientKind {
  readonly name: string;
  /** Whether the library has a key prefix option. */
  readonly keyPrefix: boolean;
  /** Whether replies come over RESP3 (maps, numbers for scores). */
  readonly resp3: boolean;
  /** A client named `name` (CLIENT SETNAME), already connecting. */
  open(name: string, options?: TestClientOptions): RedisClientLike;
  /** Resolves once `client` is ready for commands. */
  ready(client: RedisClientLike): Promise<void>;
  isReady(client: RedisClientLike): boolean;
  /** Closes `client` at once, failing what it has pending. */
  destroy(client: RedisClientLike): void;
  /** Closes `client` after its pending commands (QUIT, or node-redis' close). */
  close(client: RedisClientLike): Promise<void>;
  /** Whether a command written before its connection broke is written again after a reconnect. */
  readonly resendsWritten: boolean;
  /** The error of a command given to a client that has been closed. */
  readonly closedError: RegExp;
  /** The error of a command pending on a connection closed under it. */
  readonly disconnectedError: RegExp;
}

function testPort(): number {
  return Number(new URL(redisUrl()).port);
}

/** The node-redis client surface the kinds use (v4's and v5's types differ too much to share). */
interface NodeRedisTestClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
}

function nodeRedisKind(
  name: string,
  create: (options: object) => NodeRedisTestClient,
  extra: { readonly RESP?: 3 } = {},
): ClientKind {
  const asNode = (client: RedisClientLike): NodeRedisTestClient =>
    client as unknown as NodeRedisTestClient;
  const v5 = name.startsWith("node-redis 5");
  return {
    name,
    keyPrefix: false,
    resp3: extra.RESP === 3,
    resendsWritten: false,
    closedError: /The client is closed/,
    disconnectedError: /Disconnects client/,
    open(clientName, options = {}) {
      if (options.keyPrefix !== undefined) throw new Error(`${name} has no key prefix`);
      const reconnectStrategy =
        options.reconnect === "fast" ? 10 : options.reconnect === "never" ? false : undefined;
      const client = create({
        name: clientName,
        socket: { host: "127.0.0.1", port: options.port ?? testPort(), reconnectStrategy },
        ...extra,
      });
      client.on("error", () => {}); // some tests break connections on purpose
      client.connect().catch(() => {});
      return client as unknown as RedisClientLike;
    },
    isReady: (client) => asNode(client).isReady,
    ready(client) {
      const c = asNode(client);
      if (c.isReady) return Promise.resolve();
      return new Promise((resolve) => c.once("ready", () => resolve()));
    },
    destroy(client) {
      const c = client as unknown as { destroy?(): void; disconnect(): Promise<void> };
      try {
        if (v5) c.destroy?.();
        else c.disconnect().catch(() => {});
      } catch {
        // already closed
      }
    },
    async close(client) {
      const c = client as unknown as { close?(): Promise<void>; quit(): Promise<unknown> };
      await (v5 ? c.close?.() : c.quit());
    },
  };
}

export const IOREDIS: ClientKind = {
  name: "ioredis",
  keyPrefix: true,
  resp3: false,
  resendsWritten: true,
  closedError: /Connection is closed/,
  disconnectedError: /Connection is closed/,
  open(name, options = {}) {
    const client = new Redis({
      host: "127.0.0.1",
      port: options.port ?? testPort(),
      connectionName: name,
      ...(options.keyPrefix !== undefined && { keyPrefix: options.keyPrefix }),
      ...(options.reconnect === "fast" && { retryStrategy: () => 10, maxRetriesPerRequest: null }),
      ...(options.reconnect === "never" && { retryStrategy: () => null }),
    });
    client.on("error", () => {}); // some tests break connections on purpose
    return client;
  },
  isReady: (client) => (client as Redis).status === "ready",
  ready(client) {
    const c = client as Redis;
    if (c.status === "ready") return Promise.resolve();
    return new Promise((resolve) => c.once("ready", () => resolve()));
  },
  destroy: (client) => (client as Redis).disconnect(),
  async close(client) {
    await (client as Redis).quit();
  },
};

export const NODE_REDIS_5 = nodeRedisKind("node-redis 5", (options) => createClient5(options));
export const NODE_REDIS_5_RESP3 = nodeRedisKind(
  "node-redis 5 (RESP3)",
  (options) => createClient5(options),
  { RESP: 3 },
);
export const NODE_REDIS_4 = nodeRedisKind("node-redis 4", (options) => createClient4(options));

/** Every kind, for the suites whose expectations do not depend on reply shapes. */
export const KINDS: readonly ClientKind[] = [
  IOREDIS,
  NODE_REDIS_5,
  NODE_REDIS_5_RESP3,
  NODE_REDIS_4,
];
