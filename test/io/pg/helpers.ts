// Shared by the timebound/pg tests: pools named per test, and a separate observer connection
// that reads pg_stat_activity, so "the backend is idle" is what the server says, not the client.
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before } from "node:test";
import pg from "pg";
import { now } from "../../../src/index.js";
import type { PgCancelMessage } from "../../../src/io/pg/index.js";
import { pgUrl } from "../../services.js";

let counter = 0;

/** An application_name no other test (or test file) uses. */
export function uniqueName(label: string): string {
  return `tb-${label}-${process.pid}-${++counter}`;
}

/** A pool on the test server whose backends can be found by their application_name. */
export function testPool(
  label: string,
  config: pg.PoolConfig = {},
): { pool: pg.Pool; name: string } {
  const name = uniqueName(label);
  const pool = new pg.Pool({ connectionString: pgUrl(), application_name: name, ...config });
  pool.on("error", () => {}); // an idle client closed by the server; the pool replaces it
  return { pool, name };
}

/** Runs `fn` with a {@link testPool}, and ends the pool however `fn` ends. */
export async function withPool(
  label: string,
  config: pg.PoolConfig,
  fn: (pool: pg.Pool, name: string) => Promise<void>,
): Promise<void> {
  const { pool, name } = testPool(label, config);
  try {
    await fn(pool, name);
  } finally {
    await pool.end();
  }
}

/** A connected client of its own on the test server. */
export async function testClient(label: string): Promise<{ client: pg.Client; name: string }> {
  const name = uniqueName(label);
  const client = new pg.Client({ connectionString: pgUrl(), application_name: name });
  client.on("error", () => {});
  await client.connect();
  return { client, name };
}

/** One row of pg_stat_activity. */
export interface Activity {
  readonly pid: number;
  readonly state: string | null;
  readonly query: string;
}

/** A connection that watches the server's view of other backends. */
export class Observer {
  private constructor(readonly client: pg.Client) {}

  static async open(): Promise<Observer> {
    const client = new pg.Client({ connectionString: pgUrl(), application_name: "tb-observer" });
    await client.connect();
    return new Observer(client);
  }

  /** Backends of `applicationName`. */
  async backends(applicationName: string): Promise<Activity[]> {
    const { rows } = await this.client.query<Activity>(
      "SELECT pid, state, query FROM pg_stat_activity WHERE application_name = $1",
      [applicationName],
    );
    return rows;
  }

  /** The backend `pid`, or undefined once it is gone. */
  async backend(pid: number): Promise<Activity | undefined> {
    const { rows } = await this.client.query<Activity>(
      "SELECT pid, state, query FROM pg_stat_activity WHERE pid = $1",
      [pid],
    );
    return rows[0];
  }

  /**
   * Polls until backend `pid` is no longer running a statement (idle or gone); resolves with
   * the ms that took, or rejects after `timeoutMs`.
   */
  async untilNotActive(pid: number, timeoutMs: number): Promise<number> {
    const start = now();
    for (;;) {
      const b = await this.backend(pid);
      if (b === undefined || b.state !== "active") return now() - start;
      if (now() - start > timeoutMs) {
        throw new Error(`backend ${pid} still active after ${timeoutMs} ms: ${b.query}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/**
 * An {@link Observer} opened before the file's tests and closed after them; call at the top
 * level of a test file, and call the result inside tests.
 */
export function sharedObserver(): () => Observer {
  let observer: Observer | undefined;
  before(async () => {
    observer = await Observer.open();
  });
  after(async () => {
    await observer?.close();
  });
  return () => {
    assert.ok(observer, "the observer opens before the tests");
    return observer;
  };
}

/** Collects what timebound/pg publishes about the statements it stops, until `stop()`. */
export function recordStops(): { messages: PgCancelMessage[]; stop: () => void } {
  const messages: PgCancelMessage[] = [];
  const onMessage = (m: unknown): void => {
    messages.push(m as PgCancelMessage);
  };
  diagnosticsChannel.subscribe("timebound:pg:cancel", onMessage);
  return { messages, stop: () => diagnosticsChannel.unsubscribe("timebound:pg:cancel", onMessage) };
}

/** The backend pid of a pool's only connection (for pools of max 1). */
export async function backendPid(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  return rows[0]!.pid;
}

/** Waits `ms`. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
