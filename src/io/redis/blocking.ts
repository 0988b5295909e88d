import type { Command, Redis } from "ioredis";
import type { Context } from "../../core/context.js";
import { raceContext } from "../race.js";
import { type BlockingCommand, budgetArgs } from "./blocking-commands.js";
import type { DedicatedConnection } from "./connection.js";
import { decodeReply } from "./decode.js";
import { type RedisArgument, type ReplyEncoding, createCommand } from "./driver.js";
import { handleLateReply } from "./late-reply.js";
import { type BlockingPool, poolFor } from "./pool.js";
import { takesData } from "./restore.js";
import { type AwaitedReply, unblock } from "./unblock.js";

/** One blocking command on its dedicated connection, from write to reply. */
class BlockingRun implements AwaitedReply {
  arrived = false;
  readonly promise: Promise<void>;
  private unblocking = false;
  private returned = false;

  constructor(
    readonly pool: BlockingPool,
    readonly connection: DedicatedConnection,
    readonly command: Command,
  ) {
    const arrive = (): void => {
      this.arrived = true;
      this.giveBack();
    };
    this.promise = command.promise.then(arrive, arrive);
  }

  /** The caller has gone: unblock the server, then give the connection back once it replied. */
  cancel(): void {
    if (this.arrived) return;
    this.unblocking = true;
    void unblock(this.pool, this.connection, this, this.pool.options.unblockTimeoutMs).finally(
      () => {
        this.unblocking = false;
        this.giveBack();
      },
    );
  }

  /**
   * Only once the reply has arrived is the connection free: a reply still on its way would be
   * taken for the next command's. And not while a CLIENT UNBLOCK is in flight: it could release
   * the next command instead.
   */
  private giveBack(): void {
    if (!this.arrived || this.unblocking || this.returned) return;
    this.returned = true;
    this.pool.release(this.connection);
  }
}

/**
 * Runs a blocking command on a dedicated connection from `client`'s pool, with its server-side
 * timeout cut to the time `ctx` has left. When `ctx` ends first the caller is released at once
 * and the server is told to stop waiting (`CLIENT UNBLOCK`); the connection is reused after. If
 * the server popped something meanwhile, it is put back (`handleLateReply`).
 */
export async function runBlocking(
  ctx: Context,
  client: Redis,
  name: string,
  args: readonly RedisArgument[],
  blocking: BlockingCommand,
  encoding: ReplyEncoding,
): Promise<unknown> {
  // As ioredis answers a command on a closed client; and a pool made now would never be closed.
  if (client.status === "end") throw new Error("Connection is closed.");
  const ended = ctx.err;
  if (ended !== undefined) throw ended; // before making a pool for nothing
  const pool = poolFor(client);
  const connection = await pool.acquire(ctx);
  let run: BlockingRun | undefined;
  let sent: readonly RedisArgument[] = args;
  const timedOut = (reply: unknown): boolean => blocking.shape.timedOut(reply, sent);
  // A pop's reply is kept as Buffers until the caller has it, so a late one goes back byte for byte.
  const raw = encoding !== null && takesData(name);
  try {
    return await raceContext(
      ctx,
      () => {
        const budgeted = budgetArgs(blocking, args, ctx.remaining());
        sent = budgeted.args;
        const command = createCommand(client, name, sent, raw ? null : encoding);
        run = new BlockingRun(pool, connection, command);
        connection.redis.sendCommand(command);
        const sentReply = command.promise as Promise<unknown>;
        const reply = raw ? sentReply.then((r) => decodeReply(r, encoding)) : sentReply;
        if (!budgeted.fromBudget) return reply;
        // The server gave up at our deadline: that is the context's deadline, not an empty
        // answer, so the caller gets DeadlineExceeded (the context ends within a timer tick).
        return reply.then((r) => (timedOut(r) ? ctx.done.then(() => r) : r));
      },
      () => {
        if (run === undefined) return;
        run.cancel();
        handleLateReply(client, run.command, name, sent, encoding, timedOut);
      },
    );
  } finally {
    if (run === undefined) pool.release(connection);
  }
}
