import type { Command, Redis } from "ioredis";
import type { Context } from "../../core/context.js";
import type { ContextError } from "../../core/errors.js";
import { raceContext } from "../race.js";
import { abandon } from "./abandoned.js";
import { type RedisArgument, type ReplyEncoding, createCommand, withdraw } from "./driver.js";
import { forwardLateReply } from "./late-reply.js";

/**
 * Runs a command that does not block on `client` itself, under `ctx`. When `ctx` ends first the
 * caller is released at once, and the command is either withdrawn (it was still queued, waiting
 * for the connection: the server never sees it) or left to finish (it was written: its reply is
 * matched and dropped in order, so the next caller still gets its own reply).
 */
export function runOnClient(
  ctx: Context,
  client: Redis,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
): Promise<unknown> {
  let command: Command | undefined;
  return raceContext(
    ctx,
    () => {
      command = createCommand(client, name, args, encoding);
      client.sendCommand(command);
      return command.promise as Promise<unknown>;
    },
    (err) => {
      if (command !== undefined) letGo(client, command, name, args, err);
    },
  );
}

function letGo(
  client: Redis,
  command: Command,
  name: string,
  args: readonly RedisArgument[],
  err: ContextError,
): void {
  if (withdraw(client, command)) {
    command.reject(err);
    return;
  }
  abandon(client, command, err);
  forwardLateReply(client, command, name, args);
}
