import { Redis, type RedisOptions } from "ioredis";
import { now } from "../../../src/index.js";
import { type ClientEntry, clientList, isBlocked } from "../../../src/io/redis/client-list.js";
import { redisUrl } from "../../services.js";

/** Clients made by {@link newClient}, disconnected by {@link disconnectAll}. */
const made = new Set<Redis>();
let counter = 0;

/**
 * An ioredis client to the test Redis, named `<prefix>-<n>-<pid>` (CLIENT SETNAME) so that the
 * server's CLIENT LIST tells this test's connections (and their dedicated ones) from others'.
 */
export function newClient(prefix: string, options: RedisOptions = {}): Redis {
  const url = new URL(redisUrl());
  const client = new Redis({
    host: url.hostname,
    port: Number(url.port),
    connectionName: `${prefix}-${++counter}-${process.pid}`,
    ...options,
  });
  client.on("error", () => {}); // some tests break connections on purpose
  made.add(client);
  return client;
}

export function disconnectAll(): void {
  for (const client of made) client.disconnect();
  made.clear();
}

/** The name a client was given by {@link newClient}. */
export function nameOf(client: Redis): string {
  return client.options.connectionName ?? "";
}

/** CLIENT LIST entries of `client` and the connections timebound opened for it. */
export async function connectionsOf(observer: Redis, client: Redis): Promise<ClientEntry[]> {
  const name = nameOf(client);
  return (await clientList(observer)).filter(
    (e) => e.name === name || e.name.startsWith(`${name}:`),
  );
}

/** Those of {@link connectionsOf} that the server has blocked right now. */
export async function blockedOf(observer: Redis, client: Redis): Promise<ClientEntry[]> {
  return (await connectionsOf(observer, client)).filter(isBlocked);
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 2_000,
): Promise<boolean> {
  const until = now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every command the server runs while `fn` runs, as MONITOR reports them (lower-case name first). */
export async function monitored(observer: Redis, fn: () => Promise<void>): Promise<string[][]> {
  const monitor = await observer.monitor();
  const seen: string[][] = [];
  monitor.on("monitor", (_time: string, args: string[]) => {
    seen.push([String(args[0]).toLowerCase(), ...args.slice(1)]);
  });
  try {
    await fn();
    // MONITOR reports commands in the order they ran: once this marker shows, fn's are in.
    const marker = uniqueKey("monitor-marker");
    await observer.echo(marker);
    await eventually(() => seen.some((c) => c[0] === "echo" && c[1] === marker), 1_000);
  } finally {
    monitor.disconnect();
  }
  return seen;
}

/** Runs `fn` and says how long it took to settle, and how. */
export async function timed(
  fn: () => Promise<unknown>,
): Promise<{ ms: number; value?: unknown; error?: unknown }> {
  const start = now();
  try {
    const value = await fn();
    return { ms: now() - start, value };
  } catch (error) {
    return { ms: now() - start, error };
  }
}

/** A key no other test (or run) uses. */
export function uniqueKey(what: string): string {
  return `test:${what}:${process.pid}:${++counter}`;
}
