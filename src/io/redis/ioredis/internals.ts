// The one place that knows ioredis 5's internals. ioredis has no way to withdraw a command or to
// say whether it reached the socket, so the adapter reads the client's queues directly; keeping
// every such access here means a driver upgrade is checked in one file. ioredis itself is never
// imported (see `commandClassOf`), so that timebound/redis loads nothing for users of another
// library.
import type { Cluster, Command, Redis } from "ioredis";
import type { RedisArgument, ReplyEncoding } from "../driver.js";

type CommandClass = typeof Command;

/** The part of ioredis' queue (a `denque`) the adapter uses. */
interface Queue {
  readonly length: number;
  peekAt(index: number): { readonly command: unknown } | undefined;
  removeOne(index: number): unknown;
}

/** ioredis 5 keeps these on the client; none is part of its public API. */
interface RedisInternals {
  /** Commands waiting for the connection to be ready: not written yet. */
  readonly offlineQueue?: Queue;
  /** Commands written before a disconnect, sent again after the reconnect. */
  readonly prevCommandQueue?: Queue | null;
}

/** A Cluster's own queue of commands waiting for the cluster to be ready. */
interface ClusterInternals {
  readonly offlineQueue?: Queue;
}

/**
 * Whether `client` looks like an ioredis client (standalone or Cluster).
 *
 * @internal
 */
export function looksLikeIoredis(client: object): boolean {
  const c = client as Partial<Redis>;
  return (
    typeof c.sendCommand === "function" &&
    typeof c.duplicate === "function" &&
    typeof c.status === "string"
  );
}

/**
 * Why this ioredis client cannot be used (not ioredis 5's internals), or undefined.
 *
 * @internal
 */
export function unsupportedIoredis(client: Redis | Cluster): string | undefined {
  const queue = (client as unknown as RedisInternals).offlineQueue;
  if (typeof queue?.removeOne !== "function") {
    return "this ioredis client has no offline queue like ioredis 5's; timebound/redis supports ioredis ^5.3";
  }
  return undefined;
}

/** Every copy of ioredis builds compatible commands (the client only reads their fields). */
let commandClass: CommandClass | undefined;

/**
 * ioredis' Command class, learnt from the client: `Redis.Command` exists, but an instance's
 * `constructor` is EventEmitter (ioredis mixes it in), and importing ioredis is what this module
 * avoids. So `client.call` is run once on a stand-in that captures the command it would send.
 */
function commandClassOf(client: Redis | Cluster): CommandClass {
  if (commandClass !== undefined) return commandClass;
  let captured: object | undefined;
  const standIn = {
    options: { enableAutoPipelining: false },
    sendCommand: (command: object) => (captured = command),
  };
  (client.call as (this: unknown, name: string) => unknown).call(standIn, "ping");
  commandClass = (captured as { constructor: CommandClass } | undefined)?.constructor;
  if (typeof commandClass !== "function") {
    throw new TypeError("timebound/redis: could not build an ioredis command (ioredis ^5.3)");
  }
  return commandClass;
}

/**
 * A command object for `client`, as `client.call` would build it, its keys prefixed with
 * `keyPrefix` (undefined: sent as given).
 *
 * @internal
 */
export function createCommand(
  client: Redis | Cluster,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
  keyPrefix: string | undefined,
): Command {
  const Ctor = commandClass ?? commandClassOf(client);
  return new Ctor(name, [...args], { replyEncoding: encoding, keyPrefix });
}

/**
 * Takes `command` out of the queues of commands not yet written to the current connection (the
 * offline queue, and the commands ioredis would send again after a reconnect). Returns whether it
 * was there: if so, the server will never see it.
 *
 * @internal
 */
export function withdraw(client: Redis, command: Command): boolean {
  const internals = client as unknown as RedisInternals;
  return (
    removeFrom(internals.offlineQueue, command) || removeFrom(internals.prevCommandQueue, command)
  );
}

/**
 * Takes `command` out of a Cluster's queue of commands waiting for the cluster to be ready.
 *
 * @internal
 */
export function withdrawFromCluster(cluster: Cluster, command: Command): boolean {
  return removeFrom((cluster as unknown as ClusterInternals).offlineQueue, command);
}

/**
 * Whether `command` has been written on `client`'s connection and awaits its reply.
 *
 * @internal
 */
export function awaitsReply(client: Redis, command: Command): boolean {
  const queue = client.commandQueue as unknown as Queue;
  for (let i = 0; i < queue.length; i++) if (queue.peekAt(i)?.command === command) return true;
  return false;
}

function removeFrom(queue: Queue | null | undefined, command: Command): boolean {
  if (queue === null || queue === undefined) return false;
  for (let i = 0; i < queue.length; i++) {
    if (queue.peekAt(i)?.command === command) {
      queue.removeOne(i);
      return true;
    }
  }
  return false;
}
