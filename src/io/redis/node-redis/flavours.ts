// What differs between node-redis 4 and 5, in one place: how to ask for Buffer replies and pass
// an abort signal, how to close a client, and how to know a command is still queued.
import type { ReplyEncoding } from "../driver.js";
import type { NodeRedisClient, TypeMapping } from "./types.js";
import type { Withdrawal } from "./withdrawal.js";

/** RESP type bytes (node-redis 5's `RESP_TYPES`): what `typeMapping` is keyed by. */
const BLOB_STRING = 36; // $
const SIMPLE_STRING = 43; // +
const VERBATIM_STRING = 61; // =

/** How a command's reply is to come back. */
export type ReplyMode = ReplyEncoding | "raw";

export interface Flavour {
  /** "node-redis 4" or "node-redis 5". */
  readonly name: string;
  /** The client `client` stands for: node-redis 5 hands out proxies (`withTypeMapping()`...). */
  identity(client: NodeRedisClient): NodeRedisClient;
  /**
   * The options of one `sendCommand`. `mode`: "utf8" as the client replies by default, null with
   * strings as Buffers (as ioredis' callBuffer), "raw" with blob strings as Buffers and the rest
   * as by default (a pop's reply, kept as Buffers until the caller has it).
   */
  sendOptions(client: NodeRedisClient, mode: ReplyMode, withdrawal?: Withdrawal): object;
  /** Whether replies fetched "raw" must be decoded for a caller asking for "utf8". */
  decodesRaw(client: NodeRedisClient): boolean;
  /**
   * Called as a command is sent: returns whether, later, aborting it may still withdraw it
   * (false once node-redis may have written it).
   */
  canWithdraw(client: NodeRedisClient): () => boolean;
  /** Closes `client` at once (rejecting what it still has queued); never throws. */
  destroy(client: NodeRedisClient): Promise<void>;
}

function typeMappingOf(client: NodeRedisClient): TypeMapping | undefined {
  return client.options?.commandOptions?.typeMapping;
}

const always = (): boolean => true;

export const nodeRedis5: Flavour = {
  name: "node-redis 5",
  identity: (client) => client._self ?? client,
  sendOptions(client, mode, withdrawal) {
    const abortSignal = withdrawal?.asSignal();
    if (mode === "utf8") return { abortSignal };
    const typeMapping: TypeMapping = { ...typeMappingOf(client), [BLOB_STRING]: Buffer };
    if (mode === null) {
      typeMapping[SIMPLE_STRING] = Buffer;
      typeMapping[VERBATIM_STRING] = Buffer;
    }
    return { abortSignal, typeMapping };
  },
  decodesRaw: (client) => typeMappingOf(client)?.[BLOB_STRING] !== Buffer,
  // It stops listening to the signal once the command is written: the signal itself tells.
  canWithdraw: () => always,
  destroy(client) {
    try {
      client.destroy?.();
    } catch {
      // already closed
    }
    return Promise.resolve();
  },
};

/** Times each node-redis 4 client (re)connected or became ready. */
const changes = new WeakMap<NodeRedisClient, { count: number }>();

function changesOf(client: NodeRedisClient): { count: number } {
  let entry = changes.get(client);
  if (entry === undefined) {
    const counter = { count: 0 };
    const bump = (): void => void counter.count++;
    // Not "error": a listener would keep an unhandled one from being thrown.
    for (const event of ["connect", "ready"]) client.on(event, bump);
    changes.set(client, counter);
    entry = counter;
  }
  return entry;
}

export const nodeRedis4: Flavour = {
  name: "node-redis 4",
  identity: (client) => client,
  sendOptions(_client, mode, withdrawal) {
    const signal = withdrawal?.asSignal();
    return mode === "utf8" ? { signal } : { signal, returnBuffers: true };
  },
  decodesRaw: () => true,
  /**
   * node-redis 4 never stops listening to a command's signal, and aborting a written command
   * rejects it at once, losing its reply (and miscounting its queue). It writes a command at once
   * when the client is ready, and a queued one when the client (re)connects or is ready again
   * ("connect" and "ready" are emitted just before): so a command sent while the client was not
   * ready is still queued as long as neither event came and the client is open.
   */
  canWithdraw(client) {
    if (client.isReady) return () => false;
    const counter = changesOf(client);
    const seen = counter.count;
    return () => counter.count === seen && client.isOpen;
  },
  async destroy(client) {
    try {
      await client.disconnect?.();
    } catch {
      // already closed
    }
  },
};
