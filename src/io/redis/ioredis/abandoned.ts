import type { ContextError } from "../../../core/index.js";
import type { Command, Redis } from "ioredis";
import { withdraw } from "./internals.js";

interface Abandoned {
  /** Each command written on the current connection whose caller has gone, with the reason. */
  readonly commands: Map<Command, ContextError>;
  readonly onClose: () => void;
}

const byClient = new WeakMap<Redis, Abandoned>();

/**
 * Keeps an eye on a command that was written before its context ended. It stays in the client's
 * queue, so the replies that follow still reach the right callers; but if the connection closes
 * before its reply, ioredis would write it again after reconnecting (autoResendUnfulfilledCommands),
 * long after its caller gave up. On "close" (emitted before any reconnect) such commands are
 * taken out of the resend queue and fail with their context's error.
 *
 * @internal
 */
export function abandon(client: Redis, command: Command, err: ContextError): void {
  let entry = byClient.get(client);
  if (entry === undefined) {
    const commands = new Map<Command, ContextError>();
    const onClose = (): void => {
      forgetAll(client);
      for (const [c, reason] of commands) if (withdraw(client, c)) c.reject(reason);
    };
    entry = { commands, onClose };
    byClient.set(client, entry);
    client.on("close", onClose);
  }
  entry.commands.set(command, err);
  const done = (): void => {
    const current = byClient.get(client);
    current?.commands.delete(command);
    if (current?.commands.size === 0) forgetAll(client);
  };
  command.promise.then(done, done);
}

/** After a close no reply comes on the old connection: stop watching (the listener goes too). */
function forgetAll(client: Redis): void {
  const entry = byClient.get(client);
  if (entry === undefined) return;
  byClient.delete(client);
  client.off("close", entry.onClose);
}

/**
 * How many abandoned commands `client` still watches (for tests).
 *
 * @internal
 */
export function abandonedCount(client: Redis): number {
  return byClient.get(client)?.commands.size ?? 0;
}
