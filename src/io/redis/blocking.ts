import type { Context } from "../../core/index.js";
import { raceContext } from "../race.js";
import { type BlockingCommand, budgetArgs, firstKey } from "./blocking-commands.js";
import type {
  DedicatedConnection,
  RedisArgument,
  RedisDriver,
  ReplyEncoding,
  Route,
} from "./driver.js";
import { handleLateReply } from "./late-reply.js";
import { type BlockingPool, poolFor } from "./pool.js";
import { takesData } from "./restore.js";
import { type AwaitedReply, unblock } from "./unblock.js";

/** One blocking command on its dedicated connection, from write to reply. */
class BlockingRun implements AwaitedReply {
  arrived = false;
  readonly promise: Promise<void>;
  #unblocking = false;
  #returned = false;

  constructor(
    readonly pool: BlockingPool,
    readonly connection: DedicatedConnection,
    readonly reply: Promise<unknown>,
  ) {
    const arrive = (): void => {
      this.arrived = true;
      this.#giveBack();
    };
    this.promise = reply.then(arrive, arrive);
  }

  /** The caller has gone: unblock the server, then give the connection back once it replied. */
  cancel(): void {
    if (this.arrived) return;
    this.#unblocking = true;
    void unblock(this.pool, this.connection, this, this.pool.options.unblockTimeoutMs).finally(
      () => {
        this.#unblocking = false;
        this.#giveBack();
      },
    );
  }

  /**
   * Only once the reply has arrived is the connection free: a reply still on its way would be
   * taken for the next command's. And not while a CLIENT UNBLOCK is in flight: it could release
   * the next command instead.
   */
  #giveBack(): void {
    if (!this.arrived || this.#unblocking || this.#returned) return;
    this.#returned = true;
    this.pool.release(this.connection);
  }
}

/**
 * Runs a blocking command on a dedicated connection from `client`'s pool for the server that
 * holds its key, with its server-side timeout cut to the time `ctx` has left. When `ctx` ends
 * first the caller is released at once and that server is told to stop waiting (`CLIENT
 * UNBLOCK`); the connection is reused after. If the server popped something meanwhile, it is put
 * back (`handleLateReply`).
 *
 * @internal
 */
export async function runBlocking<C extends object>(
  ctx: Context,
  driver: RedisDriver<C>,
  client: C,
  name: string,
  args: readonly RedisArgument[],
  blocking: BlockingCommand,
  encoding: ReplyEncoding,
): Promise<unknown> {
  // As the client answers a command once closed; and a pool made now would never be closed.
  const closed = driver.closedError(client);
  if (closed !== undefined) throw closed;
  const ended = ctx.err;
  if (ended !== undefined) throw ended; // before making a pool for nothing
  const found = driver.route(ctx, client, firstKey(blocking, args));
  const route: Route = found instanceof Promise ? await found : found;
  const pool = poolFor(driver, client, route);
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
        const sentReply = connection.send(name, sent, raw ? null : encoding);
        run = new BlockingRun(pool, connection, sentReply);
        const reply = raw ? sentReply.then((r) => driver.decode(client, r, encoding)) : sentReply;
        if (!budgeted.fromBudget) return reply;
        // The server gave up at our deadline: that is the context's deadline, not an empty
        // answer, so the caller gets DeadlineExceeded (the context ends within a timer tick).
        return reply.then((r) => (timedOut(r) ? ctx.done.then(() => r) : r));
      },
      () => {
        if (run === undefined) return;
        run.cancel();
        handleLateReply(driver, client, run.reply, name, sent, encoding, timedOut);
      },
    );
  } finally {
    if (run === undefined) pool.release(connection);
  }
}
