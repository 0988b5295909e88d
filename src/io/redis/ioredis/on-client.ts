import type { Context, ContextError } from "../../../core/index.js";
import type { Command, Redis } from "ioredis";
import { raceContext } from "../../race.js";
import { decodeReply } from "./decode.js";
import type { RedisArgument, RedisDriver, ReplyEncoding } from "../driver.js";
import { handleLateReply } from "../late-reply.js";
import { takesData } from "../restore.js";
import { abandon } from "./abandoned.js";
import { createCommand, withdraw } from "./internals.js";

/**
 * Runs a command that does not block on `client` itself, under `ctx`. When `ctx` ends first the
 * caller is released at once, and the command is either withdrawn (it was still queued, waiting
 * for the connection: the server never sees it) or left to finish (it was written: its reply is
 * matched and dropped in order, so the next caller still gets its own reply; what it popped is
 * put back, see `handleLateReply`).
 *
 * @internal
 */
export function runOnIoredis(
  driver: RedisDriver<Redis>,
  ctx: Context,
  client: Redis,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
): Promise<unknown> {
  let command: Command | undefined;
  // A pop's reply is kept as Buffers until the caller has it, so a late one goes back byte for byte.
  const raw = encoding !== null && takesData(name);
  return raceContext(
    ctx,
    () => {
      command = createCommand(client, name, args, raw ? null : encoding, client.options.keyPrefix);
      void client.sendCommand(command);
      const reply = command.promise as Promise<unknown>;
      return raw ? reply.then((r) => decodeReply(r, encoding)) : reply;
    },
    (err) => {
      if (command !== undefined) letGo(driver, client, command, name, args, encoding, err);
    },
  );
}

function letGo(
  driver: RedisDriver<Redis>,
  client: Redis,
  command: Command,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
  err: ContextError,
): void {
  if (withdraw(client, command)) {
    command.reject(err);
    return;
  }
  abandon(client, command, err);
  handleLateReply(driver, client, command.promise as Promise<unknown>, name, args, encoding);
}
