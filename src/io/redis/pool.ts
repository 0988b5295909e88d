import type { Redis } from "ioredis";
import type { Context } from "../../core/context.js";
import { startTimer } from "../../core/timer.js";
import { Semaphore } from "../../sync/semaphore.js";
import { raceContext } from "../race.js";
import { type DedicatedConnection, isUsable, openConnection } from "./connection.js";
import { type ResolvedRedisOptions, freezeOptions, optionsFor } from "./options.js";

/**
 * Counts of one client's dedicated connections for blocking commands, from `blockingPoolStats`.
 *
 * @example
 * ```ts
 * const { busy, idle }: BlockingPoolStats = blockingPoolStats(client);
 * ```
 */
export interface BlockingPoolStats {
  /** Running a blocking command now (or being opened for one). */
  readonly busy: number;
  readonly idle: number;
  /** Opened since the pool was made: stays small when connections are reused. */
  readonly opened: number;
  /** Closed because they broke or could not be unblocked in time (not idle closes). */
  readonly discarded: number;
}

interface IdleConnection {
  readonly connection: DedicatedConnection;
  readonly timer: NodeJS.Timeout | undefined;
}

/**
 * One client's dedicated connections for blocking commands, plus one control connection that
 * sends `CLIENT UNBLOCK` to them. At most `maxBlockingConnections` are in use at once (a
 * {@link Semaphore} of slots: a waiting caller leaves the queue when its context ends); idle
 * ones are reused, most recent first, and closed after `idleTimeoutMs`.
 */
export class BlockingPool {
  private readonly slots: Semaphore;
  private readonly idle: IdleConnection[] = [];
  private readonly open = new Set<DedicatedConnection>();
  private control: Promise<DedicatedConnection> | undefined;
  /** The control connection once open, for a cancel to use without waiting a turn. */
  private controlOpen: DedicatedConnection | undefined;
  private closed = false;
  private opened = 0;
  private discarded = 0;

  constructor(
    readonly client: Redis,
    readonly options: ResolvedRedisOptions,
  ) {
    this.slots = new Semaphore(options.maxBlockingConnections);
  }

  /**
   * A connection for one blocking command: an idle one, or a new one. Rejects with `ctx.err`
   * if `ctx` ends first; a connection still being opened then joins the idle ones.
   */
  async acquire(ctx: Context): Promise<DedicatedConnection> {
    await this.slots.acquire(ctx);
    if (this.closed) {
      this.slots.release();
      throw new Error("timebound/redis: the client's blocking connections have been closed");
    }
    for (let entry = this.idle.pop(); entry !== undefined; entry = this.idle.pop()) {
      clearTimeout(entry.timer);
      if (isUsable(entry.connection)) return entry.connection;
      this.drop(entry.connection, true);
    }
    let opening: Promise<DedicatedConnection> | undefined;
    try {
      return await raceContext(
        ctx,
        () => (opening = this.openOne()),
        () => void opening?.then((c) => this.release(c), noop),
      );
    } catch (err) {
      // ctx.err reads the clock: the deadline may have passed since the slot was granted, and
      // then nothing was opened (openOne gives the slot back itself if it fails).
      if (opening === undefined) this.slots.release();
      throw err;
    }
  }

  /** Gives back a connection whose last command has replied; a broken one is dropped. */
  release(connection: DedicatedConnection): void {
    this.slots.release();
    if (this.closed || !isUsable(connection)) {
      this.drop(connection, !this.closed);
      return;
    }
    const idleMs = this.options.idleTimeoutMs;
    if (idleMs === 0) {
      this.drop(connection, false);
      return;
    }
    const entry: IdleConnection = {
      connection,
      timer: startTimer(() => this.expire(entry), idleMs).unref(),
    };
    this.idle.push(entry);
  }

  /** The connection that sends `CLIENT UNBLOCK`, opened on first use and again if it broke. */
  async controlConnection(): Promise<DedicatedConnection> {
    const pending = this.control;
    const current = await pending?.catch(() => undefined);
    if (current !== undefined && current.redis.status !== "end") return current;
    // Another caller may have reopened it while this one waited.
    if (this.control !== pending) return this.controlConnection();
    const opening = openConnection(this.client, "control");
    this.control = opening;
    opening.then((c) => {
      if (this.closed) void closeConnection(c);
      else if (this.control === opening) this.controlOpen = c;
    }, noop);
    return opening;
  }

  /** The control connection if it is ready now. */
  readyControl(): DedicatedConnection | undefined {
    const c = this.controlOpen;
    return c !== undefined && isUsable(c) ? c : undefined;
  }

  /** Closes every connection; blocked commands on them fail with ioredis' "Connection is closed". */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.idle.splice(0)) clearTimeout(entry.timer);
    const connections = [...this.open];
    this.open.clear();
    const control = await this.control?.catch(() => undefined);
    if (control !== undefined) connections.push(control);
    await Promise.all(connections.map(closeConnection));
  }

  stats(): BlockingPoolStats {
    return {
      busy: this.slots.size - this.slots.available,
      idle: this.idle.length,
      opened: this.opened,
      discarded: this.discarded,
    };
  }

  private openOne(): Promise<DedicatedConnection> {
    // Open the control connection alongside the first blocking one, so that the first cancel
    // does not wait for a connect.
    this.controlConnection().catch(noop);
    return openConnection(this.client, "blocking").then(
      (connection) => {
        this.opened++;
        this.open.add(connection);
        connection.redis.once("end", () => this.open.delete(connection));
        if (this.closed) void closeConnection(connection);
        return connection;
      },
      (err: unknown) => {
        this.slots.release();
        throw err;
      },
    );
  }

  private expire(entry: IdleConnection): void {
    const i = this.idle.indexOf(entry);
    if (i === -1) return;
    this.idle.splice(i, 1);
    this.drop(entry.connection, false);
  }

  private drop(connection: DedicatedConnection, broken: boolean): void {
    if (broken) this.discarded++;
    this.open.delete(connection);
    void closeConnection(connection);
  }
}

/** Quits an idle connection politely; disconnects one that is blocked (QUIT would wait behind it). */
function closeConnection(connection: DedicatedConnection): Promise<void> {
  const redis = connection.redis;
  if (redis.status === "end") return Promise.resolve();
  const ended = new Promise<void>((resolve) => redis.once("end", () => resolve()));
  if (redis.status === "ready" && redis.commandQueue.length === 0) {
    redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
  return ended;
}

function noop(): void {}

interface Registered {
  readonly pool: BlockingPool;
  readonly onClientEnd: () => void;
}

const pools = new WeakMap<Redis, Registered>();

/** `client`'s pool, made on first use; it closes itself when the client ends. */
export function poolFor(client: Redis): BlockingPool {
  const registered = pools.get(client);
  if (registered !== undefined) return registered.pool;
  const pool = new BlockingPool(client, optionsFor(client));
  const onClientEnd = (): void => void closePool(client);
  pools.set(client, { pool, onClientEnd });
  freezeOptions(client, true);
  client.once("end", onClientEnd);
  return pool;
}

/** Closes `client`'s pool, if it has one; the next blocking command makes a new one. */
export function closePool(client: Redis): Promise<void> {
  const registered = pools.get(client);
  if (registered === undefined) return Promise.resolve();
  pools.delete(client);
  client.off("end", registered.onClientEnd);
  freezeOptions(client, false);
  return registered.pool.close();
}

/** `client`'s pool if it has one, without making it. */
export function existingPool(client: Redis): BlockingPool | undefined {
  return pools.get(client)?.pool;
}
