import { now } from "../../core/index.js";
import type { WireConnection } from "./driver.js";

/**
 * @internal How long a session's own `statement_timeout`, once read, is trusted without reading it
 * again: a limit an administrator changes in the server's configuration reaches running sessions on
 * a reload, and the guard sees it within this.
 */
export const SESSION_LIMIT_TRUST_MS = 1_000;

/**
 * Statement texts that may change the session's own limit: SET or RESET of it, `set_config`
 * (whose arguments may be parameters), RESET ALL, DISCARD ALL, a configuration reload. A false
 * match only costs the next guard a read.
 */
const MAY_CHANGE_LIMIT = /statement_timeout|set_config|reset|discard|pg_reload_conf/i;

/**
 * @internal A session's own limit, and where its connection stood when that was last known true.
 */
export interface KnownLimit {
  /** The session's `statement_timeout` in ms; 0: none. */
  readonly ms: number;
  /** `stream.bytesWritten` after the last statement this process sent knowing the limit. */
  written: number | undefined;
  /** When the limit was read (`now()`). */
  readonly readAt: number;
}

/**
 * @internal Where a connection stood right after a statement that reads the session's limit was
 * written.
 */
export interface LimitRead {
  readonly connection: WireConnection;
  readonly written: number | undefined;
  readonly readAt: number;
  /** The statement sent with the read, which may itself change the limit. */
  readonly text: string;
}

const known = new WeakMap<WireConnection, KnownLimit>();

/**
 * @internal What this process knows of the connection's own `statement_timeout`, just before it
 * writes a statement on it: undefined unless it was read within {@link SESSION_LIMIT_TRUST_MS} and
 * nothing has been written on the connection since but statements that cannot change it. Anything
 * else written (by pg itself, by the caller through the client, a cancel barrier's Sync) means
 * "unknown".
 */
export function knownLimit(connection: WireConnection): KnownLimit | undefined {
  const limit = known.get(connection);
  if (limit === undefined) return undefined;
  const written = connection.stream.bytesWritten;
  if (
    written === undefined ||
    written !== limit.written ||
    now() - limit.readAt > SESSION_LIMIT_TRUST_MS
  ) {
    known.delete(connection);
    return undefined;
  }
  return limit;
}

/**
 * @internal Call right after writing `text` with `limit` known: keeps it known, unless `text` may
 * change it.
 */
export function wroteKnowing(connection: WireConnection, limit: KnownLimit, text: string): void {
  if (MAY_CHANGE_LIMIT.test(text)) known.delete(connection);
  else limit.written = connection.stream.bytesWritten;
}

/**
 * @internal Marks where the connection stands right after a statement that reads the limit was
 * written.
 */
export function startRead(connection: WireConnection, text: string): LimitRead {
  return { connection, written: connection.stream.bytesWritten, readAt: now(), text };
}

/**
 * @internal Records the limit a read reported, as `statement_timeout` in ms (text, as the server
 * sent it).
 */
export function finishRead(read: LimitRead, value: unknown): void {
  const text = typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString() : "";
  const ms = Number(text);
  if (text === "" || !Number.isSafeInteger(ms) || ms < 0 || MAY_CHANGE_LIMIT.test(read.text)) {
    return;
  }
  known.set(read.connection, { ms, written: read.written, readAt: read.readAt });
}
