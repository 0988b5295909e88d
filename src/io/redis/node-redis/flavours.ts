// What differs between node-redis 4 and 5, in one place: how to ask for Buffer replies and pass
// an abort signal, how to close a client, and how to know a command is still queued.
import type { ReplyEncoding } from "../driver.js";
import type { NodeRedisClient, TypeMapping } from "./types.js";
import type { Withdrawal } from "./withdrawal.js";

/** RESP type bytes (node-redis 5's `RESP_TYPES`): what `typeMapping` is keyed by. */
const BLOB_STRING = 36; // $
const SIMPLE_STRING = 43; // +
const VERBATIM_STRING = 61; // =

/**
 * How a command's reply is to come back.
 *
 * @internal
 */
export type ReplyMode = ReplyEncoding | "raw";

/** @internal */
export interface Flavour {
  /** "node-redis 4" or "node-redis 5". */
  readonly name: string;
  /** The client `client` stands for: node-redis 5 hands out proxies (`withTypeMapping()`...). */
  identity<T extends { readonly _self?: T }>(client: T): T;
  /** The reply types `client` (a client or a cluster) gives by default (node-redis 5). */
  typeMapping(client: NodeRedisOptionsHolder): TypeMapping | undefined;
  /**
   * The options of one `sendCommand`. `mode`: "utf8" as the caller's client replies by default
   * (`typeMapping`, node-redis 5), null with strings as Buffers (as ioredis' callBuffer), "raw"
   * with blob strings as Buffers and the rest as by default (a pop's reply, kept as Buffers
   * until the caller has it).
   */
  sendOptions(
    typeMapping: TypeMapping | undefined,
    mode: ReplyMode,
    withdrawal?: Withdrawal,
  ): object;
  /** Whether replies fetched "raw" must be decoded for a caller whose client maps `typeMapping`. */
  decodesRaw(typeMapping: TypeMapping | undefined): boolean;
  /**
   * Called as a command is sent on `client` (undefined: through a cluster): returns whether,
   * later, aborting it may still withdraw it (false once node-redis may have written it).
   */
  canWithdraw(client: NodeRedisClient | undefined): () => boolean;
  /** Closes `client` at once (rejecting what it still has queued); never throws. */
  destroy(client: NodeRedisClient): Promise<void>;
}

/**
 * Where node-redis 5 keeps a client's or a cluster's default command options.
 *
 * @internal
 */
export interface NodeRedisOptionsHolder {
  readonly _commandOptions?: { readonly typeMapping?: TypeMapping };
  readonly _self?: NodeRedisOptionsHolder;
}

const always = (): boolean => true;

/** @internal */
export const nodeRedis5: Flavour = {
  name: "node-redis 5",
  identity: (client) => client._self ?? client,
  // sendCommand reads the options of the client a proxy stands for, so this does too.
  typeMapping: (client) => (client._self ?? client)._commandOptions?.typeMapping,
  sendOptions(defaults, mode, withdrawal) {
    const options: { abortSignal?: AbortSignal; typeMapping?: TypeMapping } = {};
    if (withdrawal !== undefined) options.abortSignal = withdrawal.asSignal();
    if (mode === "utf8") {
      // Set only when there is one: a key set to undefined would erase the client's own.
      if (defaults !== undefined) options.typeMapping = defaults;
      return options;
    }
    const typeMapping: TypeMapping = { ...defaults, [BLOB_STRING]: Buffer };
    if (mode === null) {
      typeMapping[SIMPLE_STRING] = Buffer;
      typeMapping[VERBATIM_STRING] = Buffer;
    }
    options.typeMapping = typeMapping;
    return options;
  },
  decodesRaw: (defaults) => defaults?.[BLOB_STRING] !== Buffer,
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

/** @internal */
export const nodeRedis4: Flavour = {
  name: "node-redis 4",
  identity: (client) => client,
  typeMapping: () => undefined,
  sendOptions(_defaults, mode, withdrawal) {
    const options: { signal?: AbortSignal; returnBuffers?: boolean } = {};
    if (withdrawal !== undefined) options.signal = withdrawal.asSignal();
    if (mode !== "utf8") options.returnBuffers = true;
    return options;
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
    if (client === undefined || client.isReady) return () => false;
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
