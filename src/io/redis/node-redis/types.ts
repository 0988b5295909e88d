// The parts of node-redis 4 and 5 the adapter uses, described by shape: neither is imported.

/**
 * Arguments as node-redis writes them: strings and Buffers only.
 *
 * @internal
 */
export type NodeRedisArgument = string | Buffer;

/**
 * node-redis 5's `typeMapping`: RESP type byte to the JavaScript type a reply of it becomes.
 *
 * @internal
 */
export type TypeMapping = Record<number, unknown>;

/**
 * Options of a node-redis client (the fields the adapter reads or overrides).
 *
 * @internal
 */
export interface NodeRedisOptions {
  readonly name?: string;
  readonly socket?: object;
}

/**
 * A node-redis 4 or 5 client (`createClient`), or node-redis 5's proxy of one.
 *
 * @internal
 */
export interface NodeRedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  readonly options?: NodeRedisOptions;
  /** node-redis 5: the client a proxy (`withTypeMapping()`...) stands for. */
  readonly _self?: NodeRedisClient;
  sendCommand(args: NodeRedisArgument[], options?: object): Promise<unknown>;
  duplicate(overrides?: object): NodeRedisClient;
  connect(): Promise<unknown>;
  /** node-redis 5 (throws once closed). */
  destroy?(): void;
  /** node-redis 4 (deprecated in 5). */
  disconnect?(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}
