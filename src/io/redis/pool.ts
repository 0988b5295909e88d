import type { Context } from "../../core/index.js";
import { startTimer } from "../../core/internal.js";
import { Semaphore } from "../../sync/semaphore.js";
import { raceContext } from "../race.js";
import type { DedicatedConnection, RedisDriver, Route } from "./driver.js";
import { type ResolvedRedisOptions, freezeOptions, optionsFor } from "./options.js";

/**
 * Counts of one client's dedicated connections for blocking commands, from `blockingPoolStats`
 * (for a cluster client, summed over its nodes).
 *
 * @example
 * ```ts
 * const { busy, idle }: BlockingPoolStats = blockingPoolStats(client);
 * ```
 */
export interface BlockingPoolStats {
  /** Running a blocking command now (or being opened for one). */
  readonly busy: number;
  /** Open and free, waiting for the next blocking command (until `idleTimeoutMs`). */
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
 * One client's dedicated connections to one server (in a cluster, one node) for blocking
 * commands, plus one control connection to the same server that sends `CLIENT UNBLOCK` to them:
 * `CLIENT UNBLOCK` only reaches clients of the server it is sent to. At most
 * `maxBlockingConnections` are in use at once (a {@link Semaphore} of slots: a waiting caller
 * leaves the queue when its context ends); idle ones are reused, most recent first, and closed
 * after `idleTimeoutMs`.
 *
 * @internal
 */
export class BlockingPool {
  readonly #slots: Semaphore;
  readonly #idle: IdleConnection[] = [];
  readonly #open = new Set<DedicatedConnection>();
  #control: Promise<DedicatedConnection> | undefined;
  /** The control connection once open, for a cancel to use without waiting a turn. */
  #controlOpen: DedicatedConnection | undefined;
  #closed = false;
  #opened = 0;
  #discarded = 0;

  constructor(
    readonly route: Route,
    readonly options: ResolvedRedisOptions,
  ) {
    this.#slots = new Semaphore(options.maxBlockingConnections);
  }

  /**
   * A connection for one blocking command: an idle one, or a new one. Rejects with `ctx.err`
   * if `ctx` ends first; a connection still being opened then joins the idle ones.
   */
  async acquire(ctx: Context): Promise<DedicatedConnection> {
    await this.#slots.acquire(ctx);
    if (this.#closed) {
      this.#slots.release();
      throw new Error("timebound/redis: the client's blocking connections have been closed");
    }
    for (let entry = this.#idle.pop(); entry !== undefined; entry = this.#idle.pop()) {
      clearTimeout(entry.timer);
      if (entry.connection.isUsable()) return entry.connection;
      this.#drop(entry.connection, true);
    }
    let opening: Promise<DedicatedConnection> | undefined;
    try {
      return await raceContext(
        ctx,
        () => (opening = this.#openOne()),
        () => void opening?.then((c) => this.release(c), noop),
      );
    } catch (err) {
      // ctx.err reads the clock: the deadline may have passed since the slot was granted, and
      // then nothing was opened (openOne gives the slot back itself if it fails).
      if (opening === undefined) this.#slots.release();
      throw err;
    }
  }

  /** Gives back a connection whose last command has replied; a broken one is dropped. */
  release(connection: DedicatedConnection): void {
    this.#slots.release();
    if (this.#closed || !connection.isUsable()) {
      this.#drop(connection, !this.#closed);
      return;
    }
    const idleMs = this.options.idleTimeoutMs;
    if (idleMs === 0) {
      this.#drop(connection, false);
      return;
    }
    const entry: IdleConnection = {
      connection,
      timer: startTimer(() => this.#expire(entry), idleMs).unref(),
    };
    this.#idle.push(entry);
  }

  /** The connection that sends `CLIENT UNBLOCK`, opened on first use and again if it broke. */
  async controlConnection(): Promise<DedicatedConnection> {
    const pending = this.#control;
    const current = await pending?.catch(() => undefined);
    if (current !== undefined && !current.isClosed()) return current;
    // Another caller may have reopened it while this one waited.
    if (this.#control !== pending) return this.controlConnection();
    const opening = this.route.open("control");
    this.#control = opening;
    opening.then((c) => {
      if (this.#closed) void c.close();
      else if (this.#control === opening) this.#controlOpen = c;
    }, noop);
    return opening;
  }

  /** The control connection if it is ready now. */
  readyControl(): DedicatedConnection | undefined {
    const c = this.#controlOpen;
    return c !== undefined && c.isUsable() ? c : undefined;
  }

  /** Closes every connection; blocked commands on them fail with the driver's "closed" error. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#idle.splice(0)) clearTimeout(entry.timer);
    const connections = [...this.#open];
    this.#open.clear();
    const control = await this.#control?.catch(() => undefined);
    if (control !== undefined) connections.push(control);
    await Promise.all(connections.map((c) => c.close()));
  }

  stats(): BlockingPoolStats {
    return {
      busy: this.#slots.size - this.#slots.available,
      idle: this.#idle.length,
      opened: this.#opened,
      discarded: this.#discarded,
    };
  }

  #openOne(): Promise<DedicatedConnection> {
    // Open the control connection alongside the first blocking one, so that the first cancel
    // does not wait for a connect.
    this.controlConnection().catch(noop);
    return this.route.open("blocking").then(
      (connection) => {
        this.#opened++;
        this.#open.add(connection);
        connection.onClose(() => this.#open.delete(connection));
        if (this.#closed) void connection.close();
        return connection;
      },
      (err: unknown) => {
        this.#slots.release();
        throw err;
      },
    );
  }

  #expire(entry: IdleConnection): void {
    const i = this.#idle.indexOf(entry);
    if (i === -1) return;
    this.#idle.splice(i, 1);
    this.#drop(entry.connection, false);
  }

  #drop(connection: DedicatedConnection, broken: boolean): void {
    if (broken) this.#discarded++;
    this.#open.delete(connection);
    void connection.close();
  }
}

function noop(): void {}

/** A client's pools, one per server its blocking commands ran on. */
interface Registered {
  readonly pools: Map<string, BlockingPool>;
  readonly stopListening: () => void;
}

const registry = new WeakMap<object, Registered>();

/**
 * The pool for `route` of `client`, made on first use; all of the client's pools close when it
 * ends.
 *
 * @internal
 */
export function poolFor<C extends object>(
  driver: RedisDriver<C>,
  client: C,
  route: Route,
): BlockingPool {
  const identity = driver.identity(client);
  let registered = registry.get(identity);
  if (registered === undefined) {
    const stopListening = driver.onEnd(client, () => void closePools(identity));
    registered = { pools: new Map(), stopListening };
    registry.set(identity, registered);
    freezeOptions(identity, true);
  }
  let pool = registered.pools.get(route.node);
  if (pool === undefined) {
    pool = new BlockingPool(route, optionsFor(identity));
    registered.pools.set(route.node, pool);
  }
  return pool;
}

/**
 * Closes the pools of the client `identity` names, if any; a later blocking command makes new ones.
 *
 * @internal
 */
export function closePools(identity: object): Promise<void> {
  const registered = registry.get(identity);
  if (registered === undefined) return Promise.resolve();
  registry.delete(identity);
  registered.stopListening();
  freezeOptions(identity, false);
  return Promise.all([...registered.pools.values()].map((p) => p.close())).then(noop);
}

/**
 * The counts of the client `identity` names, summed over its pools (all zero without any).
 *
 * @internal
 */
export function poolStats(identity: object): BlockingPoolStats {
  const total = { busy: 0, idle: 0, opened: 0, discarded: 0 };
  for (const pool of registry.get(identity)?.pools.values() ?? []) {
    const stats = pool.stats();
    total.busy += stats.busy;
    total.idle += stats.idle;
    total.opened += stats.opened;
    total.discarded += stats.discarded;
  }
  return total;
}
