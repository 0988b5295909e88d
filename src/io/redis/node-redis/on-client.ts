import type { Context } from "../../../core/index.js";
import { raceContext } from "../../race.js";
import type { RedisArgument, RedisDriver, ReplyEncoding } from "../driver.js";
import { handleLateReply } from "../late-reply.js";
import { takesData } from "../restore.js";
import { toNodeRedisArgs } from "./decode.js";
import type { Flavour } from "./flavours.js";
import type { NodeRedisClient, TypeMapping } from "./types.js";
import { Withdrawal } from "./withdrawal.js";

/**
 * What a node-redis client is asked to send, with its arguments already in node-redis' form.
 *
 * @internal
 */
export type Send = (options: object) => Promise<unknown>;

interface Sent {
  readonly reply: Promise<unknown>;
  readonly withdrawal: Withdrawal;
  readonly canWithdraw: () => boolean;
}

/**
 * Runs a command that does not block on a node-redis client (`send` puts it on `queueOwner`, or
 * on a cluster: undefined), whose replies default to `typeMapping`, under `ctx`. When `ctx` ends first the caller is released at once, and the command
 * is withdrawn from node-redis' queue if it is still there (the server never sees it), or left to
 * finish: node-redis matches replies in order and never writes a command twice, so the late reply
 * only needs handling (what it popped is put back, see `handleLateReply`).
 *
 * @internal
 */
export function runOnNodeRedis<C extends object>(
  driver: RedisDriver<C>,
  flavour: Flavour,
  ctx: Context,
  client: C,
  queueOwner: NodeRedisClient | undefined,
  typeMapping: TypeMapping | undefined,
  send: Send,
  name: string,
  args: readonly RedisArgument[],
  encoding: ReplyEncoding,
): Promise<unknown> {
  let sent: Sent | undefined;
  // A pop's reply is kept as Buffers until the caller has it, so a late one goes back byte for byte.
  const raw = encoding !== null && takesData(name);
  return raceContext(
    ctx,
    () => {
      const withdrawal = new Withdrawal();
      const canWithdraw = flavour.canWithdraw(queueOwner);
      const reply = send(flavour.sendOptions(typeMapping, raw ? "raw" : encoding, withdrawal));
      sent = { reply, withdrawal, canWithdraw };
      return raw ? reply.then((r) => driver.decode(client, r, encoding)) : reply;
    },
    () => {
      if (sent === undefined) return;
      if (sent.canWithdraw() && sent.withdrawal.withdraw()) return; // never to be written
      handleLateReply(driver, client, sent.reply, name, args, encoding);
    },
  );
}

/**
 * `send` for a standalone client.
 *
 * @internal
 */
export function sendOn(
  client: NodeRedisClient,
  name: string,
  args: readonly RedisArgument[],
): Send {
  const redisArgs = toNodeRedisArgs(name, args);
  return (options) => client.sendCommand(redisArgs, options);
}
